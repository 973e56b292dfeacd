import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';
import { binary } from './column-types.ts';

export const m001_foundation = {
  async up(db: Kysely<any>, d: Dialect) {
    await db.schema.createTable('apps')
      .addColumn('app_id', 'bigint', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('root_uin', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('data_key_wrapped', binary(d))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('users')
      .addColumn('sub_uin', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('uin', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('is_root', 'integer', (c) => c.notNull())
      .addColumn('policy', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('users_app').on('users').columns(['app_id', 'name']).unique().execute();
    await db.schema.createTable('api_keys')
      .addColumn('secret_id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('sub_uin', 'text', (c) => c.notNull())
      .addColumn('secret_key_enc', binary(d), (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('api_keys_app').on('api_keys').column('app_id').execute();
    await db.schema.createTable('running_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('app_id', 'bigint')
      .addColumn('uin', 'text')
      .addColumn('sub_uin', 'text')
      .addColumn('client_ip', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('region', 'text', (c) => c.notNull())
      .addColumn('billed', 'integer', (c) => c.notNull())
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('latency_ms', 'integer', (c) => c.notNull())
      .addColumn('person_id', 'text')
      .addColumn('end_user_id', 'text')
      .addColumn('result', 'text')
      .addColumn('data_class', 'text', (c) => c.notNull().defaultTo('running_log'))
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema.createIndex('running_log_app_time').on('running_log').columns(['app_id', 'time']).execute();
    await db.schema.createIndex('running_log_person').on('running_log').columns(['app_id', 'person_id']).execute();
    await db.schema.createTable('blobs')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('owner_ref', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('blobs_expiry').on('blobs').columns(['expires_at']).execute();
    await db.schema.createIndex('blobs_owner').on('blobs').columns(['app_id', 'owner_ref']).execute();
  },
};
