// Usage counts from the running log, grouped in SQL by UTC day (integer division of the ms
// timestamp works the same on SQLite and PostgreSQL) so a month of calls is one indexed scan.
import { sql } from 'kysely';
import type { Db } from '../db/db.ts';

export interface UsageCell { appId: number; service: string; action: string; day: number; billed: boolean; failed: boolean; calls: number }

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
}
