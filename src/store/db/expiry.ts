// Expiry across every table: each table that holds customer data carries `expires_at`
// (schema.ts), so the retention sweeper finds them by introspection — a table added later is
// swept without a change anywhere — and deletes by physical row id, which works for any key
// shape. The object store's registry (`blobs`) has its own queries (blobs/blob-records.ts),
// because its objects must go before its rows.
import { sql } from 'kysely';
import type { Db } from './db.ts';
import { schemaTables } from './tables.ts';

export class ExpiryRepo {
  private tables: string[] | null = null;

  constructor(private readonly db: Db) {}

  /** Tables (not views) of this database's schema with an `expires_at` column; found once per process. */
  async expiringTables(): Promise<string[]> {
    if (this.tables) return this.tables;
    this.tables = (await schemaTables(this.db)).filter((t) => t.columns.includes('expires_at')).map((t) => t.name).sort();
    return this.tables;
  }

  /**
   * Deletes the table's rows expired at `now` in batches of `batch` (SQLite rowid, PostgreSQL
   * ctid), each batch committing on its own: an interrupted sweep leaves only expired rows.
   */
  async deleteExpired(table: string, now: number, batch: number): Promise<number> {
    const t = sql.table(table);
    let total = 0;
    for (;;) {
      const r = this.db.dialect === 'postgres'
        ? await sql`delete from ${t} where ctid = any(array(select ctid from ${t} where expires_at <= ${now} limit ${batch}))`.execute(this.db.kysely)
        : await sql`delete from ${t} where rowid in (select rowid from ${t} where expires_at <= ${now} limit ${batch})`.execute(this.db.kysely);
      const n = Number(r.numAffectedRows ?? 0);
      total += n;
      if (n < batch) return total;
    }
  }

  /** Expired persons, for deletion through the library (which keeps the search index in step). */
  async expiredPersons(now: number, limit: number): Promise<{ appId: number; personId: string }[]> {
    const rows = await this.db.kysely.selectFrom('persons').select(['app_id', 'person_id']).where('expires_at', '<=', now).limit(limit).execute();
    return rows.map((r) => ({ appId: Number(r.app_id), personId: r.person_id }));
  }

  /** Expired groups, for deletion through the library. */
  async expiredGroups(now: number, limit: number): Promise<{ appId: number; groupId: string }[]> {
    const rows = await this.db.kysely.selectFrom('face_groups').select(['app_id', 'group_id']).where('expires_at', '<=', now).limit(limit).execute();
    return rows.map((r) => ({ appId: Number(r.app_id), groupId: r.group_id }));
  }

  async countExpired(table: 'faces' | 'group_persons', now: number): Promise<number> {
    const c = await this.db.kysely.selectFrom(table).select((e) => e.fn.countAll<number>().as('n')).where('expires_at', '<=', now).executeTakeFirstOrThrow();
    return Number(c.n);
  }
}
