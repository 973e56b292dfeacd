// facevault backup / restore (embedded) and migrate (SQLite + local objects -> PostgreSQL + S3).
// Backup is taken while the server serves and writes; restore verifies the manifest, keeps the
// live key store (the default policy), and erases again the tenant erased after the backup.
// Migrate compares counts and checksums, and the migrated deployment answers the same search
// with the same top candidate and score.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, tempDir } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';
import { hasTestdata, tdBase64, testdataSkipReason, TESTDATA } from './helpers/testdata.ts';
import { loadConfig } from '../src/config.ts';
import { backupCommand, migrateCommand, restoreCommand } from '../src/cli/backup-command.ts';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';

const img = (who: string, file: string) => tdBase64('faces', 'identities', who, file);
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); });

describe.skipIf(!hasTestdata)(`backup and restore (embedded)${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  it('backs up while serving, restores with checks, and does not resurrect a tenant erased since', async () => {
    const dataDir = tempDir();
    const dir = path.join(tempDir(), 'backup');
    cleanups.push(() => { fs.rmSync(dataDir, { recursive: true, force: true }); fs.rmSync(path.dirname(dir), { recursive: true, force: true }); });
    const env = { FACEVAULT_DATA_DIR: dataDir, FACEVAULT_FUSION_THREADS: '0', FACEVAULT_INFERENCE_THREADS: '1' };
    let t = await startTestServer(env);
    const a = t.creds;
    const b = await t.run.app.accounts.createAccount('tenant-b');
    await t.iai().CreateGroup({ GroupId: 'g1', GroupName: 'G1', KeepEnrolmentImages: 1 });
    await t.iai(b).CreateGroup({ GroupId: 'g1', GroupName: 'G1' });
    await t.iai().CreatePerson({ GroupId: 'g1', PersonId: 'a-penny', PersonName: 'Penny', Image: img('penny', 'penny1.png') });
    await t.iai(b).CreatePerson({ GroupId: 'g1', PersonId: 'b-amy', PersonName: 'Amy', Image: img('amy', 'amy1.png') });

    // The backup, while the server is serving and writing (an enrolment runs concurrently).
    const config = loadConfig({ ...env, FACEVAULT_LOG_LEVEL: 'silent' });
    const writing = t.iai().CreatePerson({ GroupId: 'g1', PersonId: 'a-raj', PersonName: 'Raj', Image: img('raj', fs.readdirSync(path.join(TESTDATA, 'faces/identities/raj'))[0]) });
    const m = await backupCommand(config, dir, {});
    await writing;
    const dirK = path.join(path.dirname(dir), 'with-keys');
    const mk = await backupCommand(config, dirK, { includeKeys: true });
    expect(mk.keyStore).toEqual({ file: 'keys.sqlite', kind: 'sqlite' });
    expect(mk.masterKey).toBe('included');
    expect(m.mode).toBe('sqlite');
    expect(m.keyStore).toBe('excluded');
    expect(m.masterKey).toBe('excluded');
    expect(fs.existsSync(path.join(dir, 'keys.sqlite'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'master.key'))).toBe(false);
    expect(m.database.tables.persons.rows).toBeGreaterThanOrEqual(2);
    expect(m.objects.count).toBeGreaterThan(0); // enrolment images
    const personsAtBackup = m.database.tables.persons.rows;

    // After the backup: B erases its AppId; A enrols one more (lost by the restore, as expected).
    const r = (await t.common('iai', b).request('CreateDeletionRequest', { AppId: b.AppId })).DeletionRequest;
    expect(r.Status).toBe('DONE');
    await t.iai().CreatePerson({ GroupId: 'g1', PersonId: 'a-late', PersonName: 'Late', Image: img('penny', 'penny2.png') });
    await t.stop();

    // A damaged backup is refused before anything is touched.
    const objFile = (d: string): string => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) { const f = objFile(p); if (f) return f; } else return p; } return ''; };
    const victim = objFile(path.join(dir, 'objects'));
    const good = fs.readFileSync(victim);
    fs.writeFileSync(victim, Buffer.concat([good, Buffer.from('x')]));
    await expect(restoreCommand(config, dir, {})).rejects.toThrow(/damaged backup/);
    fs.writeFileSync(victim, good);

    const rr = await restoreCommand(config, dir, {});
    expect(rr.keysRestored).toBe(false);
    expect(rr.reErased).toEqual([b.AppId]);

    t = await startTestServer(env);
    cleanups.push(() => t.stop());
    // A: as at backup time (a-late is gone), and its search works with the live key store.
    const persons = (await t.run.app.db.kysely.selectFrom('persons').select(['person_id', 'app_id']).execute());
    expect(persons.filter((p) => Number(p.app_id) === a.AppId).map((p) => p.person_id).sort()).toEqual(personsAtBackup === 3 ? ['a-penny', 'a-raj'] : ['a-penny']);
    expect((await t.iai(a).SearchFaces({ GroupIds: ['g1'], Image: img('penny', 'penny2.png') })).Results[0].Candidates[0].PersonId).toBe('a-penny');
    // B: erased since the backup, and erased again at restore: no rows, no account.
    expect(persons.filter((p) => Number(p.app_id) === b.AppId)).toEqual([]);
    expect(await errorCode(t.iai(b).GetGroupList({}))).toBe('AuthFailure.SecretIdNotFound');
    expect(await t.run.app.keyStore.get(b.AppId)).toMatchObject({ state: 'erased' });
    await t.stop();

    // What --include-keys means (docs/PRIVACY.md): restoring its keys undoes the erasure.
    await expect(restoreCommand(config, dir, { restoreKeys: true })).rejects.toThrow(/holds no key store/);
    const rk = await restoreCommand(config, dirK, { restoreKeys: true });
    expect(rk).toMatchObject({ keysRestored: true, reErased: [] });
    t = await startTestServer(env);
    cleanups.push(() => t.stop());
    expect((await t.iai(b).SearchFaces({ GroupIds: ['g1'], Image: img('amy', 'amy2.png') })).Results[0].Candidates[0].PersonId).toBe('b-amy');
  }, 240_000);
});

const pgSkip = !hasTestdata ? testdataSkipReason : !PG_URL ? pgSkipReason : null;
describe.skipIf(pgSkip !== null)(`migrate SQLite -> PostgreSQL + S3${pgSkip ? ` (skipped: ${pgSkip})` : ''}`, () => {
  it('copies everything, compares counts and checksums, and the migrated node gives the same search results', async () => {
    const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: tempDir('s3rver-') });
    const { port } = await s3.run();
    const endpoint = `http://127.0.0.1:${port}`;
    const c = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await c.send(new CreateBucketCommand({ Bucket: 'facevault-migrate' }));
    c.destroy();
    const schema = freshPgSchema();
    const dataDir = tempDir();
    cleanups.push(async () => {
      await s3.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      const cl = new pg.Client({ connectionString: PG_URL });
      await cl.connect();
      try { for (const s of [schema, `${schema}_keys`]) await cl.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`); } finally { await cl.end(); }
    });
    const env = { FACEVAULT_DATA_DIR: dataDir, FACEVAULT_FUSION_THREADS: '0', FACEVAULT_INFERENCE_THREADS: '1' };
    const s3env = { FACEVAULT_S3_ENDPOINT: endpoint, FACEVAULT_S3_ACCESS_KEY_ID: 'S3RVER', FACEVAULT_S3_SECRET_ACCESS_KEY: 'S3RVER' };

    let t = await startTestServer(env);
    const creds = t.creds;
    await t.iai().CreateGroup({ GroupId: 'g1', GroupName: 'G1', KeepEnrolmentImages: 1 });
    for (const [who, f] of [['penny', 'penny1.png'], ['amy', 'amy1.png'], ['sheldon', fs.readdirSync(path.join(TESTDATA, 'faces/identities/sheldon'))[0]]]) {
      await t.iai().CreatePerson({ GroupId: 'g1', PersonId: `p-${who}`, PersonName: who, Image: img(who, f) });
    }
    const probe = { GroupIds: ['g1'], Image: img('amy', 'amy2.png'), MaxPersonNum: 3 };
    const before = (await t.iai().SearchFaces(probe)).Results[0].Candidates;
    await t.stop();

    const config = loadConfig({ ...env, FACEVAULT_LOG_LEVEL: 'silent' });
    const report = await migrateCommand(config, { to: PG_URL, objects: 's3://facevault-migrate/fv' }, { ...env, ...s3env }, { targetPgSchema: schema });
    expect(report.ok).toBe(true);
    expect(report.tables.find((x) => x.table === 'persons')).toMatchObject({ rows: 3, targetRows: 3, equal: true });
    expect(report.tables.find((x) => x.table === 'faces')?.rows).toBe(3);
    expect(report.keys).toMatchObject({ copied: 2, equal: true }); // the test account and the first-start account
    expect(report.objects!.source.count).toBeGreaterThanOrEqual(3);
    expect(report.objects!.equal).toBe(true);
    // Into a database that already holds data: refused.
    await expect(migrateCommand(config, { to: PG_URL }, env, { targetPgSchema: schema })).rejects.toThrow(/already holds data/);

    // The scaled node on PostgreSQL + S3 (same master key: same data dir) answers the same.
    fs.rmSync(path.join(dataDir, 'facevault.sqlite'));
    fs.rmSync(path.join(dataDir, 'objects'), { recursive: true, force: true });
    t = await startTestServer({ ...env, ...s3env, FACEVAULT_DATABASE_URL: PG_URL, FACEVAULT_OBJECT_STORE: 's3://facevault-migrate/fv' }, { pgSchema: schema });
    cleanups.push(() => t.stop());
    const after = (await t.iai(creds).SearchFaces(probe)).Results[0].Candidates;
    expect(after.map((x: any) => [x.PersonId, x.Score])).toEqual(before.map((x: any) => [x.PersonId, x.Score]));
    expect(after[0].PersonId).toBe('p-amy');
  }, 240_000);
});

const pgBackupSkip = !hasTestdata ? testdataSkipReason : !PG_URL ? pgSkipReason : null;
describe.skipIf(pgBackupSkip !== null)(`backup and restore (PostgreSQL, pg_dump)${pgBackupSkip ? ` (skipped: ${pgBackupSkip})` : ''}`, () => {
  it('restores the pg_dump backup and erases again the tenant erased since', async () => {
    const dataDir = tempDir();
    const dir = path.join(tempDir(), 'backup');
    const schema = freshPgSchema();
    cleanups.push(async () => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
      const cl = new pg.Client({ connectionString: PG_URL });
      await cl.connect();
      try { for (const s of [schema, `${schema}_keys`]) await cl.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`); } finally { await cl.end(); }
    });
    const env = { FACEVAULT_DATA_DIR: dataDir, FACEVAULT_FUSION_THREADS: '0', FACEVAULT_INFERENCE_THREADS: '1', FACEVAULT_DATABASE_URL: PG_URL };
    let t = await startTestServer(env, { pgSchema: schema });
    const a = t.creds;
    const b = await t.run.app.accounts.createAccount('tenant-b');
    for (const c of [a, b]) await t.iai(c).CreateGroup({ GroupId: 'g1', GroupName: 'G1', KeepEnrolmentImages: 1 });
    await t.iai(a).CreatePerson({ GroupId: 'g1', PersonId: 'a-penny', PersonName: 'Penny', Image: img('penny', 'penny1.png') });
    await t.iai(b).CreatePerson({ GroupId: 'g1', PersonId: 'b-amy', PersonName: 'Amy', Image: img('amy', 'amy1.png') });
    const config = loadConfig({ ...env, FACEVAULT_LOG_LEVEL: 'silent' });
    const m = await backupCommand(config, dir, {}, { pgSchema: schema });
    expect(m).toMatchObject({ mode: 'postgres', keyStore: 'excluded', database: { file: 'database.dump' } });
    expect(m.objects.count).toBe(2);
    expect((await t.common('iai', b).request('CreateDeletionRequest', { AppId: b.AppId })).DeletionRequest.Status).toBe('DONE');
    await t.stop();

    const rr = await restoreCommand(config, dir, {}, { pgSchema: schema });
    expect(rr.reErased).toEqual([b.AppId]);
    t = await startTestServer(env, { pgSchema: schema });
    cleanups.push(() => t.stop());
    expect((await t.iai(a).SearchFaces({ GroupIds: ['g1'], Image: img('penny', 'penny2.png') })).Results[0].Candidates[0].PersonId).toBe('a-penny');
    expect(await errorCode(t.iai(b).GetGroupList({}))).toBe('AuthFailure.SecretIdNotFound');
    expect((await t.run.app.db.kysely.selectFrom('persons').select('person_id').where('app_id', '=', b.AppId).execute())).toEqual([]);
  }, 240_000);
});
