// Builds the retention sweeper and its scheduler from the app's stores. `serve` starts the
// scheduler; CLI commands and tests call sweeper.sweep() directly.
import crypto from 'node:crypto';
import type { App } from '../app.ts';
import { TcError } from '../domain/errors.ts';
import { rulesFromConfig } from '../domain/retention-policy.ts';
import { RetentionSweeper, type SweepReport } from './retention-sweeper.ts';
import { JobScheduler } from './scheduler.ts';

export interface RetentionModule {
  sweeper: RetentionSweeper;
  scheduler: JobScheduler;
  lastReport: SweepReport | null;
}

// The library deletes as the system, not as a tenant's user; the AppId still scopes every write.
const system = (appId: number) => ({ appId, uin: 'retention', subUin: 'retention' });
const ignoreGone = (e: unknown) => {
  if (e instanceof TcError && /NotExist|NotFound/i.test(e.code)) return;
  throw e;
};

export function createRetention(app: App): RetentionModule {
  const sweeper = new RetentionSweeper({
    db: app.db, blobs: app.blobs, clock: app.clock, errorLog: app.errorLog,
    library: {
      deletePerson: (appId, personId) => app.library.persons.delete(system(appId), personId).then(() => {}, ignoreGone),
      deleteGroup: (appId, groupId) => app.library.groups.delete(system(appId), groupId).then(() => {}, ignoreGone),
    },
  });
  const mod: RetentionModule = { sweeper, scheduler: null as unknown as JobScheduler, lastReport: null };
  // Processes of one deployment share its database; deployments sharing a Redis must not share a lock.
  const deployment = crypto.createHash('sha256').update(`${app.config.databaseUrl ?? app.config.dataDir}|${app.db.pgSchema ?? ''}`).digest('hex').slice(0, 16);
  mod.scheduler = new JobScheduler(async () => {
    const report = await sweeper.sweep();
    mod.lastReport = report;
    if (report.errors.length) {
      app.errorLog.append({ time: app.clock.now(), requestId: '-', code: 'InternalError', stage: 'retention-sweep', message: report.errors.join('; ') });
    }
  }, {
    name: 'retention-sweep', intervalMs: app.config.retention.sweepIntervalMs, clock: app.clock, redisUrl: app.config.redisUrl, keyPrefix: `facevault:${deployment}`,
    onError: (e) => app.errorLog.append({ time: app.clock.now(), requestId: '-', code: 'InternalError', stage: 'retention-scheduler', message: e.message }),
  });
  app.onClose(() => mod.scheduler.stop());
  return mod;
}

/** Records the effective retention policy in the audit log when it differs from the last one recorded. */
export async function auditRetentionPolicy(app: App): Promise<boolean> {
  const policy = Object.fromEntries(rulesFromConfig(app.config).map((r) => [r.dataClass, r.maxBytes !== undefined ? { maxBytes: r.maxBytes } : { retainMs: r.retainMs }]));
  const last = await app.audit.last('retention.policy');
  if (last && JSON.stringify(last.details.policy) === JSON.stringify(policy)) return false;
  await app.audit.append({ actor: 'operator', action: 'retention.policy', details: { policy, sweepIntervalMs: app.config.retention.sweepIntervalMs } });
  return true;
}
