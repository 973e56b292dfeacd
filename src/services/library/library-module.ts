// Builds the face library capability (groups, persons, faces, search) from the stores it uses.
import type { Clock } from '../../domain/clock.ts';
import type { Db } from '../../store/db/db.ts';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { Keyring } from '../../store/keys/keyring.ts';
import type { KeyStore } from '../../store/keys/key-store.ts';
import type { VisionEngine } from '../media/vision-engine.ts';
import type { EnrolmentPolicy } from './library-deps.ts';
import { FeatureCrypto } from '../../store/keys/feature-crypto.ts';
import { LibraryIndex } from './library-index.ts';
import { LibraryRepo } from '../../store/library/library-repo.ts';
import { EnrolmentImages } from '../../store/library/enrolment-images.ts';
import { ModelUpgradesRepo } from '../../store/library/model-upgrades-repo.ts';
import { ModelUpgradeService } from './face-model-upgrade.ts';
import type { JobLease } from '../../domain/job-lease.ts';
import { GroupsService } from './face-groups.ts';
import { PersonsService } from './face-persons.ts';
import { SearchService } from './face-search.ts';
import type { LibraryContext } from './library-context.ts';
import type { FaceSource, ScoreScale } from './library-deps.ts';
import { visionFaceSource } from './face-source.ts';
import { scoreScale } from '../../vision/calibration.ts';
import { TENCENT_LIMITS, type LibraryLimits } from './library-limits.ts';

export interface LibraryModule {
  repo: LibraryRepo;
  index: LibraryIndex;
  /** Feature sealing and the cached data keys (deletion requests forget a shredded key). */
  crypto: FeatureCrypto;
  groups: GroupsService;
  persons: PersonsService;
  search: SearchService;
  /** Group model upgrades (jobs resume on start, after the index has loaded). */
  upgrades: ModelUpgradeService;
  /** Kept enrolment images (groups created with KeepEnrolmentImages). */
  images: EnrolmentImages;
  modelVersions(): string[];
  /** Resolves once every AppId's index has been rebuilt from the database (rejects if closed first). */
  loaded: Promise<void>;
}

export interface LibraryDeps {
  db: Db;
  /** The library's repository, when the composition root shares it (privacy records person use through it). */
  repo?: LibraryRepo;
  keyring: Keyring;
  /** The per-AppId data keys (kept apart from the data). */
  keyStore: KeyStore;
  blobs: BlobStore;
  clock: Clock;
  /** Decoding and inference in the shared worker pool; Url inputs through its SSRF-safe fetch. */
  vision: VisionEngine;
  /** Consent and minimum-age rules applied at enrolment (the privacy capability's policy). */
  policy?: EnrolmentPolicy;
  /** Background failures (index rebuild, upgrade jobs) go to the error log through this. */
  report(e: Error): void;
  /** This process's lease on the upgrade jobs it runs (domain/job-lease.ts). */
  lease?: JobLease;
}

export function createLibraryModule(d: LibraryDeps, opts: { faces?: FaceSource; scale?: ScoreScale; limits?: Partial<LibraryLimits>; searchThreads?: number; searchWorkerMinRows?: number } = {}): LibraryModule {
  const repo = d.repo ?? new LibraryRepo(d.db);
  const crypto = new FeatureCrypto(d.keyStore, d.keyring);
  const index = new LibraryIndex(repo, crypto, { threads: opts.searchThreads ?? 0, minRows: opts.searchWorkerMinRows });
  const faces = opts.faces ?? visionFaceSource(d.vision);
  const ctx: LibraryContext = { repo, index, crypto, clock: d.clock, faces, scale: opts.scale ?? scoreScale(), limits: { ...TENCENT_LIMITS, ...opts.limits }, privacy: d.policy, images: new EnrolmentImages(d.blobs, crypto) };
  // Rebuild in the background, retried until it succeeds (/readyz is false until then); every
  // search awaits its app's sync, which waits for the load.
  const report = d.report;
  const loaded = index.loadAllRetrying(report);
  loaded.catch(() => {}); // rejects only when the app closes first
  const upgrades = new ModelUpgradeService(ctx, new ModelUpgradesRepo(d.db), report, d.lease);
  loaded.then(() => upgrades.resume().catch((e) => report(new Error(`model upgrade jobs did not resume: ${(e as Error).message}`))), () => {});
  return {
    repo, index, loaded, crypto, upgrades, images: ctx.images!,
    groups: new GroupsService(ctx),
    persons: new PersonsService(ctx),
    search: new SearchService(ctx),
    modelVersions: () => faces.modelVersions(),
  };
}
