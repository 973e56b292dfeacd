// Builds the privacy capability in two steps, because the face library sits between them:
// the per-AppId policy (consent, minimum age, inactivity) is built first, since enrolment
// applies it; deletion requests and the inactivity purge are built after the library and
// fusion, since they erase there — each table through the repository that owns it.
import type { Clock } from '../../domain/clock.ts';
import type { Db } from '../../store/db/db.ts';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { BlobRecords } from '../../store/blobs/blob-records.ts';
import type { AccountsRepo } from '../../store/accounts/accounts-repo.ts';
import type { FusionRepo } from '../../store/fusion/fusion-repo.ts';
import type { ErrorLog } from '../../store/logs/error-log.ts';
import type { RunningLogRepo } from '../../store/logs/running-log-repo.ts';
import type { Keyring } from '../../store/keys/keyring.ts';
import type { KeyStore } from '../../store/keys/key-store.ts';
import { PrivacyRepo } from '../../store/privacy/privacy-repo.ts';
import type { AuditLog } from '../accounts/audit.ts';
import type { FusionMaterials } from '../fusion/fusion-materials.ts';
import type { LibraryModule } from '../library/library-module.ts';
import { DeletionService } from './deletion.ts';
import type { JobLease } from '../../domain/job-lease.ts';
import { PrivacyService, purgeRetiredPersons, type PersonUse, type PrivacyDefaults } from './privacy.ts';
import type { VideoRepo } from '../../store/video/video-repo.ts';

export interface PrivacyPolicyModule {
  repo: PrivacyRepo;
  policy: PrivacyService;
}

export interface PrivacyModule extends PrivacyPolicyModule {
  deletions: DeletionService;
  /** For the retention sweeper: purge persons past their consented term or unused too long. */
  purgeRetiredPersons(): Promise<Map<number, number>>;
  /** Finishes deletion requests a stopped process left running; errors are reported. */
  resume(): Promise<number>;
}

/** `persons`: where recognition records a person's last use (the library's repository). */
export function createPrivacyPolicy(d: { db: Db; persons: PersonUse; defaults: PrivacyDefaults; clock: Clock; audit: AuditLog }): PrivacyPolicyModule {
  const repo = new PrivacyRepo(d.db);
  return { repo, policy: new PrivacyService(repo, d.persons, d.defaults, d.clock, d.audit) };
}

export interface PrivacyDeps {
  base: PrivacyPolicyModule;
  db: Db;
  blobs: BlobStore;
  errorLog: ErrorLog;
  keyring: Keyring;
  keyStore: KeyStore;
  clock: Clock;
  audit: AuditLog;
  library: LibraryModule;
  /** Fusion rows (results, log, activities) and the material service that deletes activities with their objects. */
  fusion: { repo: FusionRepo; materials: FusionMaterials };
  /** Video materials' rows and video jobs (store/video). */
  video: VideoRepo;
  runningLog: RunningLogRepo;
  accounts: AccountsRepo;
  blobRecords: BlobRecords;
  report(e: Error): void;
  /** This process's lease on deletion requests it runs (domain/job-lease.ts). */
  lease?: JobLease;
}

export function createPrivacyModule(d: PrivacyDeps): PrivacyModule {
  const { repo, policy } = d.base;
  const deletions = new DeletionService({
    db: d.db, repo, blobs: d.blobs, blobRecords: d.blobRecords, errorLog: d.errorLog, keyring: d.keyring, keys: d.keyStore, clock: d.clock, audit: d.audit,
    library: d.library, fusion: d.fusion.repo, video: d.video, materials: d.fusion.materials, runningLog: d.runningLog, accounts: d.accounts, lease: d.lease,
  });
  return {
    repo, policy, deletions,
    purgeRetiredPersons: () => purgeRetiredPersons({ privacy: policy, library: d.library, clock: d.clock, audit: d.audit }),
    async resume() {
      try {
        await d.library.loaded.catch(() => {});
        return await deletions.resumeAll();
      } catch (e) {
        d.report(new Error(`resuming deletion requests failed (retried at next start): ${(e as Error).message}`));
        return 0;
      }
    },
  };
}
