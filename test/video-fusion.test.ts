// Video face fusion through the official SDK, both dialects, on a 24-frame cut of the test clip
// (made in beforeAll): submit → poll → the result mp4 probed (frames, duration, audio, the mark
// in the container metadata). Also: the limits and codes, a job whose process "died" holding it
// (its lease runs out; another runner finishes it once), cancel, and deletion reaching every
// video row and object.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, tempDir, type TestServer } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { cutHamilton, solidClip } from './helpers/video-clip.ts';
import { decodeFrames, probeVideo } from '../src/vision/video/index.ts';
import type { EmbeddedVideoQueue } from '../src/jobs/video-queue.ts';
import { schemaTables } from '../src/store/db/tables.ts';

const USER = td('faces', 'identities', 'obama', 'obama.jpg');

describe.skipIf(!hasTestdata)(`video face fusion${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let t: TestServer;
  let files: http.Server;
  let filesUrl = '';
  const dir = tempDir('facevault-video-');
  const clip = path.join(dir, 'clip.mp4');
  let activityId = '', materialId = '';
  const userB64 = () => fs.readFileSync(USER).toString('base64');
  const queue = () => t.run.app.videoQueue as EmbeddedVideoQueue;

  beforeAll(async () => {
    cutHamilton(clip, 100, 24);
    solidClip(path.join(dir, 'long.mp4'), { width: 64, height: 64, fps: 2, frames: 44 });
    solidClip(path.join(dir, 'fast.mp4'), { width: 64, height: 64, fps: 150, frames: 6 });
    // A 60 fps phone-like clip: each frame of the cut twice, at 60 fps (24 frames → 48).
    cutHamilton(path.join(dir, 'clip60.mp4'), 100, 24, { double: true });
    files = http.createServer((req, res) => {
      const f = path.join(dir, path.basename(req.url ?? ''));
      if (!fs.existsSync(f)) { res.statusCode = 404; res.end(); return; }
      res.setHeader('content-type', f.endsWith('.mp4') ? 'video/mp4' : 'image/jpeg');
      res.end(fs.readFileSync(f));
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
    filesUrl = `http://127.0.0.1:${(files.address() as { port: number }).port}`;
    fs.copyFileSync(USER, path.join(dir, 'user.jpg'));
    t = await startTestServer({ FACEVAULT_FUSION_THREADS: '2', FACEVAULT_VIDEO_LEASE_SECONDS: '2', FACEVAULT_URL_ALLOWLIST: filesUrl.replace('http://', '') });
    const ff = t.common('facefusion');
    activityId = (await ff.request('CreateActivity', { ActivityName: 'video', Status: 'PUBLISHED' })).ActivityId;
    const m = await ff.request('CreateMaterial', { ActivityId: activityId, MaterialName: 'clip', Image: fs.readFileSync(clip).toString('base64') });
    materialId = m.MaterialId;
    expect(m.Material.MaterialStatus).toBe(0);
    await t.run.app.video.materials.idle();
  }, 180_000);
  afterAll(async () => { await t?.stop(); files?.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  /** Downloads a result link and probes it. */
  async function fetchResult(url: string) {
    const r = await fetch(url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('video/mp4');
    const p = path.join(dir, `result-${Date.now()}.mp4`);
    fs.writeFileSync(p, Buffer.from(await r.arrayBuffer()));
    return { path: p, info: probeVideo(p) };
  }

  async function poll<T>(fn: () => Promise<T>, done: (v: T) => boolean, ms = 120_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (done(v) || Date.now() > end) return v;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('a video material is tracked: MaterialStatus 31 with its face, metadata kept as derivative data', async () => {
    const ff = t.common('facefusion');
    const l = await ff.request('DescribeMaterialList', { ActivityId: activityId, MaterialId: materialId });
    const info = l.MaterialInfos[0];
    expect(info.MaterialStatus).toBe(31);
    expect(info.MaterialFaceList.length).toBeGreaterThanOrEqual(1);
    const row = await t.run.app.video.repo.material(t.creds.AppId, materialId);
    expect(row?.state).toBe('ready');
    const meta = JSON.parse(row!.info);
    expect(meta).toMatchObject({ codec: 'h264', width: 640, height: 360, frames: 24, audio: { channels: 2, sampleRate: 44100 } });
    // One track through all 24 frames (stable identity), with a mesh in each.
    const loaded = await t.run.app.video.materials.load({ appId: t.creds.AppId, uin: '', subUin: '' }, activityId, materialId);
    const tracks = loaded.tracks;
    const main = tracks.reduce((a, b) => (b.points.length > a.points.length ? b : a));
    expect(main.points.length).toBe(24);
    // The picture area (inside letterbox bars, test/video-letterbox.test.ts) is kept with the tracks: this clip has none.
    expect(loaded.picture).toEqual({ x0: 0, y0: 0, x1: 640, y1: 360 });
    expect(main.points.every((p) => p.mesh)).toBe(true);
  });

  it('intl: SubmitVideoFaceFusionJob → QueryVideoFaceFusionJob 7 → the mp4 keeps frames, duration and audio, and is marked', async () => {
    const ff = t.common('facefusion');
    const s = await ff.request('SubmitVideoFaceFusionJob', { ProjectId: activityId, ModelId: materialId, MergeInfos: [{ Image: userB64() }] });
    expect(s.JobId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(typeof s.EstimatedProcessTime).toBe('number');
    expect(s.JobQueueLength).toBeGreaterThanOrEqual(0);
    const q = await poll(() => ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId }), (r: any) => r.JobStatusCode === 7 || r.JobStatusCode === 5);
    expect(q.JobStatusCode, q.JobErrorMsg).toBe(7);
    const o = q.VideoFaceFusionOutput;
    expect(o).toMatchObject({ Width: 640, Height: 360, Frame: 24 });
    expect(o.FPS).toBeCloseTo(29.97, 1);
    const res = await fetchResult(o.VideoUrl);
    const src = probeVideo(clip);
    expect(Math.abs(res.info.frames - 24)).toBeLessThanOrEqual(1);
    expect(res.info.durationSec).toBeCloseTo(src.durationSec, 1);
    expect(res.info.audio).toMatchObject({ codec: 'aac', channels: 2, sampleRate: 44100 });
    expect(res.info.tags.comment).toMatch(/AI-GENERATED/);
    expect(JSON.parse(res.info.tags.aigc)).toMatchObject({ Label: '1', ProduceID: s.JobId });
    // The face changed and the rest did not: compare a frame with the template's.
    const a = [...decodeFrames(clip)][12].rgb, b = [...decodeFrames(res.path)][12].rgb;
    const main = (await t.run.app.video.materials.load({ appId: t.creds.AppId, uin: '', subUin: '' }, activityId, materialId)).tracks[0].points[12].box;
    let inFace = 0, outside = 0, nIn = 0, nOut = 0;
    for (let y = 0; y < 360; y += 2) for (let x = 0; x < 640; x += 2) {
      const i = (y * 640 + x) * 3, d = Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]);
      const inside = x > main.x + main.width * 0.25 && x < main.x + main.width * 0.75 && y > main.y + main.height * 0.3 && y < main.y + main.height * 0.8;
      const far = y < 300 && (x < main.x - main.width || x > main.x + 2 * main.width);
      if (inside) { inFace += d; nIn++; } else if (far) { outside += d; nOut++; }
    }
    expect(inFace / nIn).toBeGreaterThan(4 * (outside / nOut) + 5);
  }, 120_000);

  it('while a video job runs, /healthz and DetectFace answer (the job\'s decoding and encoding are off the event loop)', async () => {
    const ff = t.common('facefusion');
    const photo = fs.readFileSync(td('faces', 'identities', 'biden', 'biden.jpg')).toString('base64');
    const s = await ff.request('SubmitVideoFaceFusionJob', { ProjectId: activityId, ModelId: materialId, MergeInfos: [{ Image: userB64() }] });
    const status = async () => (await ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId })).JobStatusCode as number;
    // An answer counts when the job was running both before it was asked and after it came back.
    let health = 0, detect = 0, last = 0;
    const end = Date.now() + 120_000;
    while (Date.now() < end && (last = await status()) !== 7 && last !== 5) {
      if (last !== 3) { await new Promise((r) => setTimeout(r, 20)); continue; }
      const h = await fetch(`${t.url}/healthz`);
      expect(h.status).toBe(200);
      await h.arrayBuffer();
      if ((await status()) === 3) health++;
      if (!detect) {
        const d = await t.iai().DetectFace({ Image: photo });
        expect(d.FaceInfos.length).toBeGreaterThanOrEqual(1);
        if ((await status()) === 3) detect++;
      }
    }
    expect(last).toBe(7);
    expect(health, 'a /healthz answered while the job was running').toBeGreaterThanOrEqual(1);
    expect(detect, 'a DetectFace answered while the job was running').toBe(1);
  }, 150_000);

  it('vclm: SubmitVideoFaceFusionJob from a VideoUrl → DescribeVideoFaceFusionJob DONE → the result, with LogoAdd=0', async () => {
    const v = t.vclm();
    const s = await v.SubmitVideoFaceFusionJob({ VideoUrl: `${filesUrl}/clip.mp4`, MergeInfos: [{ MergeFaceImage: { Url: `${filesUrl}/user.jpg` } }], LogoAdd: 0 });
    const d = await poll(() => v.DescribeVideoFaceFusionJob({ JobId: s.JobId }), (r: any) => r.Status === 'DONE' || r.Status === 'FAIL');
    expect(d.Status, d.ErrorMessage).toBe('DONE');
    expect(d.ErrorCode).toBe('');
    const res = await fetchResult(d.ResultVideoUrl);
    expect(res.info.frames).toBe(24);
    expect(res.info.audio?.channels).toBe(2);
    // LogoAdd=0 drops the visible label but never the metadata mark.
    expect(res.info.tags.aigc).toBeTruthy();
    // A tampered or foreign link is refused.
    expect((await fetch(d.ResultVideoUrl.replace(/Signature=[0-9a-f]{4}/, 'Signature=0000'))).status).toBe(403);
  }, 120_000);

  it('vclm: a 60 fps clip is resampled to 30 (every 2nd frame kept); duration and audio kept', async () => {
    const src = probeVideo(path.join(dir, 'clip60.mp4'));
    expect(src).toMatchObject({ step: 2, frames: 24 });
    expect(src.sourceFps).toBeCloseTo(59.94, 1);
    const v = t.vclm();
    const s = await v.SubmitVideoFaceFusionJob({ VideoUrl: `${filesUrl}/clip60.mp4`, MergeInfos: [{ MergeFaceImage: { Url: `${filesUrl}/user.jpg` } }] });
    const d = await poll(() => v.DescribeVideoFaceFusionJob({ JobId: s.JobId }), (r: any) => r.Status === 'DONE' || r.Status === 'FAIL');
    expect(d.Status, d.ErrorMessage).toBe('DONE');
    const res = await fetchResult(d.ResultVideoUrl);
    expect(res.info.frames).toBe(24);
    expect(res.info.fps).toBeCloseTo(29.97, 1);
    expect(res.info.step).toBe(1);
    expect(res.info.durationSec).toBeCloseTo(src.durationSec, 1);
    expect(res.info.audio?.channels).toBe(2);
  }, 120_000);

  it('limits and codes', async () => {
    const ff = t.common('facefusion');
    const v = t.vclm();
    expect(await errorCode(v.SubmitVideoFaceFusionJob({ VideoUrl: `${filesUrl}/long.mp4`, MergeInfos: [{ MergeFaceImage: { Url: `${filesUrl}/user.jpg` } }] }))).toBe('InvalidParameter.InvalidParameter');
    expect(await errorCode(v.SubmitVideoFaceFusionJob({ VideoUrl: `${filesUrl}/fast.mp4`, MergeInfos: [{ MergeFaceImage: { Url: `${filesUrl}/user.jpg` } }] }))).toBe('InvalidParameter.InvalidParameter');
    expect(await errorCode(v.SubmitVideoFaceFusionJob({ VideoUrl: `${filesUrl}/user.jpg`, MergeInfos: [{ MergeFaceImage: { Url: `${filesUrl}/user.jpg` } }] }))).toBe('FailedOperation.ImageNotSupported');
    expect(await errorCode(v.SubmitVideoFaceFusionJob({ VideoUrl: `${filesUrl}/clip.mp4`, MergeInfos: Array.from({ length: 7 }, () => ({ MergeFaceImage: { Url: `${filesUrl}/user.jpg` } })) }))).toBe('InvalidParameter.InvalidParameter');
    expect(await errorCode(v.DescribeVideoFaceFusionJob({ JobId: 'nope' }))).toBe('FailedOperation.JobNotFound');
    expect(await errorCode(ff.request('QueryVideoFaceFusionJob', { JobId: 'nope' }))).toBe('FailedOperation.JobNotExist');
    expect(await errorCode(ff.request('SubmitVideoFaceFusionJob', { ProjectId: activityId, ModelId: materialId, MergeInfos: [{ Image: userB64() }, { Image: userB64() }] }))).toBe('InvalidParameterValue.ParameterValueError');
    expect(await errorCode(ff.request('SubmitVideoFaceFusionJob', { ProjectId: activityId, ModelId: materialId, MergeInfos: [{ Image: userB64(), TemplateFaceID: '9' }] }))).toBe('FailedOperation.FaceIdNotInVideo');
    // A too-long clip as a material is refused at once.
    expect(await errorCode(ff.request('CreateMaterial', { ActivityId: activityId, Image: fs.readFileSync(path.join(dir, 'long.mp4')).toString('base64') }))).toBe('InvalidParameterValue.ParameterValueError');
    // A job on an image material is refused.
    const img = await ff.request('CreateMaterial', { ActivityId: activityId, Image: fs.readFileSync(td('faces', 'identities', 'biden', 'biden.jpg')).toString('base64') });
    expect(await errorCode(ff.request('SubmitVideoFaceFusionJob', { ProjectId: activityId, ModelId: img.MaterialId, MergeInfos: [{ Image: userB64() }] }))).toBe('FailedOperation.FuseMaterialNotAvailable');
  }, 60_000);

  it('a job whose runner died keeps no second result: its lease runs out, another runner finishes it once', async () => {
    const app = t.run.app;
    await queue().stop();
    await queue().idle();
    const ff = t.common('facefusion');
    const s = await ff.request('SubmitVideoFaceFusionJob', { ProjectId: activityId, ModelId: materialId, MergeInfos: [{ Image: userB64() }] });
    // A runner takes the job and then dies: it never reports progress again.
    const dead = await app.video.repo.claim('dead-process', Date.now(), 2000, 3, s.JobId);
    expect(dead?.status).toBe('running');
    expect((await ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId })).JobStatusCode).toBe(3);
    await queue().start();
    const q = await poll(() => ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId }), (r: any) => r.JobStatusCode === 7 || r.JobStatusCode === 5, 60_000);
    expect(q.JobStatusCode, q.JobErrorMsg).toBe(7);
    const row = await app.video.repo.jobById(s.JobId);
    expect(row?.attempts).toBe(2);
    // The dead runner's late result is refused: the job is not its any more.
    expect(await app.video.repo.finish(s.JobId, 'dead-process', { status: 'failed', error_code: 'X' }, null)).toBe(false);
    expect((await app.video.repo.jobById(s.JobId))?.status).toBe('done');
    const results = (await app.blobs.list(`video/${t.creds.AppId}/results/`)).filter((k) => k.includes(s.JobId));
    expect(results).toHaveLength(1);
    // Inputs (the user photo) are released once the job ended.
    expect((await app.blobs.list(`video/${t.creds.AppId}/jobs/${s.JobId}/`))).toEqual([]);
  }, 90_000);

  it('a queued job can be cancelled (Cancel=1): status 5 JobHasBeenCanceled, its photo removed', async () => {
    const app = t.run.app;
    await queue().stop();
    await queue().idle();
    const ff = t.common('facefusion');
    const s = await ff.request('SubmitVideoFaceFusionJob', { ProjectId: activityId, ModelId: materialId, MergeInfos: [{ Image: userB64() }] });
    expect((await app.blobs.list(`video/${t.creds.AppId}/jobs/${s.JobId}/`)).length).toBe(1);
    const c = await ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId, Cancel: 1 });
    expect(c).toMatchObject({ JobStatusCode: 5, JobErrorCode: 'FailedOperation.JobHasBeenCanceled' });
    expect(await app.blobs.list(`video/${t.creds.AppId}/jobs/${s.JobId}/`)).toEqual([]);
    await queue().start();
    await new Promise((r) => setTimeout(r, 500));
    await queue().idle();
    expect((await ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId })).JobStatusCode).toBe(5);
  }, 30_000);

  /** Every table's rows and every object key, searched for the needles. */
  async function scan(needles: string[]): Promise<string[]> {
    const app = t.run.app;
    const db = app.db.kysely;
    const hits: string[] = [];
    for (const table of (await schemaTables(app.db)).map((x) => x.name)) {
      const text = JSON.stringify(await db.selectFrom(table as never).selectAll().execute());
      for (const n of needles) if (text.includes(n)) hits.push(`${n} in ${table}`);
    }
    for (const k of await app.blobs.list('')) for (const n of needles) if (k.includes(n)) hits.push(`${n} in object ${k}`);
    return hits;
  }

  it('a deletion request by EndUserId removes that end user\'s video jobs (queued too) with their photos and template copies', async () => {
    await queue().stop();
    await queue().idle();
    const v = t.vclm();
    const s = await t.common('vclm').request('SubmitVideoFaceFusionJob', { VideoUrl: `${filesUrl}/clip.mp4`, MergeInfos: [{ MergeFaceImage: { Url: `${filesUrl}/user.jpg` } }], EndUserId: 'eu-video-7q' });
    expect((await v.DescribeVideoFaceFusionJob({ JobId: s.JobId })).Status).toBe('WAIT');
    expect((await scan([s.JobId])).some((h) => h.includes('object'))).toBe(true);
    const r = (await t.common('iai').request('CreateDeletionRequest', { EndUserId: 'eu-video-7q' })).DeletionRequest;
    expect(r.Status).toBe('DONE');
    expect(await scan([s.JobId, 'eu-video-7q'])).toEqual([]);
    expect(await errorCode(v.DescribeVideoFaceFusionJob({ JobId: s.JobId }))).toBe('FailedOperation.JobNotFound');
    await queue().start();
  }, 30_000);

  it('DeleteMaterial removes the video, its tracks, its jobs (queued ones too) and their results: no row or object left', async () => {
    const app = t.run.app;
    const ff = t.common('facefusion');
    const jobs = (await app.video.repo.jobsOfMaterials(t.creds.AppId, [materialId])).map((j) => j.job_id);
    await queue().stop();
    await queue().idle();
    const queued = await ff.request('SubmitVideoFaceFusionJob', { ProjectId: activityId, ModelId: materialId, MergeInfos: [{ Image: userB64() }] });
    jobs.push(queued.JobId);
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    await ff.request('DeleteMaterial', { MaterialId: materialId });
    // Every table, every row, as text; every object key.
    expect(await scan([materialId, ...jobs])).toEqual([]);
    await queue().start();
  }, 30_000);
});
