// Builds the privacy capability: per-AppId policy (consent, minimum age, inactivity purge) and
// deletion requests. Built before the library and fusion modules (the library's enrolment
// applies the policy); deletion reaches those modules when it runs.
import type { App } from '../app.ts';
import { PrivacyRepo } from '../store/privacy-repo.ts';
import { DeletionService } from './deletion.ts';
import { PrivacyService, purgeRetiredPersons } from './privacy.ts';

export interface PrivacyModule {
  repo: PrivacyRepo;
  policy: PrivacyService;
  deletions: DeletionService;
  /** For the retention sweeper: purge persons past their consented term or unused too long. */
  purgeRetiredPersons(): Promise<Map<number, number>>;
  /** Finishes deletion requests a stopped process left running; errors go to the error log. */
  resume(): Promise<number>;
}

export function createPrivacyModule(app: App): PrivacyModule {
  const repo = new PrivacyRepo(app.db);
  const policy = new PrivacyService(repo, app.config.privacy, app.clock, app.audit);
  const deletions = new DeletionService({
    db: app.db, repo, blobs: app.blobs, errorLog: app.errorLog, keyring: app.keyring, keys: app.keyStore, clock: app.clock, audit: app.audit,
    library: () => app.library, materials: () => app.fusion.materials,
  });
  return {
    repo, policy, deletions,
    purgeRetiredPersons: () => purgeRetiredPersons({ privacy: policy, repo, library: app.library, clock: app.clock, audit: app.audit }),
    async resume() {
      try {
        await app.library.loaded.catch(() => {});
        return await deletions.resumeAll();
      } catch (e) {
        app.errorLog.append({ time: app.clock.now(), requestId: '-', code: 'InternalError', message: `resuming deletion requests failed (retried at next start): ${(e as Error).message}` });
        return 0;
      }
    },
  };
}
