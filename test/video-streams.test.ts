// Video objects by stream, end to end (docs/ARCHITECTURE.md, "Streaming objects"): a video
// material uploaded as a multipart file part reaches the object store unchanged without being
// read into memory; a job's result is stored and PUT to UserDesignatedUrl from its file (the
// MD5 the caller is told is the bytes it gets); the job's scratch files are gone after success,
// failure and cancellation; the orphan sweep deletes video objects no row names and keeps the
// rest. Then the memory bound: the I/O path over a long 1280x720 video grows RSS by a small
// fraction of the video's size, and not with it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { grainyHamilton, noiseClip } from './helpers/video-clip.ts';
import type { EmbeddedVideoQueue } from '../src/jobs/video-queue.ts';
import { sweepOrphanObjects } from '../src/jobs/orphan-objects.ts';
import { BlobRecords } from '../src/store/blobs/blob-records.ts';
import { LocalBlobStore } from '../src/store/blobs/blob-local.ts';
import { fetchToFile, sendToUrl } from '../src/services/media/image-input.ts';
import { probeTemplateFile } from '../src/services/video/video-materials.ts';
import { parseMultipartFile, isSpooledPart } from '../src/api/protocol/multipart.ts';

const USER = td('faces', 'identities', 'obama', 'obama.jpg');
const md5 = async (file: string) => { const h = crypto.createHash('md5'); for await (const c of fs.createReadStream(file)) h.update(c as Buffer); return h.digest('hex'); };

/** A loopback server: GET /<name> streams a file of `dir`; PUT /<name> is hashed as it arrives (never kept). */
async function fileServer(dir: string) {
  const puts: { name: string; bytes: number; md5: string }[] = [];
  const server = http.createServer((req, res) => {
    const name = path.basename(req.url ?? '');
    if (req.method === 'PUT') {
      const h = crypto.createHash('md5');
      let n = 0;
      req.on('data', (c: Buffer) => { h.update(c); n += c.length; });
      req.on('end', () => { puts.push({ name, bytes: n, md5: h.digest('hex') }); res.statusCode = 200; res.end(); });
      return;
    }
    // chunked-<name>: the file without a Content-Length.
    const chunked = name.startsWith('chunked-');
    const f = path.join(dir, chunked ? name.slice('chunked-'.length) : name);
    if (!fs.existsSync(f)) { res.statusCode = 404; res.end(); return; }
    res.setHeader('content-type', f.endsWith('.mp4') ? 'video/mp4' : 'image/jpeg');
    if (!chunked) res.setHeader('content-length', String(fs.statSync(f).size));
    fs.createReadStream(f).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return { server, host, url: `http://${host}`, puts };
}

describe.skipIf(!hasTestdata)(`video objects by stream${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let t: TestServer;
  let files: Awaited<ReturnType<typeof fileServer>>;
  const dir = tempDir('facevault-video-streams-');
  const clip = path.join(dir, 'clip.mp4');
  let activityId = '', materialId = '', blobKey = '';
  const userB64 = () => fs.readFileSync(USER).toString('base64');
  const queue = () => t.run.app.videoQueue as EmbeddedVideoQueue;
  const caller = () => ({ appId: t.creds.AppId, uin: 'system', subUin: 'system' });
  /** The video scratch directory (downloads, template copies, results being written). */
  const scratch = () => { const d = path.join(t.dataDir, 'tmp', 'video'); return fs.existsSync(d) ? fs.readdirSync(d) : []; };
  const spool = () => { const d = path.join(t.dataDir, 'tmp', 'uploads'); return fs.existsSync(d) ? fs.readdirSync(d) : []; };

  async function poll<T>(fn: () => Promise<T>, done: (v: T) => boolean, ms = 120_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (done(v) || Date.now() > end) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    // Grain and a low crf make the 24 frames a file of several MB: over the 1 MiB under which a
    // multipart file part is read into memory, so this one stays in the spooled body.
    grainyHamilton(clip, 100, 24);
    fs.copyFileSync(USER, path.join(dir, 'user.jpg'));
    files = await fileServer(dir);
    t = await startTestServer({ FACEVAULT_FUSION_THREADS: '2', FACEVAULT_VIDEO_LEASE_SECONDS: '4', FACEVAULT_UPLOAD_LIMIT: String(64 << 20), FACEVAULT_URL_ALLOWLIST: files.host });
    activityId = (await t.common('facefusion').request('CreateActivity', { ActivityName: 'streams', Status: 'PUBLISHED' })).ActivityId;
  }, 180_000);
  afterAll(async () => { await t?.stop(); files?.server.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('a multipart video material is stored by stream: the object is the upload byte for byte, no scratch or spool file left', async () => {
    expect(fs.statSync(clip).size).toBeGreaterThan(1 << 20);
    const ff = t.common('facefusion');
    const m = await ff.request('CreateMaterial', { ActivityId: activityId, MaterialName: 'grainy', Image: fs.readFileSync(clip) }, { multipart: true });
    materialId = m.MaterialId;
    expect(m.Material.MaterialStatus).toBe(0);
    await t.run.app.video.materials.idle();
    const l = await ff.request('DescribeMaterialList', { ActivityId: activityId, MaterialId: materialId });
    expect(l.MaterialInfos[0].MaterialStatus).toBe(31);
    const row = (await t.run.app.fusion.repo.material(t.creds.AppId, materialId))!;
    blobKey = row.blob_key;
    const stored = path.join(dir, 'stored.mp4');
    expect(await t.run.app.blobs.getToFile(blobKey, stored)).toBe(true);
    expect(await md5(stored)).toBe(await md5(clip));
    expect(scratch()).toEqual([]);
    await poll(async () => spool(), (s) => s.length === 0, 5000);
    expect(spool()).toEqual([]);
  }, 120_000);

  it('a video material by Url is downloaded to a scratch file and stored by stream (the object is the file); an image Url still makes an image material', async () => {
    const ff = t.common('facefusion');
    const m = await ff.request('CreateMaterial', { ActivityId: activityId, MaterialName: 'by-url', Url: `${files.url}/clip.mp4` });
    expect(m.Material.MaterialStatus).toBe(0);
    const row = (await t.run.app.fusion.repo.material(t.creds.AppId, m.MaterialId))!;
    const stored = path.join(dir, 'stored-url.mp4');
    expect(await t.run.app.blobs.getToFile(row.blob_key, stored)).toBe(true);
    expect(await md5(stored)).toBe(await md5(clip));
    const img = await ff.request('CreateMaterial', { ActivityId: activityId, MaterialName: 'image', Url: `${files.url}/user.jpg` });
    expect(img.Material.MaterialStatus).not.toBe(0);
    await t.run.app.video.materials.idle();
    expect(scratch()).toEqual([]);
  }, 120_000);

  it('a result is stored and PUT to UserDesignatedUrl from its file: VideoMD5 is what both the PUT and the link deliver; scratch files removed', async () => {
    const ff = t.common('facefusion');
    const s = await ff.request('SubmitVideoFaceFusionJob', { ProjectId: activityId, ModelId: materialId, MergeInfos: [{ Image: userB64() }], UserDesignatedUrl: `${files.url}/put-result.mp4` });
    const q = await poll(() => ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId }), (r: any) => r.JobStatusCode === 7 || r.JobStatusCode === 5);
    expect(q.JobStatusCode, q.JobErrorMsg).toBe(7);
    const o = q.VideoFaceFusionOutput;
    const put = files.puts.find((p) => p.name === 'put-result.mp4');
    expect(put?.md5).toBe(o.VideoMD5);
    const got = path.join(dir, 'got.mp4');
    const r = await fetch(o.VideoUrl);
    expect(r.status).toBe(200);
    await pipeline(r.body as unknown as NodeJS.ReadableStream, fs.createWriteStream(got));
    expect(await md5(got)).toBe(o.VideoMD5);
    expect(fs.statSync(got).size).toBe(put!.bytes);
    await queue().idle();
    expect(scratch()).toEqual([]);
  }, 120_000);

  it('scratch files are removed when a job fails (its template object is gone) and when it is cancelled while running', async () => {
    const v = t.vclm();
    const app = t.run.app;
    // Failure: the template copy disappears between submit and run.
    await queue().stop();
    await queue().idle();
    const failing = await v.SubmitVideoFaceFusionJob({ VideoUrl: `${files.url}/clip.mp4`, MergeInfos: [{ MergeFaceImage: { Url: `${files.url}/user.jpg` } }] });
    expect(scratch()).toEqual([]); // the submit's download is gone already
    const params = JSON.parse((await app.video.repo.jobById(failing.JobId))!.params);
    await app.blobs.delete(params.templateKey);
    await queue().start();
    const f = await poll(() => v.DescribeVideoFaceFusionJob({ JobId: failing.JobId }), (r: any) => r.Status === 'FAIL' || r.Status === 'DONE');
    expect(f.Status).toBe('FAIL');
    await queue().idle();
    expect(scratch()).toEqual([]);
    // Cancelled while running: during the tracking pass the template copy is in the scratch
    // directory; after the cancel it is not.
    const running = await v.SubmitVideoFaceFusionJob({ VideoUrl: `${files.url}/clip.mp4`, MergeInfos: [{ MergeFaceImage: { Url: `${files.url}/user.jpg` } }] });
    const seen = await poll(async () => ({ status: (await app.video.repo.jobById(running.JobId))!.status, files: scratch().length }), (x) => x.status !== 'queued' && x.status !== 'running' ? true : x.status === 'running' && x.files > 0, 60_000);
    expect(seen).toMatchObject({ status: 'running' });
    expect(seen.files).toBeGreaterThan(0);
    await app.video.jobs.cancel(caller(), running.JobId, 'vclm');
    await queue().idle();
    expect((await app.video.repo.jobById(running.JobId))!.status).toBe('cancelled');
    expect(scratch()).toEqual([]);
  }, 180_000);

  it('the orphan sweep deletes video objects no row names (a crash between object and row) and keeps those with rows', async () => {
    const app = t.run.app;
    const appId = t.creds.AppId;
    const kept = [...await app.blobs.list(`fusion/${appId}/materials/`), ...await app.blobs.list(`video/${appId}/`)];
    expect(kept).toContain(blobKey);
    expect(kept.some((k) => k.endsWith('.tracks'))).toBe(true);
    expect(kept.some((k) => k.startsWith(`video/${appId}/results/`))).toBe(true);
    const orphans = [`fusion/${appId}/materials/mt_crashed.mp4`, `video/${appId}/jobs/crashedjob/template.mp4`, `video/${appId}/jobs/crashedjob/user-0`, `video/${appId}/results/crashedjob.mp4`];
    for (const k of orphans) await app.blobs.putFile(k, clip, 'video/mp4');
    const records = new BlobRecords(app.db);
    // Within the grace period (a writer may be about to commit its row) nothing is deleted.
    expect(await sweepOrphanObjects(app.blobs, records, Date.now(), 3_600_000)).toBe(0);
    // Past it, exactly the orphans go.
    expect(await sweepOrphanObjects(app.blobs, records, Date.now() + 2 * 3_600_000, 3_600_000)).toBe(orphans.length);
    for (const k of orphans) expect(await app.blobs.exists(k), k).toBe(false);
    for (const k of kept) expect(await app.blobs.exists(k), k).toBe(true);
  }, 60_000);
});

/**
 * The memory bound of the I/O path a video takes (download, probe, store, read back to a file,
 * stream out, PUT from the file, a multipart body parsed in place), measured in one run on a
 * short and a long 1280x720 video: RSS is sampled every few ms and its peak growth compared with
 * the video's size. Code holding the video in memory would grow by at least its size; the
 * bound asserted is a fraction of it, and the growth from short to long a fraction of the
 * difference in size. No timing.
 */
describe.skipIf(!hasTestdata)(`video I/O memory bound${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  const dir = tempDir('facevault-video-mem-');
  let files: Awaited<ReturnType<typeof fileServer>>;
  beforeAll(async () => { files = await fileServer(dir); });
  afterAll(() => { files?.server.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  async function ioPath(name: string): Promise<{ size: number; growth: number }> {
    const src = path.join(dir, name);
    const size = fs.statSync(src).size;
    const store = await new LocalBlobStore(path.join(dir, `store-${name}`)).init();
    const work = path.join(dir, `work-${name}`);
    fs.mkdirSync(work);
    const base = process.memoryUsage().rss;
    let peak = base;
    const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 2);
    try {
      const dl = path.join(work, 'download.mp4');
      const policy = { allowList: [files.host], maxBytes: 1 << 30, timeoutMs: 300_000 };
      expect(await fetchToFile(`${files.url}/${name}`, policy, dl, 'VideoUrl')).toBe(size);
      const info = await probeTemplateFile(dl, size, 'VideoUrl', 'InvalidParameter', 'FailedOperation.ImageNotSupported');
      expect(info.width).toBe(1280);
      const put = await store.putFile('video/1/jobs/j/template.mp4', dl, 'video/mp4');
      expect(put.size).toBe(size);
      const back = path.join(work, 'back.mp4');
      expect(await store.getToFile('video/1/jobs/j/template.mp4', back)).toBe(true);
      let n = 0;
      for await (const c of (await store.getStream('video/1/jobs/j/template.mp4'))!) n += (c as Buffer).length;
      expect(n).toBe(size);
      expect(await sendToUrl(`${files.url}/put-${name}`, policy, { method: 'PUT', body: { file: back }, headers: { 'content-type': 'video/mp4' } }, 'UserDesignatedUrl')).toBe(200);
      expect(files.puts.find((p) => p.name === `put-${name}`)?.md5).toBe(put.md5);
      // A multipart body around the video, as the upload spool writes it, parsed in place.
      const body = path.join(work, 'body');
      const out = fs.createWriteStream(body);
      out.write('--B0undary\r\nContent-Disposition: form-data; name="Image"; filename="v.mp4"\r\nContent-Type: video/mp4\r\n\r\n');
      await new Promise<void>((resolve, reject) => { const r = fs.createReadStream(back); r.on('end', resolve).on('error', reject); r.pipe(out, { end: false }); });
      await new Promise<void>((r) => out.end('\r\n--B0undary\r\nContent-Disposition: form-data; name="ActivityId"\r\n\r\nat_1\r\n--B0undary--\r\n', () => r()));
      const parsed = await parseMultipartFile(body, 'B0undary');
      expect(isSpooledPart(parsed.Image) && parsed.Image.size).toBe(size);
      expect(parsed.ActivityId).toBe('at_1');
    } finally {
      clearInterval(sample);
    }
    fs.rmSync(work, { recursive: true, force: true });
    return { size, growth: peak - base };
  }

  it('fetchToFile: a download over maxBytes, or refused by status, leaves no file', async () => {
    fs.writeFileSync(path.join(dir, 'three-mb.bin'), Buffer.alloc(3 << 20, 1));
    const policy = { allowList: [files.host], maxBytes: 2 << 20, timeoutMs: 60_000 };
    const f = path.join(dir, 'partial.bin');
    await expect(fetchToFile(`${files.url}/three-mb.bin`, policy, f, 'VideoUrl')).rejects.toMatchObject({ code: 'FailedOperation.ImageSizeExceed' });
    expect(fs.existsSync(f)).toBe(false);
    await expect(fetchToFile(`${files.url}/missing.bin`, policy, f, 'VideoUrl')).rejects.toMatchObject({ code: 'FailedOperation.ImageDownloadError' });
    expect(fs.existsSync(f)).toBe(false);
    // No Content-Length (chunked): the limit stops the stream midway, after the file was opened.
    await expect(fetchToFile(`${files.url}/chunked-three-mb.bin`, policy, f, 'VideoUrl')).rejects.toMatchObject({ code: 'FailedOperation.ImageSizeExceed' });
    expect(fs.existsSync(f)).toBe(false);
    expect(await fetchToFile(`${files.url}/three-mb.bin`, { ...policy, maxBytes: 3 << 20 }, f, 'VideoUrl')).toBe(3 << 20);
    expect(fs.statSync(f).size).toBe(3 << 20);
  });

  it('RSS grows by a small fraction of the video, not with its size (30 vs 160 frames at 1280x720)', async () => {
    noiseClip(path.join(dir, 'short.mp4'), { width: 1280, height: 720, fps: 25, frames: 30 });
    noiseClip(path.join(dir, 'long.mp4'), { width: 1280, height: 720, fps: 25, frames: 160 });
    const short = await ioPath('short.mp4');
    const long = await ioPath('long.mp4');
    const mb = (b: number) => (b / 1e6).toFixed(1);
    console.log(`video I/O path: ${mb(short.size)} MB video -> RSS +${mb(short.growth)} MB; ${mb(long.size)} MB video -> RSS +${mb(long.growth)} MB (ratio ${(long.growth / long.size).toFixed(3)})`);
    expect(long.size).toBeGreaterThan(4 * short.size);
    expect(long.growth / long.size).toBeLessThan(0.2);
    expect(long.growth - short.growth).toBeLessThan(0.15 * (long.size - short.size));
  }, 300_000);
});
