// Usage counts from the running log, grouped in SQL by UTC day (integer division of the ms
// timestamp works the same on SQLite and PostgreSQL) so a month of calls is one indexed scan.
import { sql } from 'kysely';
import type { Db } from '../db/db.ts';

export interface UsageCell { appId: number; service: string; action: string; day: number; billed: boolean; failed: boolean; calls: number }

export interface LatencyCell { service: string; action: string; bucket: number; calls: number; errors: number; maxMs: number; sumMs: number }

/** Upper edges (ms) of the latency histogram's buckets, about 1.5x apart; the last bucket is open. */
export const LATENCY_EDGES_MS = [1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000, 7000, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000];

export class UsageRepo {
  constructor(private readonly db: Db) {}

  async daily(o: { appId?: number; from: number; to: number; service?: string; action?: string }): Promise<UsageCell[]> {
    const conds = [sql`app_id is not null`, sql`time >= ${o.from}`, sql`time < ${o.to}`];
    if (o.appId !== undefined) conds.push(sql`app_id = ${o.appId}`);
    if (o.service !== undefined) conds.push(sql`service = ${o.service}`);
    if (o.action !== undefined) conds.push(sql`action = ${o.action}`);
    const day = sql`(time / 86400000)`;
    const failed = sql`(case when code = '' then 0 else 1 end)`;
    const r = await sql<{ app_id: number; service: string; action: string; day: number; billed: number; failed: number; n: number }>`
      select app_id, service, action, ${day} as day, billed, ${failed} as failed, count(*) as n
      from running_log where ${sql.join(conds, sql` and `)}
      group by app_id, service, action, ${day}, billed, ${failed}`.execute(this.db.kysely);
    return r.rows.map((x) => ({ appId: Number(x.app_id), service: x.service, action: x.action, day: Number(x.day), billed: Number(x.billed) === 1, failed: Number(x.failed) === 1, calls: Number(x.n) }));
  }

  /**
   * Calls per action and latency bucket: a histogram computed in SQL (one scan, the same on
   * SQLite and PostgreSQL) instead of reading every call's latency into memory.
   */
  async latency(o: { appId: number; from: number; to: number }): Promise<LatencyCell[]> {
    const bucket = sql.raw(`(case ${LATENCY_EDGES_MS.map((e, i) => `when latency_ms < ${e} then ${i}`).join(' ')} else ${LATENCY_EDGES_MS.length} end)`);
    const r = await sql<{ service: string; action: string; bucket: number; n: number; errors: number; max_ms: number; sum_ms: number }>`
      select service, action, ${bucket} as bucket, count(*) as n, sum(case when code = '' then 0 else 1 end) as errors,
        max(latency_ms) as max_ms, sum(latency_ms) as sum_ms
      from running_log where app_id = ${o.appId} and time >= ${o.from} and time < ${o.to}
      group by service, action, ${bucket}`.execute(this.db.kysely);
    return r.rows.map((x) => ({ service: x.service, action: x.action, bucket: Number(x.bucket), calls: Number(x.n), errors: Number(x.errors), maxMs: Number(x.max_ms), sumMs: Number(x.sum_ms) }));
  }
}
