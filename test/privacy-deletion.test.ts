// Deletion requests (GDPR Art. 17) through the official SDK, proven by scanning every store for
// traces afterwards: the raw bytes of the SQLite file and its WAL (or every row of every table on
// PostgreSQL), every object in the object store, the error-log segment files and the in-memory
// search index buffers. Looked for: the erased PersonIds and EndUserIds as strings, the sealed
// feature bytes as stored, the float32 feature bytes, and the index's int8 codes of those faces.
// Other persons and AppIds must stay untouched and searchable.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';
import { hasTestdata, td, tdBase64, testdataSkipReason } from './helpers/testdata.ts';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { App } from '../src/app.ts';

const backends: { name: string; env: Record<string, string>; schema?: string }[] = [
  { name: 'sqlite', env: {} },
  ...(PG_URL ? [{ name: 'postgres', env: { FACEVAULT_DATABASE_URL: PG_URL }, schema: freshPgSchema() }] : []),
];
if (!PG_URL) console.log(pgSkipReason);

const img = (who: string, file: string) => tdBase64('faces', 'identities', who, file);
async function smallJpeg(parts: string[], width: number): Promise<string> {
  return (await sharp(fs.readFileSync(td(...parts))).resize({ width }).jpeg().toBuffer()).toString('base64');
}

interface Trace { label: string; b: Buffer; onlyApp?: number }
interface Traces { strings: string[]; bytes: Trace[] }

/** What one erased face leaves behind if anything failed: stored (sealed) bytes, the float32 vector, the index codes. */
async function faceTraces(app: App, appId: number, personId: string): Promise<Trace[]> {
  const out: Trace[] = [];
  const rows = await app.db.kysely.selectFrom('faces').select(['face_id', 'feature']).where('app_id', '=', appId).where('person_id', '=', personId).execute();
  const person = await app.db.kysely.selectFrom('persons').select('combined_feature').where('app_id', '=', appId).where('person_id', '=', personId).executeTakeFirstOrThrow();
  const key = await app.library.crypto.dataKey(appId);
  for (const r of rows) {
    out.push({ label: `sealed feature of ${r.face_id}`, b: Buffer.from(r.feature.subarray(0, 96)) });
    const v = app.library.crypto.openFace(key, appId, r.face_id, Buffer.from(r.feature));
    out.push({ label: `float32 feature of ${r.face_id}`, b: Buffer.from(new Uint8Array(v.buffer, v.byteOffset, 256)) });
    // The index keeps int8 codes (no float copy): the face's row of codes in each group it is in.
    for (const idx of groupIndexes(app, appId)) {
      const vi = idx.faces as any;
      const slot = vi.slotOf.get(r.face_id);
      // The same photo enrolled in another AppId has the very same codes there: only this AppId's index counts.
      if (slot !== undefined) out.push({ label: `index codes of ${r.face_id}`, b: Buffer.from(vi.codes.subarray(slot * 512, slot * 512 + 512)), onlyApp: appId });
    }
  }
  out.push({ label: `sealed combined feature of ${personId}`, b: Buffer.from(person.combined_feature!.subarray(0, 96)) });
  return out;
}

function groupIndexes(app: App, appId: number): { faces: unknown; persons: unknown }[] {
  const a = (app.library.index as any).apps.get(appId);
  return a ? [...a.groups.values()] : [];
}

function allIndexBuffers(app: App): { label: string; b: Buffer; ids: string[] }[] {
  const out: { label: string; b: Buffer; ids: string[] }[] = [];
  for (const [appId, a] of (app.library.index as any).apps as Map<number, any>) {
    for (const [gid, g] of a.groups as Map<string, any>) {
      for (const kind of ['faces', 'persons']) {
        const vi = g[kind];
        const ids = [...vi.ids, ...vi.owners];
        // Every typed array the index holds, at any depth of plain objects (codes, bits, coarse codes...).
        const walk = (o: any, name: string, depth: number) => {
          if (!o || depth > 3) return;
          if (ArrayBuffer.isView(o)) { out.push({ label: `index ${appId}/${gid}/${kind}.${name}`, b: Buffer.from(o.buffer, o.byteOffset, o.byteLength), ids }); return; }
          if (typeof o !== 'object' || o instanceof Map || o instanceof Set || Array.isArray(o)) return;
          for (const [k, v] of Object.entries(o)) walk(v, name ? `${name}.${k}` : k, depth + 1);
        };
        walk(vi, '', 0);
      }
    }
  }
  return out;
}

/** Every place data lives, as byte buffers to search. */
async function storeDump(t: TestServer, schema?: string): Promise<{ label: string; b: Buffer }[]> {
  const app = t.run.app;
  const out: { label: string; b: Buffer }[] = [];
  if (app.db.dialect === 'sqlite') {
    for (const f of ['facevault.sqlite', 'facevault.sqlite-wal', 'keys/keys.sqlite', 'keys/keys.sqlite-journal']) {
      const p = path.join(t.dataDir, f);
      if (fs.existsSync(p)) out.push({ label: f, b: fs.readFileSync(p) });
    }
  } else {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      // The data schema and the key store's own schema.
      for (const sch of [schema, `${schema}_keys`]) {
        const tables = await c.query(`select table_name from information_schema.tables where table_schema = $1`, [sch]);
        for (const { table_name } of tables.rows) {
          const rows = await c.query(`select t::text as row from "${sch}"."${table_name}" t`);
          out.push({ label: `pg ${sch === schema ? '' : 'keys '}${table_name}`, b: Buffer.from(rows.rows.map((r) => r.row).join('\n'), 'utf8') });
        }
      }
    } finally { await c.end(); }
  }
  for (const k of await app.blobs.list('')) out.push({ label: `object ${k}`, b: (await app.blobs.get(k)) ?? Buffer.alloc(0) });
  const logDir = path.join(t.dataDir, 'logs', 'error');
  for (const f of fs.existsSync(logDir) ? fs.readdirSync(logDir) : []) out.push({ label: `error log ${f}`, b: fs.readFileSync(path.join(logDir, f)) });
  for (const x of allIndexBuffers(app)) out.push({ label: x.label, b: x.b }, { label: `${x.label} ids`, b: Buffer.from(x.ids.join('\n')) });
  return out;
}

/** Where any of the traces is found; PostgreSQL shows bytea as hex text, so bytes are looked for as hex there too. */
async function findTraces(t: TestServer, tr: Traces, schema?: string): Promise<string[]> {
  const found: string[] = [];
  for (const d of await storeDump(t, schema)) {
    for (const s of tr.strings) if (d.b.includes(Buffer.from(s, 'utf8'))) found.push(`"${s}" in ${d.label}`);
    for (const x of tr.bytes) {
      const idx = /^index (\d+)\//.exec(d.label);
      if (x.onlyApp !== undefined && idx && Number(idx[1]) !== x.onlyApp) continue;
      if (d.b.includes(x.b)) found.push(`${x.label} in ${d.label}`);
      if (d.label.startsWith('pg ') && d.b.includes(Buffer.from(x.b.toString('hex')))) found.push(`${x.label} (hex) in ${d.label}`);
    }
  }
  return found;
}

for (const b of backends) {
  describe.skipIf(!hasTestdata)(`deletion requests (${b.name})${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
    let t: TestServer;
    let iai: any, ext: any, ff: any;
    let otherIai: any;
    let other: { AppId: number; SecretId: string; SecretKey: string };
    let activityId = '', materialId = '';

    beforeAll(async () => {
      t = await startTestServer({ ...b.env, FACEVAULT_FUSION_THREADS: '1' }, { pgSchema: b.schema });
      iai = t.iai();
      ext = t.common('iai');
      ff = t.facefusion();
      other = await t.run.app.accounts.createAccount('other');
      otherIai = t.iai(other);
      await iai.CreateGroup({ GroupId: 'g1', GroupName: 'G1' });
      await otherIai.CreateGroup({ GroupId: 'g1', GroupName: 'G1' });
      // The same photos in another AppId: its features must survive the first AppId's erasures.
      await otherIai.CreatePerson({ GroupId: 'g1', PersonId: 'other-amy-a5', PersonName: 'Amy', Image: img('amy', 'amy1.png') });
      await iai.CreatePerson({ GroupId: 'g1', PersonId: 'keep-me-k3', PersonName: 'Penny', Image: img('penny', 'penny1.png') });
      const fe = t.common('facefusion');
      activityId = (await fe.request('CreateActivity', { ActivityName: 'a', Status: 'PUBLISHED' })).ActivityId;
      materialId = (await fe.request('CreateMaterial', { ActivityId: activityId, Image: tdBase64('faces', 'identities', 'obama', 'obama-720p.jpg') })).MaterialId;
    }, 300_000);
    afterAll(async () => { await t?.stop(); });

    it('erases an end user: persons, faces, index entries, calls, fusion results and logs, error-log lines', async () => {
      const app = t.run.app, appId = t.creds.AppId;
      await iai.CreatePerson({ GroupId: 'g1', PersonId: 'erase-me-p7x', PersonName: 'Amy', Image: img('amy', 'amy1.png'), EndUserId: 'eu-gone-42q' });
      await iai.CreateFace({ PersonId: 'erase-me-p7x', Images: [img('amy', 'amy2.png')], EndUserId: 'eu-gone-42q' });
      // A search that finds her: its running-log record names her.
      const s = await iai.SearchFaces({ GroupIds: ['g1'], Image: img('amy', 'amy3.png') });
      expect(s.Results[0].Candidates[0].PersonId).toBe('erase-me-p7x');
      // A failed call naming her lands in the error log.
      expect(await errorCode(iai.CreateFace({ PersonId: 'erase-me-p7x', Images: [img('amy', 'amy3.png')], FaceMatchThreshold: 500 }))).not.toBe('OK');
      // A fusion call of the end user with a stored (URL) result.
      const fused = await ff.FuseFace({ ProjectId: activityId, ModelId: materialId, RspImgType: 'url', MergeInfos: [{ Image: await smallJpeg(['faces', 'identities', 'amy', 'amy4.png'], 500) }], EndUserId: 'eu-gone-42q' });
      const resultUrl: string = fused.FusedImage;
      expect((await fetch(resultUrl)).status).toBe(200);
      const fusedRow = await app.db.kysely.selectFrom('fusion_results').selectAll().where('app_id', '=', appId).where('end_user_id', '=', 'eu-gone-42q').executeTakeFirstOrThrow();
      expect(await app.blobs.exists(fusedRow.blob_key)).toBe(true);
      expect((await app.db.kysely.selectFrom('running_log').select('id').where('end_user_id', '=', 'eu-gone-42q').execute()).length).toBe(3);

      const traces: Traces = { strings: ['erase-me-p7x', 'eu-gone-42q', fusedRow.token], bytes: await faceTraces(app, appId, 'erase-me-p7x') };
      expect(traces.bytes.filter((x) => x.label.startsWith('index codes')).length).toBe(2);
      // The scan finds them before the request (it can fail).
      const before = await findTraces(t, traces, b.schema);
      expect(before.some((f) => f.includes('sealed feature'))).toBe(true);
      expect(before.some((f) => f.includes('index codes'))).toBe(true);
      expect(before.some((f) => f.startsWith('"eu-gone-42q"'))).toBe(true);

      const r = (await ext.request('CreateDeletionRequest', { EndUserId: 'eu-gone-42q' })).DeletionRequest;
      expect(r).toMatchObject({ Scope: 'EndUserId', Status: 'DONE', AppId: appId });
      expect(r.Deleted).toMatchObject({ Persons: 1, Faces: 2, GroupMemberships: 1, SearchIndexEntries: 3, FusionResults: 1, FusionLogRecords: 1, RunningLogRecords: 4, ErrorLogRecords: 1 });
      expect(r.SubjectDigest).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(r)).not.toContain('eu-gone-42q');
      expect(r.Digest).toMatch(/^[0-9a-f]{64}$/);

      expect(await findTraces(t, traces, b.schema)).toEqual([]);
      expect(await app.blobs.exists(fusedRow.blob_key)).toBe(false);
      expect((await fetch(resultUrl)).status).toBe(404);
      expect(await errorCode(iai.GetPersonBaseInfo({ PersonId: 'erase-me-p7x' }))).toBe('InvalidParameterValue.PersonIdNotExist');

      // Everyone else is untouched and still found.
      const k = await iai.SearchFaces({ GroupIds: ['g1'], Image: img('penny', 'penny2.png') });
      expect(k.Results[0].Candidates[0].PersonId).toBe('keep-me-k3');
      const o = await otherIai.SearchFaces({ GroupIds: ['g1'], Image: img('amy', 'amy3.png') });
      expect(o.Results[0].Candidates[0].PersonId).toBe('other-amy-a5');
      const fe = t.common('facefusion');
      expect((await fe.request('DescribeActivities', {})).Count).toBe(1);

      // The receipt is kept (without the subject) and can be read back with the same digest.
      const d = await ext.request('DescribeDeletionRequests', { RequestId: r.RequestId });
      expect(d.DeletionRequests[0]).toEqual(r);
    }, 300_000);

    it('erases a PersonId across its groups, leaving no trace', async () => {
      const app = t.run.app, appId = t.creds.AppId;
      await iai.CreateGroup({ GroupId: 'g2', GroupName: 'G2' });
      await iai.CreatePerson({ GroupId: 'g1', PersonId: 'erase-pid-9v', PersonName: 'Raj', Image: img('raj', 'raj1.png') });
      await iai.CopyPerson({ PersonId: 'erase-pid-9v', GroupIds: ['g2'] });
      await iai.VerifyPerson({ PersonId: 'erase-pid-9v', Image: img('raj', 'raj2.png') });
      const traces: Traces = { strings: ['erase-pid-9v'], bytes: await faceTraces(app, appId, 'erase-pid-9v') };
      expect((await findTraces(t, traces, b.schema)).length).toBeGreaterThan(0);
      const r = (await ext.request('CreateDeletionRequest', { PersonId: 'erase-pid-9v' })).DeletionRequest;
      expect(r.Deleted).toMatchObject({ Persons: 1, Faces: 1, GroupMemberships: 2, SearchIndexEntries: 4 });
      expect(await findTraces(t, traces, b.schema)).toEqual([]);
      const k = await iai.SearchFaces({ GroupIds: ['g1'], Image: img('penny', 'penny2.png') });
      expect(k.Results[0].Candidates[0].PersonId).toBe('keep-me-k3');
    }, 300_000);

    it('refuses ambiguous scopes and another AppId, changing nothing', async () => {
      expect(await errorCode(ext.request('CreateDeletionRequest', {}))).toBe('InvalidParameterValue');
      expect(await errorCode(ext.request('CreateDeletionRequest', { PersonId: 'keep-me-k3', EndUserId: 'x' }))).toBe('InvalidParameterValue');
      expect(await errorCode(ext.request('CreateDeletionRequest', { AppId: other.AppId }))).toBe('InvalidParameterValue');
      const sub = await t.run.app.accounts.createKey(t.creds.AppId, { subUser: 'ops', policy: ['*'] });
      expect(await errorCode(t.common('iai', sub).request('CreateDeletionRequest', { AppId: t.creds.AppId }))).toBe('AuthFailure.UnauthorizedOperation');
      expect((await iai.GetPersonBaseInfo({ PersonId: 'keep-me-k3' })).PersonName).toBe('Penny');
    });

    it('erases a whole AppId: every row and object, its keys, and its data key (crypto-shredding)', async () => {
      const app = t.run.app;
      const oext = t.common('iai', other);
      const ofe = t.common('facefusion', other);
      const act = (await ofe.request('CreateActivity', { ActivityName: 'b' })).ActivityId;
      const mat = (await ofe.request('CreateMaterial', { ActivityId: act, Image: tdBase64('faces', 'identities', 'obama', 'obama-720p.jpg') })).MaterialId;
      const stored = await app.keyStore.get(other.AppId);
      if (stored.state !== 'present') throw new Error('the other AppId has no key');
      const wrapped = stored.wrapped;
      const traces: Traces = {
        strings: ['other-amy-a5', mat, act],
        bytes: [...await faceTraces(app, other.AppId, 'other-amy-a5'), { label: 'wrapped data key', b: Buffer.from(wrapped) }],
      };
      expect((await findTraces(t, traces, b.schema)).length).toBeGreaterThan(0);
      const r = (await oext.request('CreateDeletionRequest', { AppId: other.AppId })).DeletionRequest;
      expect(r).toMatchObject({ Scope: 'AppId', Status: 'DONE' });
      expect(r.Deleted).toMatchObject({ Persons: 1, Faces: 1, Groups: 1, Activities: 1, Materials: 1, DataKeys: 1 });
      expect(r.Deleted.ApiKeys).toBeGreaterThanOrEqual(1);
      expect(await errorCode(otherIai.GetGroupList({}))).toBe('AuthFailure.SecretIdNotFound');
      expect(await app.blobs.list(`fusion/${other.AppId}/`)).toEqual([]);
      expect(await findTraces(t, traces, b.schema)).toEqual([]);
      // The first AppId is untouched.
      const k = await iai.SearchFaces({ GroupIds: ['g1'], Image: img('penny', 'penny2.png') });
      expect(k.Results[0].Candidates[0].PersonId).toBe('keep-me-k3');
      expect((await t.common('facefusion').request('DescribeActivities', {})).Count).toBe(1);
      // The receipt outlives the app and its keys.
      const kept = await app.db.kysely.selectFrom('deletion_requests').selectAll().where('request_id', '=', r.RequestId).executeTakeFirstOrThrow();
      expect(kept).toMatchObject({ status: 'done', subject_sealed: null, digest: r.Digest });
    }, 300_000);

    it('finishes a request left running by a stopped process when the next one starts (or a live one takes it over)', async () => {
      const app = t.run.app, appId = t.creds.AppId;
      // A call of an end user, then a request for it as a crash would leave it: written, not run.
      await app.runningLog.append({ requestId: 'req-crash', time: app.clock.now(), appId, uin: t.creds.Uin, subUin: t.creds.SubUin, clientIp: '127.0.0.1', service: 'iai', action: 'DetectFace', region: 'ap-guangzhou', billed: true, code: '', latencyMs: 1, endUserId: 'eu-crash-3k' });
      const requestId = 'a0000000-0000-4000-8000-000000000001';
      await app.privacy.repo.insertRequest({
        request_id: requestId, app_id: appId, scope: 'end_user', subject_digest: app.privacy.deletions.subjectDigest(appId, { kind: 'end_user', endUserId: 'eu-crash-3k' }),
        subject_sealed: app.keyring.sealSecret(JSON.stringify({ kind: 'end_user', endUserId: 'eu-crash-3k' }), `deletion:${requestId}`),
        status: 'running', requested_by: t.creds.SubUin, created_at: app.clock.now(), completed_at: null, attempts: 0, receipt: null, digest: null,
      });
      // A second process on the same data (as after a restart) picks it up at start.
      const config = loadConfig({ FACEVAULT_DATA_DIR: t.dataDir, FACEVAULT_INFERENCE_THREADS: '1', ...b.env }, 1);
      const second = await createApp(config, { pgSchema: b.schema });
      try {
        await second.privacy.resume();
        // The first process is alive too, and its takeover timer (every half lease) may claim the
        // expired request first; either way the request must end done, and only once.
        const deadline = Date.now() + 60_000;
        let row = await second.db.kysely.selectFrom('deletion_requests').selectAll().where('request_id', '=', requestId).executeTakeFirstOrThrow();
        while (row.status !== 'done' && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          row = await second.db.kysely.selectFrom('deletion_requests').selectAll().where('request_id', '=', requestId).executeTakeFirstOrThrow();
        }
        expect(row.status).toBe('done');
        expect(row.subject_sealed).toBeNull();
        expect(JSON.parse(row.receipt!).Deleted.RunningLogRecords).toBe(1);
      } finally { await second.close(); }
      expect(await app.runningLog.byRequestId('req-crash')).toBeUndefined();
      const d = await ext.request('DescribeDeletionRequests', {});
      expect(d.TotalCount).toBe(3);
      expect(d.DeletionRequests.every((x: any) => x.Status === 'DONE' && /^[0-9a-f]{64}$/.test(x.Digest))).toBe(true);
    }, 120_000);
  });
}
