// Console sessions by token hash. Reads that serve a request check the expiry in SQL, so an
// ended session is never honoured even before the sweeper removes its row.
import type { Db } from '../db/db.ts';
import type { ConsoleSessionsTable } from '../db/schema.ts';

export type ConsoleSessionRow = ConsoleSessionsTable;

export class ConsoleSessionsRepo {
  constructor(private readonly db: Db) {}

  async insert(row: ConsoleSessionRow): Promise<void> {
    await this.db.kysely.insertInto('console_sessions').values(row).execute();
  }

  async live(tokenHash: string, now: number): Promise<ConsoleSessionRow | undefined> {
    const r = await this.db.kysely.selectFrom('console_sessions').selectAll().where('token_hash', '=', tokenHash).where('expires_at', '>', now).executeTakeFirst();
    return r && { ...r, app_id: Number(r.app_id), created_at: Number(r.created_at), last_seen_at: Number(r.last_seen_at), expires_at: Number(r.expires_at) };
  }

  async touch(tokenHash: string, lastSeenAt: number, expiresAt: number): Promise<void> {
    await this.db.kysely.updateTable('console_sessions').set({ last_seen_at: lastSeenAt, expires_at: expiresAt }).where('token_hash', '=', tokenHash).execute();
  }

  async delete(tokenHash: string): Promise<boolean> {
    const r = await this.db.kysely.deleteFrom('console_sessions').where('token_hash', '=', tokenHash).executeTakeFirst();
    return Number(r.numDeletedRows ?? 0) > 0;
  }

  /** Every session signed in with this key (a disabled key ends them). */
  async deleteByKey(appId: number, secretId: string): Promise<number> {
    const r = await this.db.kysely.deleteFrom('console_sessions').where('app_id', '=', appId).where('secret_id', '=', secretId).executeTakeFirst();
    return Number(r.numDeletedRows ?? 0);
  }
}
