// Builds the retention sweeper and its scheduler from the stores it sweeps. `serve` starts the
// scheduler; CLI commands and tests call sweeper.sweep() directly.
import type { Clock } from '../domain/clock.ts';
import { TcError } from '../domain/errors.ts';
import type { RetentionRule } from '../domain/retention-policy.ts';
import type { Db } from '../store/db/db.ts';
import { ExpiryRepo } from '../store/db/expiry.ts';
import { BlobRecords } from '../store/blobs/blob-records.ts';
import type { BlobStore } from '../store/blobs/blob-store.ts';
import type { ErrorLog } from '../store/logs/error-log.ts';
import type { AuditLog } from '../services/accounts/audit.ts';
import type { LibraryModule } from '../services/library/library-module.ts';
import { RetentionSweeper, type SweepReport } from './retention-sweeper.ts';
import { JobScheduler } from './scheduler.ts';
import { sweepOrphanObjects } from './orphan-objects.ts';

export interface RetentionModule {
  sweeper: RetentionSweeper;
  scheduler: JobScheduler;
  readonly lastReport: SweepReport | null;
}

// The library deletes as the system, not as a tenant's user; the AppId still scopes every write.
const system = (appId: number) => ({ appId, uin: 'retention', subUin: 'retention' });
const ignoreGone = (e: unknown) => {
  if (e instanceof TcError && /NotExist|NotFound/i.test(e.code)) return;
  throw e;
};

export interface RetentionDeps {
  db: Db;
  blobs: BlobStore;
  clock: Clock;
  errorLog: ErrorLog;
  library: LibraryModule;
  sweepIntervalMs: number;
  /** Objects no row names are deleted once older than this (orphan-objects.ts). */
  orphanGraceMs?: number;
  redisUrl: string | null;
  /** Processes of one deployment share its database; deployments sharing a Redis must not share a lock. */
  deploymentId: string;
  report(stage: string, e: Error): void;
}

export function createRetention(d: RetentionDeps): RetentionModule {
  const sweeper = new RetentionSweeper({
    expiry: new ExpiryRepo(d.db), blobRecords: new BlobRecords(d.db), blobs: d.blobs, clock: d.clock, errorLog: d.errorLog,
    library: {
      deletePerson: (appId, personId) => d.library.persons.delete(system(appId), personId).then(() => {}, ignoreGone),
      deleteGroup: (appId, groupId) => d.library.groups.delete(system(appId), groupId).then(() => {}, ignoreGone),
    },
  });
  const records = new BlobRecords(d.db);
  sweeper.addTask('orphan_objects', (now) => sweepOrphanObjects(d.blobs, records, now, d.orphanGraceMs ?? 3_600_000));
  let lastReport: SweepReport | null = null;
  const scheduler = new JobScheduler(async () => {
    const report = await sweeper.sweep();
    lastReport = report;
    if (report.errors.length) d.report('retention-sweep', new Error(report.errors.join('; ')));
  }, {
    name: 'retention-sweep', intervalMs: d.sweepIntervalMs, clock: d.clock, redisUrl: d.redisUrl, keyPrefix: `facevault:${d.deploymentId}`,
    onError: (e) => d.report('retention-scheduler', e),
  });
  return { sweeper, scheduler, get lastReport() { return lastReport; } };
}

/** Records the effective retention policy in the audit log when it differs from the last one recorded. */
export async function auditRetentionPolicy(audit: AuditLog, rules: RetentionRule[], sweepIntervalMs: number): Promise<boolean> {
  const policy = Object.fromEntries(rules.map((r) => [r.dataClass, r.maxBytes !== undefined ? { maxBytes: r.maxBytes } : { retainMs: r.retainMs }]));
  const last = await audit.last('retention.policy');
  if (last && JSON.stringify(last.details.policy) === JSON.stringify(policy)) return false;
  await audit.append({ actor: 'operator', action: 'retention.policy', details: { policy, sweepIntervalMs } });
  return true;
}
