// Audit log rows. Appends are serialised (a table lock on PostgreSQL, SQLite's single writer)
// so that each row's prev_hash is the hash of the row before it, across processes.
import { sql } from 'kysely';
import type { Db } from '../db/db.ts';
import type { AuditLogTable } from '../db/schema.ts';

export type AuditRow = AuditLogTable;

export class AuditRepo {
  constructor(private readonly db: Db) {}

  /** Runs `build(last)` and inserts its row in one transaction that holds the append lock. */
  async appendAfterLast(build: (last: AuditRow | undefined) => AuditRow): Promise<AuditRow> {
    return this.db.kysely.transaction().execute(async (tx) => {
      if (this.db.dialect === 'postgres') await sql`lock table audit_log in share row exclusive mode`.execute(tx);
      const last = await tx.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const row = build(last);
      await tx.insertInto('audit_log').values(row).execute();
      return row;
    });
  }

  /** Rows in chain order, a page at a time. */
  async page(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return this.db.kysely.selectFrom('audit_log').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
  }

  async list(o: { appId?: number; action?: string; limit: number }): Promise<AuditRow[]> {
    let q = this.db.kysely.selectFrom('audit_log').selectAll();
    if (o.appId !== undefined) q = q.where('app_id', '=', o.appId);
    if (o.action !== undefined) q = q.where('action', '=', o.action);
    return q.orderBy('seq', 'desc').limit(o.limit).execute();
  }

  async last(action?: string): Promise<AuditRow | undefined> {
    let q = this.db.kysely.selectFrom('audit_log').selectAll();
    if (action !== undefined) q = q.where('action', '=', action);
    return q.orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }
}
