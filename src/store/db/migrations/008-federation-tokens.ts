// Temporary credentials (sts GetFederationToken): the token is kept only as its SHA-256 (it is
// a bearer secret checked by equality); the temporary SecretKey is sealed like api_keys'
// (it is needed in clear to check HMACs). Rows expire; the sweeper removes them.
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';
import { binary } from './column-types.ts';

export const m008_federation_tokens = {
  async up(db: Kysely<any>, d: Dialect) {
    await db.schema.createTable('federation_tokens')
      .addColumn('tmp_secret_id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('parent_secret_id', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull())
      .addColumn('tmp_secret_key_enc', binary(d), (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('session_policy', 'text', (c) => c.notNull()) // JSON {allow: string[], deny: string[]}
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('federation_tokens_expires').on('federation_tokens').columns(['expires_at']).execute();
    await db.schema.createIndex('federation_tokens_parent').on('federation_tokens').columns(['parent_secret_id']).execute();
  },
};
