// The repository suite, run against both backends: SQLite always, PostgreSQL when
// FACEVAULT_TEST_PG is set (CI sets it; .ci/run fails if the server is unreachable).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openDb, type Db } from '../src/store/db/db.ts';
import { migrations } from '../src/store/db/migrations/index.ts';
import { AccountsRepo } from '../src/store/accounts/accounts-repo.ts';
import { RunningLogRepo } from '../src/store/logs/running-log-repo.ts';
import { AccountsService } from '../src/services/accounts/accounts.ts';
import { Keyring } from '../src/store/keys/keyring.ts';
import { type KeyStore } from '../src/store/keys/key-store.ts';
import { openKeyStore } from '../src/store/keys/open-key-store.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { tempDir } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';
import crypto from 'node:crypto';
import { sql } from 'kysely';

const pgSchema = freshPgSchema();
const sqliteDir = tempDir();
// open() opens the same storage each time (same file, same schema), as a restart would.
const backends: { name: string; open: () => Promise<Db>; skip: string | null }[] = [
  { name: 'sqlite', open: () => openDb({ databaseUrl: null, dataDir: sqliteDir }), skip: null },
  { name: 'postgres', open: () => openDb({ databaseUrl: PG_URL, dataDir: tempDir(), pgSchema }), skip: PG_URL ? null : pgSkipReason },
];

/** Tables with their columns, and indexes, as the database itself reports them. */
async function schemaOf(db: Db): Promise<{ tables: Record<string, unknown[]>; indexes: unknown[] }> {
  const tables: Record<string, unknown[]> = {};
  if (db.dialect === 'sqlite') {
    const names = (await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(db.kysely)).rows.map((r) => r.name);
    for (const n of names) tables[n] = (await sql`select * from pragma_table_info(${n}) order by cid`.execute(db.kysely)).rows;
    const indexes = (await sql`select name, tbl_name, sql from sqlite_master where type = 'index' order by name`.execute(db.kysely)).rows;
    return { tables, indexes };
  }
  const cols = (await sql<{ table_name: string }>`select table_name, column_name, ordinal_position, data_type, is_nullable, column_default
    from information_schema.columns where table_schema = ${db.pgSchema} order by table_name, ordinal_position`.execute(db.kysely)).rows;
  for (const c of cols) (tables[c.table_name] ??= []).push(c);
  const indexes = (await sql`select indexname, tablename, indexdef from pg_indexes where schemaname = ${db.pgSchema} order by indexname`.execute(db.kysely)).rows;
  return { tables, indexes };
}

/** Every row of every table, in a stable order. */
async function dataOf(db: Db, tables: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of tables) {
    const rows = (await sql`select * from ${sql.table(t)}`.execute(db.kysely)).rows;
    out[t] = rows.map((r) => JSON.stringify(r, (_k, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v))).sort();
  }
  return out;
}

for (const b of backends) {
  describe.skipIf(b.skip !== null)(`repositories on ${b.name}${b.skip ? ` (${b.skip})` : ''}`, () => {
    let db: Db;
    let accounts: AccountsService;
    let keys: KeyStore;
    const clock = new ManualClock(1_700_000_000_000);
    beforeAll(async () => {
      db = await b.open();
      keys = await openKeyStore({ url: null, databaseUrl: b.name === 'postgres' ? PG_URL : null, dataDir: tempDir(), pgSchema: b.name === 'postgres' ? pgSchema : undefined });
      accounts = new AccountsService(new AccountsRepo(db), new Keyring(crypto.randomBytes(32)), keys, clock);
    });
    afterAll(async () => {
      await keys?.close();
      if (db?.dialect === 'postgres') {
        await sql.raw(`DROP SCHEMA "${pgSchema}" CASCADE`).execute(db.kysely);
        await sql.raw(`DROP SCHEMA IF EXISTS "${pgSchema}_keys" CASCADE`).execute(db.kysely);
      }
      await db?.close();
    });

    it('migrations are idempotent (a second open runs none and keeps data)', async () => {
      expect(db.dialect).toBe(b.name);
      const c = await accounts.createAccount('before-remigration');
      await new RunningLogRepo(db).append({ requestId: 'r-migrate', time: 1_700_000_000_000, appId: c.AppId, uin: c.Uin, subUin: c.Uin, clientIp: '10.0.0.2', service: 'iai', action: 'DetectFace', region: 'ap-guangzhou', billed: true, code: '', latencyMs: 3 });
      const schema = await schemaOf(db);
      const tables = Object.keys(schema.tables);
      // The introspection sees the real schema (so an unchanged comparison means something).
      expect(tables).toEqual(expect.arrayContaining(['apps', 'api_keys', 'running_log', 'face_groups', 'fusion_activities', 'audit_log', 'consents', 'face_upgrade_jobs', 'kysely_migration']));
      expect(schema.indexes.length).toBeGreaterThanOrEqual(25);
      const data = await dataOf(db, tables);
      expect(data.apps.some((r) => r.includes('before-remigration'))).toBe(true);
      expect(data.running_log.some((r) => r.includes('r-migrate'))).toBe(true);

      await migrate(db);
      await migrate(db);
      const again = await b.open(); // a restart: a second open of the same database
      try {
        for (const d of [db, again]) {
          expect(await schemaOf(d)).toEqual(schema);
          expect(await dataOf(d, tables)).toEqual(data);
        }
      } finally {
        await again.close();
      }
      const applied = (await db.kysely.selectFrom('kysely_migration' as any).select('name').execute()).map((r: any) => r.name as string);
      expect([...applied].sort()).toEqual(Object.keys(migrations).sort());
    });

    it('creates an account, authenticates its key, and hides the secret at rest', async () => {
      const c = await accounts.createAccount('acme');
      expect(c.SecretId).toMatch(/^AKID[A-Za-z0-9]{32}$/);
      const auth = await accounts.authenticate(c.SecretId);
      expect(auth.caller).toEqual({ appId: c.AppId, uin: c.Uin, subUin: c.Uin });
      expect(auth.secretKey).toBe(c.SecretKey);
      const row = await db.kysely.selectFrom('api_keys').selectAll().where('secret_id', '=', c.SecretId).executeTakeFirstOrThrow();
      expect(Buffer.from(row.secret_key_enc).includes(Buffer.from(c.SecretKey))).toBe(false);
      expect(Number(row.app_id)).toBe(c.AppId);
    });

    it('sub-users get their own SubUin and policy; keys are listed without secrets and can be disabled', async () => {
      const c = await accounts.createAccount('subs');
      const k = await accounts.createKey(c.AppId, { subUser: 'ops', policy: ['iai:DetectFace'] });
      expect(k.SubUin).not.toBe(c.Uin);
      expect(k.Uin).toBe(c.Uin);
      const again = await accounts.createKey(c.AppId, { subUser: 'ops' });
      expect(again.SubUin).toBe(k.SubUin);
      expect(again.Policy).toEqual(['iai:DetectFace']);
      const list = await accounts.listKeys(c.AppId);
      expect(list).toHaveLength(3);
      expect(JSON.stringify(list)).not.toContain(k.SecretKey);
      await accounts.setKeyStatus(c.AppId, k.SecretId, 'disabled');
      await expect(accounts.authenticate(k.SecretId)).rejects.toMatchObject({ code: 'AuthFailure.SecretIdNotFound' });
      // Another app cannot touch this app's keys.
      const other = await accounts.createAccount('other');
      await expect(accounts.setKeyStatus(other.AppId, again.SecretId, 'disabled')).rejects.toMatchObject({ code: 'ResourceNotFound' });
      expect((await accounts.authenticate(again.SecretId)).caller.appId).toBe(c.AppId);
    });

    it('rejects malformed policies', async () => {
      const c = await accounts.createAccount('pol');
      await expect(accounts.createKey(c.AppId, { subUser: 'x', policy: ['DetectFace'] })).rejects.toMatchObject({ code: 'InvalidParameterValue' });
    });

    it('running log round-trips every field', async () => {
      const repo = new RunningLogRepo(db);
      await repo.append({ requestId: 'r-1', time: 1_700_000_000_123, appId: 42, uin: 'u', subUin: 's', clientIp: '10.0.0.1', service: 'iai', action: 'SearchFaces', region: 'ap-guangzhou', billed: true, code: '', latencyMs: 12.6, personId: 'p-1', result: { top: 'p-1', score: 88 } });
      const r = await repo.byRequestId('r-1');
      expect(r).toMatchObject({ time: 1_700_000_000_123, app_id: 42, billed: 1, latency_ms: 13, person_id: 'p-1', data_class: 'running_log', expires_at: null });
      expect(JSON.parse(r!.result!)).toEqual({ top: 'p-1', score: 88 });
      expect(await repo.forApp(42)).toHaveLength(1);
      expect(await repo.forApp(43)).toHaveLength(0);
    });
  });
}
