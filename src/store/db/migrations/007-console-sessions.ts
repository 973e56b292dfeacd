// Console sign-in sessions (api/routes/console.ts). Only a hash of the session token is kept,
// so a copy of the database does not sign anyone in; expires_at lets the retention sweeper
// remove ended sessions like any other expiring row.
import type { Kysely } from 'kysely';

export const m007_console_sessions = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('console_sessions')
      .addColumn('token_hash', 'text', (c) => c.primaryKey()) // sha256 hex of the cookie value
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('sub_uin', 'text', (c) => c.notNull())
      .addColumn('secret_id', 'text', (c) => c.notNull()) // the key signed in with: disabling it ends the session
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('console_sessions_app').on('console_sessions').columns(['app_id']).execute();
  },
};
