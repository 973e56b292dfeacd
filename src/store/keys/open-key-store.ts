// Picks the key store's backend (its own module, so the backends can import the interface
// without a cycle).
import { DEFAULT_PG_KEY_SCHEMA, keyStoreFile, type KeyStore, type KeyStoreOptions } from './key-store.ts';

/**
 * The default follows the data database: SQLite deployments keep the keys in their own SQLite
 * file under <data>/keys/; PostgreSQL deployments in their own schema (facevault_keys) of the
 * same database, unless FACEVAULT_KEYSTORE_URL names another database or a file.
 */
export async function openKeyStore(o: KeyStoreOptions): Promise<KeyStore> {
  const url = o.url ?? o.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const { PgKeyStore } = await import('./key-store-pg.ts');
    const schema = o.pgSchema && !o.url ? `${o.pgSchema}_keys` : DEFAULT_PG_KEY_SCHEMA;
    return PgKeyStore.open(url, schema, o.queryTimeoutMs);
  }
  const { SqliteKeyStore } = await import('./key-store-sqlite.ts');
  return SqliteKeyStore.open(o.url ?? keyStoreFile(o.dataDir));
}
