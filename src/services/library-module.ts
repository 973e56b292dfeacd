// Builds the face library capability (groups, persons, faces, search) from the app's stores.
import type { App } from '../app.ts';
import { FeatureCrypto } from '../store/feature-crypto.ts';
import { LibraryIndex } from '../store/library-index.ts';
import { LibraryRepo } from '../store/library-repo.ts';
import { EnrolmentImages } from '../store/enrolment-images.ts';
import { ModelUpgradesRepo } from '../store/model-upgrades-repo.ts';
import { ModelUpgradeService } from './face-model-upgrade.ts';
import { GroupsService } from './face-groups.ts';
import { PersonsService } from './face-persons.ts';
import { SearchService } from './face-search.ts';
import type { LibraryContext } from './library-context.ts';
import type { FaceSource, ScoreScale } from './library-deps.ts';
import { visionFaceSource } from './face-source.ts';
import { scoreScale } from '../vision/calibration.ts';
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
  /** Resolves once every AppId's index has been rebuilt from the database. */
  loaded: Promise<void>;
}

export function createLibraryModule(app: App, opts: { faces?: FaceSource; scale?: ScoreScale; limits?: Partial<LibraryLimits> } = {}): LibraryModule {
  const repo = new LibraryRepo(app.db);
  const crypto = new FeatureCrypto(app.keyStore, app.keyring);
  const index = new LibraryIndex(repo, crypto);
  // Decoding and inference run in app.vision's worker pool; Url inputs use its SSRF-safe fetch.
  const faces = opts.faces ?? visionFaceSource(app.vision);
  const ctx: LibraryContext = { repo, index, crypto, clock: app.clock, faces, scale: opts.scale ?? scoreScale(), limits: { ...TENCENT_LIMITS, ...opts.limits }, privacy: app.privacy?.policy, images: new EnrolmentImages(app.blobs, crypto) };
  // Rebuild in the background; every search awaits its app's sync, which waits for the load.
  const loaded = index.loadAll();
  loaded.catch((e) => app.errorLog.append({ time: app.clock.now(), requestId: '-', code: 'InternalError', message: `search index rebuild failed: ${(e as Error).message}` }));
  const report = (e: Error) => app.errorLog.append({ time: app.clock.now(), requestId: '-', code: 'InternalError', message: e.message });
  const upgrades = new ModelUpgradeService(ctx, new ModelUpgradesRepo(app.db), report);
  loaded.then(() => upgrades.resume()).catch((e) => report(new Error(`model upgrade jobs did not resume: ${(e as Error).message}`)));
  return {
    repo, index, loaded, crypto, upgrades, images: ctx.images!,
    groups: new GroupsService(ctx),
    persons: new PersonsService(ctx),
    search: new SearchService(ctx),
    modelVersions: () => faces.modelVersions(),
  };
}
