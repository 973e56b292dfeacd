// Builds the privacy capability in two steps, because the face library sits between them:
// the per-AppId policy (consent, minimum age, inactivity) is built first, since enrolment
// applies it; deletion requests and the inactivity purge are built after the library and
// fusion, since they erase there.
import type { Clock } from '../../domain/clock.ts';
import type { Db } from '../../store/db/db.ts';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { ErrorLog } from '../../store/logs/error-log.ts';
import type { Keyring } from '../../store/keys/keyring.ts';
import type { KeyStore } from '../../store/keys/key-store.ts';
import { PrivacyRepo } from '../../store/privacy/privacy-repo.ts';
import type { AuditLog } from '../accounts/audit.ts';
import type { FusionMaterials } from '../fusion/fusion-materials.ts';
import type { LibraryModule } from '../library/library-module.ts';
import { DeletionService } from './deletion.ts';
import { PrivacyService, purgeRetiredPersons, type PrivacyDefaults } from './privacy.ts';

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

export function createPrivacyPolicy(d: { db: Db; defaults: PrivacyDefaults; clock: Clock; audit: AuditLog }): PrivacyPolicyModule {
  const repo = new PrivacyRepo(d.db);
  return { repo, policy: new PrivacyService(repo, d.defaults, d.clock, d.audit) };
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
  materials: FusionMaterials;
  report(e: Error): void;
}

export function createPrivacyModule(d: PrivacyDeps): PrivacyModule {
  const { repo, policy } = d.base;
  const deletions = new DeletionService({
    db: d.db, repo, blobs: d.blobs, errorLog: d.errorLog, keyring: d.keyring, keys: d.keyStore, clock: d.clock, audit: d.audit,
    library: d.library, materials: d.materials,
  });
  return {
    repo, policy, deletions,
    purgeRetiredPersons: () => purgeRetiredPersons({ privacy: policy, repo, library: d.library, clock: d.clock, audit: d.audit }),
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
