// The repository suite, run against both backends: SQLite always, PostgreSQL when
// FACEVAULT_TEST_PG is set (CI sets it; .ci/run fails if the server is unreachable).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../src/store/db.ts';
import { AccountsRepo } from '../src/store/accounts-repo.ts';
import { RunningLogRepo } from '../src/store/running-log-repo.ts';
import { AccountsService } from '../src/services/accounts.ts';
import { Keyring } from '../src/store/keyring.ts';
import { openKeyStore, type KeyStore } from '../src/store/key-store.ts';
import { ManualClock } from '../src/services/clock.ts';
import { tempDir } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';
import crypto from 'node:crypto';
import { sql } from 'kysely';

const pgSchema = freshPgSchema();
const backends: { name: string; open: () => Promise<Db>; skip: string | null }[] = [
  { name: 'sqlite', open: () => openDb({ databaseUrl: null, dataDir: tempDir() }), skip: null },
  { name: 'postgres', open: () => openDb({ databaseUrl: PG_URL, dataDir: tempDir(), pgSchema }), skip: PG_URL ? null : pgSkipReason },
];

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
      const { migrate } = await import('../src/store/db.ts');
      await migrate(db);
      expect(db.dialect).toBe(b.name);
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
