// The scaled key store: table data_keys in a schema of its own (default facevault_keys, in the
// data database unless FACEVAULT_KEYSTORE_URL names another), so that a dump of the data schema
// leaves the keys out and the keys get their own backup policy (docs/PRIVACY.md).
// PostgreSQL keeps an updated row's old version until VACUUM reclaims it; erase() vacuums the
// table at once (best effort) so the erased key's tuple does not wait for autovacuum.
import { KeyStoreRefusal, type KeyStore, type StoredKey } from './key-store.ts';
import { CONNECT_TIMEOUT_MS, guardPool } from '../db/pg-guard.ts';

type Pool = import('pg').Pool;

export class PgKeyStore implements KeyStore {
  readonly kind: string;

  private constructor(private readonly pool: Pool, private readonly table: string, schema: string) {
    this.kind = `postgres schema ${schema}`;
  }

  static async open(url: string, schema: string, queryTimeoutMs?: number): Promise<PgKeyStore> {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`key store schema name "${schema}" is not a plain identifier`);
    const pg = (await import('pg')).default;
    const pool = guardPool(new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: CONNECT_TIMEOUT_MS }), 'KeyStore', queryTimeoutMs);
    const table = `"${schema}".data_keys`;
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (app_id bigint PRIMARY KEY, wrapped bytea, created_at bigint NOT NULL, erased_at bigint)`);
    return new PgKeyStore(pool, table, schema);
  }

  async get(appId: number): Promise<StoredKey> {
    const r = await this.pool.query<{ wrapped: Buffer | null; erased_at: string | null }>(`SELECT wrapped, erased_at FROM ${this.table} WHERE app_id = $1`, [appId]);
    const row = r.rows[0];
    if (!row) return { state: 'absent' };
    if (row.erased_at !== null || !row.wrapped) return { state: 'erased', erasedAt: Number(row.erased_at ?? 0) };
    return { state: 'present', wrapped: row.wrapped };
  }

  async put(appId: number, wrapped: Buffer): Promise<void> {
    // Insert-if-absent in one statement; then whatever row is there decides.
    await this.pool.query(`INSERT INTO ${this.table} (app_id, wrapped, created_at, erased_at) VALUES ($1, $2, $3, NULL) ON CONFLICT (app_id) DO NOTHING`, [appId, wrapped, Date.now()]);
    const now = await this.get(appId);
    if (now.state === 'erased') throw new KeyStoreRefusal(appId, 'erased');
    if (now.state === 'present' && !now.wrapped.equals(wrapped)) throw new KeyStoreRefusal(appId, 'conflict');
    if (now.state === 'absent') throw new Error(`key store: the key of AppId ${appId} was not stored`);
  }

  async erase(appId: number, at: number): Promise<boolean> {
    const r = await this.pool.query<{ had: boolean }>(
      `INSERT INTO ${this.table} AS k (app_id, wrapped, created_at, erased_at) VALUES ($1, NULL, $2, $2)
       ON CONFLICT (app_id) DO UPDATE SET wrapped = NULL, erased_at = COALESCE(k.erased_at, EXCLUDED.erased_at)
       RETURNING (SELECT wrapped IS NOT NULL FROM ${this.table} WHERE app_id = $1) AS had`, [appId, at]);
    await this.pool.query(`VACUUM ${this.table}`).catch(() => {});
    return r.rows[0]?.had === true;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
