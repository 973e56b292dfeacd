// Crypto-shredding survives a backup restore (issue 9, item 6). A backup of the data database
// is taken (SQLite: file copy after a checkpoint; PostgreSQL: pg_dump of the data schema), a
// tenant erases its AppId through the API, the pre-erasure backup is restored and the server
// restarted. The restored rows hold the erased tenant's sealed features, but its key was never
// in the database and is erased in the key store: nothing can open them, its account is closed
// and its rows are erased again at start; the other tenant in the same restored database works.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, tempDir, type TestServer } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';
import { hasTestdata, tdBase64, testdataSkipReason } from './helpers/testdata.ts';
import { DataKeyUnavailable } from '../src/store/keys/key-store.ts';

const img = (who: string, file: string) => tdBase64('faces', 'identities', who, file);
const hasPgDump = (() => { try { execFileSync('pg_dump', ['--version']); return true; } catch { return false; } })();

const backends = [
  { name: 'sqlite', skip: null as string | null },
  { name: 'postgres', skip: !PG_URL ? pgSkipReason : !hasPgDump ? 'pg_dump not found' : null },
];

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); });

for (const b of backends) {
  const skip = !hasTestdata ? testdataSkipReason : b.skip;
  describe.skipIf(skip !== null)(`backup restore after an AppId erasure (${b.name})${skip ? ` (skipped: ${skip})` : ''}`, () => {
    it('the restored tenant cannot be opened, is erased again, and the other tenant still works', async () => {
      const dataDir = tempDir();
      const backup = path.join(tempDir(), 'backup');
      const pgSchema = b.name === 'postgres' ? freshPgSchema() : undefined;
      const env: Record<string, string> = { FACEVAULT_DATA_DIR: dataDir, FACEVAULT_FUSION_THREADS: '1', ...(pgSchema ? { FACEVAULT_DATABASE_URL: PG_URL } : {}) };
      cleanups.push(async () => {
        fs.rmSync(dataDir, { recursive: true, force: true });
        fs.rmSync(path.dirname(backup), { recursive: true, force: true });
        if (pgSchema) {
          const c = new pg.Client({ connectionString: PG_URL });
          await c.connect();
          try { for (const s of [pgSchema, `${pgSchema}_keys`]) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`); } finally { await c.end(); }
        }
      });

      let t: TestServer = await startTestServer(env, { pgSchema });
      const a = t.creds;
      const bCreds = await t.run.app.accounts.createAccount('tenant-b');
      await t.iai().CreateGroup({ GroupId: 'g1', GroupName: 'G1' });
      await t.iai(bCreds).CreateGroup({ GroupId: 'g1', GroupName: 'G1' });
      await t.iai().CreatePerson({ GroupId: 'g1', PersonId: 'a-penny', PersonName: 'Penny', Image: img('penny', 'penny1.png') });
      await t.iai(bCreds).CreatePerson({ GroupId: 'g1', PersonId: 'b-amy', PersonName: 'Amy', Image: img('amy', 'amy1.png') });
      expect((await t.iai(bCreds).SearchFaces({ GroupIds: ['g1'], Image: img('amy', 'amy2.png') })).Results[0].Candidates[0].PersonId).toBe('b-amy');

      // The backup, as an operator takes it.
      if (b.name === 'sqlite') {
        await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(t.run.app.db.kysely);
        fs.copyFileSync(path.join(dataDir, 'facevault.sqlite'), backup);
      } else {
        execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', pgSchema!, '--format', 'custom', '--file', backup]);
      }

      // Tenant B erases its whole AppId.
      const r = (await t.common('iai', bCreds).request('CreateDeletionRequest', { AppId: bCreds.AppId })).DeletionRequest;
      expect(r).toMatchObject({ Scope: 'AppId', Status: 'DONE' });
      expect(r.Deleted.DataKeys).toBe(1);
      expect(r.Stores.KeyStore).toMatch(b.name === 'sqlite' ? /^sqlite file .*keys\.sqlite$/ : /^postgres schema .*_keys$/);
      await t.stop();

      // Restore the pre-erasure database; the key store is left as it is (not backed up with it).
      if (b.name === 'sqlite') {
        for (const f of ['facevault.sqlite-wal', 'facevault.sqlite-shm']) fs.rmSync(path.join(dataDir, f), { force: true });
        fs.copyFileSync(backup, path.join(dataDir, 'facevault.sqlite'));
      } else {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        try { await c.query(`DROP SCHEMA "${pgSchema}" CASCADE`); } finally { await c.end(); }
        execFileSync('pg_restore', ['--dbname', PG_URL, backup]);
      }
      // What the restored database holds for B: its sealed feature, and no key at all.
      const restored = await restoredRows(b.name, dataDir, pgSchema, bCreds.AppId);
      expect(restored.faces).toBe(1);
      expect(restored.keyInDb).toBe(false);
      expect(restored.status).toBe('active');

      t = await startTestServer(env, { pgSchema });
      cleanups.push(() => t.stop());
      const app = t.run.app;
      // No key anywhere: the features cannot be opened; the error says why.
      expect(await app.keyStore.get(bCreds.AppId)).toMatchObject({ state: 'erased' });
      const err = await app.library.crypto.dataKey(bCreds.AppId).catch((e) => e);
      expect(err).toBeInstanceOf(DataKeyUnavailable);
      expect(err.message).toMatch(/erased \(crypto-shredded\)/);
      // Its account is closed, and its restored rows were erased again before the first request.
      expect(await errorCode(t.iai(bCreds).SearchFaces({ GroupIds: ['g1'], Image: img('amy', 'amy2.png') }))).toBe('AuthFailure.SecretIdNotFound');
      expect((await app.db.kysely.selectFrom('faces').select('face_id').where('app_id', '=', bCreds.AppId).execute()).length).toBe(0);
      expect((await app.db.kysely.selectFrom('persons').select('person_id').where('app_id', '=', bCreds.AppId).execute()).length).toBe(0);
      const receipts = await app.db.kysely.selectFrom('deletion_requests').select(['request_id', 'requested_by', 'status', 'scope']).where('app_id', '=', bCreds.AppId).execute();
      // The restored database predates B's own request; the one here is the start-up re-erasure.
      expect(receipts).toEqual([expect.objectContaining({ requested_by: 'system', status: 'done', scope: 'app' })]);
      expect(app.errorLog.readAll().some((x) => x.code === 'KeyStore' && String(x.message).includes(`AppId ${bCreds.AppId} was erased`))).toBe(true);
      // The index rebuild skipped B cleanly (no InternalError), and holds nothing of it.
      await app.library.loaded;
      expect(app.errorLog.readAll().filter((x) => x.code === 'InternalError').map((x) => x.message)).toEqual([]);
      expect((app.library.index as any).apps.get(bCreds.AppId)?.groups?.size ?? 0).toBe(0);

      // Tenant A, in the same restored database, works.
      const s = await t.iai(a).SearchFaces({ GroupIds: ['g1'], Image: img('penny', 'penny2.png') });
      expect(s.Results[0].Candidates[0].PersonId).toBe('a-penny');
      expect((await t.iai(a).GetPersonBaseInfo({ PersonId: 'a-penny' })).PersonName).toBe('Penny');
    }, 300_000);
  });
}

async function restoredRows(backend: string, dataDir: string, schema: string | undefined, appId: number) {
  if (backend === 'sqlite') {
    const Database = (await import('better-sqlite3')).default;
    const d = new Database(path.join(dataDir, 'facevault.sqlite'), { readonly: true });
    try {
      const faces = (d.prepare('SELECT count(*) AS n FROM faces WHERE app_id = ?').get(appId) as { n: number }).n;
      const app = d.prepare('SELECT status, data_key_wrapped FROM apps WHERE app_id = ?').get(appId) as { status: string; data_key_wrapped: Buffer | null };
      return { faces: Number(faces), keyInDb: app.data_key_wrapped !== null, status: app.status };
    } finally { d.close(); }
  }
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const faces = (await c.query(`SELECT count(*)::int AS n FROM "${schema}".faces WHERE app_id = $1`, [appId])).rows[0].n;
    const app = (await c.query(`SELECT status, data_key_wrapped FROM "${schema}".apps WHERE app_id = $1`, [appId])).rows[0];
    return { faces: Number(faces), keyInDb: app.data_key_wrapped !== null, status: app.status };
  } finally { await c.end(); }
}
