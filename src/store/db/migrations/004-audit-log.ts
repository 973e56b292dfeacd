// Audit log of administrative and privacy actions: append-only and hash-chained (each row
// stores the previous row's hash), so editing or removing a row breaks the chain.
import type { Kysely } from 'kysely';

export const m004_audit_log = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('audit_log')
      .addColumn('seq', 'bigint', (c) => c.primaryKey()) // 1, 2, 3... with no gaps
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('app_id', 'bigint')
      .addColumn('target', 'text')
      .addColumn('details', 'text', (c) => c.notNull()) // JSON object, no personal data
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema.createIndex('audit_log_app').on('audit_log').columns(['app_id', 'seq']).execute();
  },
};
