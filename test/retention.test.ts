// Retention end to end with an injected clock (never a real sleep): data of every class is
// written through the API, the clock passes each limit, the sweep runs, and exactly the expired
// data is gone from the database, the object store and the search index; nothing else is.
import fs from 'node:fs';
import sharp from 'sharp';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason, td, tdBase64 } from './helpers/testdata.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { RetentionSweeper } from '../src/jobs/retention-sweeper.ts';
import { ExpiryRepo } from '../src/store/db/expiry.ts';
import { BlobRecords } from '../src/store/blobs/blob-records.ts';
import type { BlobStore } from '../src/store/blobs/blob-store.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';
import { schemaTables } from '../src/store/db/tables.ts';

const DAY = 86_400_000;
const TEMPLATE = ['faces', 'identities', 'obama', 'obama-720p.jpg'];
const USER = ['faces', 'identities', 'biden', 'biden2.jpg'];
const jpeg = async (parts: string[], width: number) => (await sharp(fs.readFileSync(td(...parts))).resize({ width }).jpeg().toBuffer()).toString('base64');

type Snapshot = Record<string, string[]>;

const backends: { name: string; env: Record<string, string>; opts: () => { pgSchema?: string } }[] = [
  { name: 'sqlite', env: {}, opts: () => ({}) },
  ...(PG_URL ? [{ name: 'postgres', env: { FACEVAULT_DATABASE_URL: PG_URL }, opts: () => ({ pgSchema: freshPgSchema() }) }] : []),
];
if (!PG_URL) console.log(pgSkipReason);

for (const b of backends) describe.skipIf(!hasTestdata)(`retention sweep on ${b.name}${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let t: TestServer;
  const clock = new ManualClock();
  const t0 = clock.now();
  let fuseUrl = '';
  let ultraUrl = '';

  // Every row of every table (by a stable identity) and every object key.
  async function snapshot(): Promise<Snapshot> {
    const k = t.run.app.db.kysely;
    const tables = (await schemaTables(t.run.app.db)).map((x) => x.name).filter((n) => !n.startsWith('kysely_')).sort();
    const out: Snapshot = {};
    for (const name of tables) {
      const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(k)).rows;
      out[name] = rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).filter(([c]) => !Buffer.isBuffer(r[c]))))).sort();
    }
    out['<objects>'] = (await t.run.app.blobs.list('')).sort();
    return out;
  }
  const minus = (a: Snapshot, b: Snapshot): Snapshot => Object.fromEntries(Object.keys(a).map((k) => [k, a[k].filter((x) => !(b[k] ?? []).includes(x))]).filter(([, v]) => v.length));
  const sweep = () => t.run.app.retention.sweeper.sweep();
  const status = async (url: string) => (await fetch(url)).status;

  beforeAll(async () => {
    t = await startTestServer({ FACEVAULT_FUSION_THREADS: '1', ...b.env }, { clock, ...b.opts() });
    await t.run.app.retention.scheduler.stop(); // the test runs each sweep itself
    const ff = t.common('facefusion');
    const a = await ff.request('CreateActivity', { ActivityName: 'r', Status: 'PUBLISHED' });
    const m = await ff.request('CreateMaterial', { ActivityId: a.ActivityId, MaterialName: 'obama', Image: tdBase64(...TEMPLATE) });
    const user = await jpeg(USER, 400);
    fuseUrl = (await t.facefusion().FuseFace({ ProjectId: a.ActivityId, ModelId: m.MaterialId, RspImgType: 'url', MergeInfos: [{ Image: user }] })).FusedImage;
    ultraUrl = (await t.facefusion().FuseFaceUltra({ RspImgType: 'url', ModelImage: await jpeg(TEMPLATE, 640), MergeInfos: [{ Image: user }], SwapModelType: 2 })).FusedImage;

    const iai = t.iai();
    await iai.CreateGroup({ GroupId: 'g', GroupName: 'G' });
    await iai.CreatePerson({ GroupId: 'g', PersonId: 'keep', PersonName: 'Keep', Image: tdBase64('faces', 'identities', 'obama', 'obama.jpg') });
    await iai.CreatePerson({ GroupId: 'g', PersonId: 'expire', PersonName: 'Expire', Image: tdBase64('faces', 'identities', 'biden', 'biden.jpg') });
    // A person with a retention term (as a consent's term would set it): 2 days.
    await t.run.app.db.kysely.updateTable('persons').set({ expires_at: t0 + 2 * DAY }).where('person_id', '=', 'expire').execute();

    // A table created after the sweeper was written (as video jobs will be): covered by introspection.
    const k = t.run.app.db.kysely;
    await sql`create table video_jobs_probe (id text primary key, app_id bigint not null, data_class text not null, expires_at bigint)`.execute(k);
    await k.insertInto('video_jobs_probe' as any).values([
      { id: 'v-old', app_id: t.creds.AppId, data_class: 'video_result', expires_at: t0 + DAY },
      { id: 'v-kept', app_id: t.creds.AppId, data_class: 'video_result', expires_at: null },
    ]).execute();
    await t.run.app.blobs.put('video/probe.mp4', Buffer.from('not really a video'), 'video/mp4');
    await k.insertInto('blobs').values({ key: 'video/probe.mp4', app_id: t.creds.AppId, data_class: 'video_result', expires_at: t0 + DAY, size: 18, content_type: 'video/mp4', owner_ref: 'v-old', created_at: t0 }).execute();
  }, 300_000);
  afterAll(async () => { await t?.stop(); });

  it('passes each limit: exactly the expired rows, objects and index entries go', async () => {
    expect(await status(fuseUrl)).toBe(200);
    expect(await status(ultraUrl)).toBe(200);
    const start = await snapshot();
    expect(start.fusion_results).toHaveLength(2);
    expect(start.fusion_log).toHaveLength(2);

    // Nothing has expired yet: a sweep is a no-op.
    let r = await sweep();
    expect(r.errors).toEqual([]);
    expect(await snapshot()).toEqual(start);

    // Day 1 + 1 s: FuseFaceUltra results and video data expire. The URL stops first, before any sweep.
    clock.set(t0 + DAY + 1000);
    expect(await status(ultraUrl)).toBe(403);
    expect(await status(fuseUrl)).toBe(200);
    const beforeDay1 = await snapshot();
    r = await sweep();
    expect(r.errors).toEqual([]);
    expect(r.blobs).toBe(2);
    // library_changes: the index's replay log, kept 1 hour (src/store/library/library-repo.ts), expires too.
    expect(r.rows).toEqual({ fusion_results: 1, video_jobs_probe: 1, library_changes: 3 });
    const afterDay1 = await snapshot();
    const goneDay1 = minus(beforeDay1, afterDay1);
    expect(Object.keys(goneDay1).sort()).toEqual(['<objects>', 'blobs', 'fusion_results', 'library_changes', 'video_jobs_probe']);
    expect(goneDay1['<objects>'].sort()).toEqual([expect.stringMatching(/^fusion\/\d+\/results\/[A-Za-z0-9_-]{32}\.jpg$/), 'video/probe.mp4'].sort());
    expect(goneDay1['<objects>'].some((k) => ultraUrl.includes(k.split('/').pop()!))).toBe(true);
    expect(goneDay1.blobs.map((b) => JSON.parse(b).data_class).sort()).toEqual(['fused_result_ultra', 'video_result']);
    expect(goneDay1.video_jobs_probe.map((x) => JSON.parse(x).id)).toEqual(['v-old']);
    expect(minus(afterDay1, beforeDay1)).toEqual({});

    // Day 2 + 1 s: the person with a 2-day term goes, through the library (index follows).
    clock.set(t0 + 2 * DAY + 1000);
    r = await sweep();
    expect(r.errors).toEqual([]);
    expect(r.rows).toMatchObject({ persons: 1 });
    const afterDay2 = await snapshot();
    const goneDay2 = minus(afterDay1, afterDay2);
    for (const table of ['persons', 'faces', 'group_persons']) {
      expect(goneDay2[table]?.length, table).toBe(1);
      expect(goneDay2[table][0]).toContain('"person_id":"expire"');
    }
    expect(t.run.app.library.index.snapshot(t.creds.AppId, 'g')!.persons).toEqual(new Set(['keep']));

    // Day 7 + 1 s: FuseFace results and the fusion log expire.
    clock.set(t0 + 7 * DAY + 1000);
    expect(await status(fuseUrl)).toBe(403);
    r = await sweep();
    expect(r.errors).toEqual([]);
    expect(r.blobs).toBe(1);
    const afterDay7 = await snapshot();
    const goneDay7 = minus(afterDay2, afterDay7);
    expect(goneDay7.fusion_log).toHaveLength(2);
    expect(goneDay7.fusion_results).toHaveLength(1);
    expect(goneDay7.blobs.map((b) => JSON.parse(b).data_class)).toEqual(['fused_result']);
    expect(goneDay7['<objects>']).toHaveLength(1);
    expect(Object.keys(goneDay7).sort()).toEqual(['<objects>', 'blobs', 'fusion_log', 'fusion_results', 'library_changes']);
    // What stays: material (row, faces, image), activity, the kept person, running log, accounts, audit.
    for (const table of ['fusion_activities', 'fusion_materials', 'fusion_material_faces', 'running_log', 'apps', 'api_keys', 'audit_log']) {
      expect(afterDay7[table], table).toEqual(start[table]);
    }
    // The group stays; its counts (GetPersonList's PersonNum/FaceNum) lost the expired person and its face.
    const counts = (rows: string[]) => rows.map((x) => { const g = JSON.parse(x); return { ...g, person_num: undefined, face_num: undefined, n: [g.person_num, g.face_num] }; });
    expect(counts(afterDay7.face_groups).map((g) => ({ ...g, n: undefined }))).toEqual(counts(start.face_groups).map((g) => ({ ...g, n: undefined })));
    expect(counts(start.face_groups).map((g) => g.n)).toEqual([[2, 2]]);
    expect(counts(afterDay7.face_groups).map((g) => g.n)).toEqual([[1, 1]]);
    expect(afterDay7['<objects>']).toEqual(start['<objects>'].filter((k) => k.includes('/materials/') || k.startsWith('library/') || !/results|video/.test(k)));
    expect(afterDay7['<objects>'].length).toBeGreaterThan(0);

    // A second sweep has nothing left to do.
    const again = await sweep();
    expect([again.blobs, again.rows, again.errors]).toEqual([0, {}, []]);
    expect(await snapshot()).toEqual(afterDay7);

    // The kept person is still found by search (clock back to real time for SDK signatures).
    clock.set(Date.now());
    const s = await t.iai().SearchPersons({ GroupIds: ['g'], Image: tdBase64('faces', 'identities', 'obama', 'obama2.jpg'), MaxPersonNum: 5 });
    expect(s.Results[0].Candidates.map((c: any) => c.PersonId)).toEqual(['keep']);
  }, 300_000);

  it('is crash-safe: an object deleted but its row left (or a failing store) is finished by the next sweep', async () => {
    const app = t.run.app;
    const k = app.db.kysely;
    const now = clock.now();
    const put = async (key: string) => {
      await app.blobs.put(key, Buffer.from(key), 'text/plain');
      await k.insertInto('blobs').values({ key, app_id: t.creds.AppId, data_class: 'fused_result', expires_at: now - 1, size: key.length, content_type: 'text/plain', owner_ref: null, created_at: now - 10 }).execute();
    };
    await put('crash/a.bin');
    await put('crash/b.bin');
    // Crash after deleting a's object, before its row: the row is left.
    await app.blobs.delete('crash/a.bin');
    // And a store that fails for b: the sweep reports it and keeps b's row.
    const failing: BlobStore = Object.assign(Object.create(app.blobs), { delete: async (key: string) => { if (key === 'crash/b.bin') throw new Error('store down'); return app.blobs.delete(key); } });
    const flaky = new RetentionSweeper({ expiry: new ExpiryRepo(app.db), blobRecords: new BlobRecords(app.db), blobs: failing, clock });
    const r1 = await flaky.sweep();
    expect(r1.errors.join()).toContain('could not be deleted (first: crash/b.bin)');
    expect((await k.selectFrom('blobs').select('key').where('key', 'like', 'crash/%').execute()).map((x) => x.key)).toEqual(['crash/b.bin']);
    expect(await app.blobs.exists('crash/b.bin')).toBe(true);
    const r2 = await app.retention.sweeper.sweep();
    expect(r2.errors).toEqual([]);
    expect(r2.blobs).toBe(1);
    expect(await k.selectFrom('blobs').select('key').where('key', 'like', 'crash/%').execute()).toEqual([]);
    expect(await app.blobs.exists('crash/b.bin')).toBe(false);
  });

  it('deletes in batches: more expired rows than one batch', async () => {
    const app = t.run.app;
    const k = app.db.kysely;
    const now = clock.now();
    await k.insertInto('fusion_log').values(Array.from({ length: 23 }, (_, i) => ({
      id: `batch-${i}`, time: now, app_id: t.creds.AppId, uin: 'u', sub_uin: 'u', request_id: `r${i}`, client_ip: '127.0.0.1', latency_ms: 1,
      region: 'ap-guangzhou', action: 'FuseFace', activity_id: null, material_id: null, image_urls: '[]', result_url: null, code: '',
      data_class: 'fusion_log', expires_at: i < 17 ? now - 1 : now + DAY,
    }))).execute();
    const small = new RetentionSweeper({ expiry: new ExpiryRepo(app.db), blobRecords: new BlobRecords(app.db), blobs: app.blobs, clock, batchSize: 5 });
    expect((await small.sweep()).rows.fusion_log).toBe(17);
    expect((await k.selectFrom('fusion_log').select('id').where('id', 'like', 'batch-%').execute()).length).toBe(6);
  });
});
