// Memory of a whole video job, by video length. `npm run bench -- video-memory [--frames 60,240]`
// In one process (server, tracking, fusion workers, media thread): the Hamilton clip scaled to
// 1280x720 with grain (a large file), N frames long, goes CreateMaterial (Url, streamed) →
// tracking pass → SubmitVideoFaceFusionJob → result downloaded by its link (streamed to a file).
// RSS is sampled every 5 ms; reported per video: its size, the peak RSS over the baseline taken
// after a warm-up job (models loaded, pools started) and that growth as a share of the size. A
// job holding the video (or its frames) in memory would grow with N; a streaming one does not.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import { decodeFrames, probeVideo, VideoWriter } from '../src/vision/video/index.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { HAMILTON, cutHamilton } from '../test/helpers/video-clip.ts';
import { TESTDATA } from '../test/helpers/testdata.ts';
import { table, writeResult } from './lib.ts';

const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const FRAMES = (arg('--frames') ?? '60,240').split(',').map(Number);
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'facevault-bench-vmem-'));
const USER = path.join(TESTDATA, 'faces', 'identities', 'obama', 'obama.jpg');

/** N frames of the Hamilton clip (looped), scaled to 1280x720, with ±10 grain, crf 8: a large file with one face. */
async function bigClip(out: string, n: number): Promise<void> {
  const info = probeVideo(HAMILTON);
  const w = new VideoWriter(out, HAMILTON, 1280, 720, { tags: {}, preset: 'ultrafast', crf: 8, maxAudioSec: n / info.fps });
  // One frame's duration in the clip's time base, from its first two frames (the loop re-times frames by it).
  const it = decodeFrames(HAMILTON);
  const p0 = it.next().value!.pts, p1 = it.next().value!.pts;
  it.return(undefined);
  const tick = BigInt(p1 - p0);
  let x = 2463534242, i = 0;
  while (i < n) {
    for (const f of decodeFrames(HAMILTON)) {
      if (i >= n) break;
      const big = await sharp(f.rgb, { raw: { width: info.width, height: info.height, channels: 3 } }).resize(1280, 720).raw().toBuffer();
      for (let k = 0; k < big.length; k++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; big[k] = Math.max(0, Math.min(255, big[k] + ((x & 255) % 21) - 10)); }
      w.write(big, BigInt(i) * tick);
      i++;
    }
  }
  w.finish();
}

const files = http.createServer((req, res) => {
  const f = path.join(TMP, path.basename(req.url ?? ''));
  if (!fs.existsSync(f)) { res.statusCode = 404; res.end(); return; }
  res.setHeader('content-length', String(fs.statSync(f).size));
  fs.createReadStream(f).pipe(res);
});
await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
const host = `127.0.0.1:${(files.address() as { port: number }).port}`;
fs.copyFileSync(USER, path.join(TMP, 'user.jpg'));

const t = await startTestServer({ FACEVAULT_FUSION_THREADS: '2', FACEVAULT_URL_ALLOWLIST: host, FACEVAULT_LOG_LEVEL: 'silent' });
const ff = t.common('facefusion');
const activityId = (await ff.request('CreateActivity', { ActivityName: 'vmem', Status: 'PUBLISHED' })).ActivityId;

let peak = 0;

let trackingPeak = 0;
async function job(name: string): Promise<{ tracking: number; fusion: number; frames: number }> {
  const m = await ff.request('CreateMaterial', { ActivityId: activityId, MaterialName: name, Url: `http://${host}/${name}` });
  const t0 = Date.now();
  await t.run.app.video.materials.idle();
  const tracking = Date.now() - t0;
  trackingPeak = peak;
  const st = (await ff.request('DescribeMaterialList', { ActivityId: activityId, MaterialId: m.MaterialId })).MaterialInfos[0].MaterialStatus;
  if (st !== 31) throw new Error(`${name}: material status ${st}`);
  const s = await ff.request('SubmitVideoFaceFusionJob', { ProjectId: activityId, ModelId: m.MaterialId, MergeInfos: [{ Image: fs.readFileSync(USER).toString('base64') }] });
  const t1 = Date.now();
  let q: any;
  for (;;) {
    q = await ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId });
    if (q.JobStatusCode === 7 || q.JobStatusCode === 5) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (q.JobStatusCode !== 7) throw new Error(`${name}: job failed: ${q.JobErrorMsg}`);
  const fusion = Date.now() - t1;
  const r = await fetch(q.VideoFaceFusionOutput.VideoUrl);
  const out = path.join(TMP, `result-${name}`);
  const h = crypto.createHash('md5');
  const hashing = async function* (src: AsyncIterable<Buffer>) { for await (const c of src) { h.update(c); yield c; } };
  await pipeline(r.body as unknown as NodeJS.ReadableStream, hashing as never, fs.createWriteStream(out));
  if (h.digest('hex') !== q.VideoFaceFusionOutput.VideoMD5) throw new Error(`${name}: the downloaded result does not match VideoMD5`);
  fs.rmSync(out);
  return { tracking, fusion, frames: q.VideoFaceFusionOutput.Frame };
}

// Warm-up: models, fusion pool and media thread started, so the baseline below includes them.
cutHamilton(path.join(TMP, 'warm.mp4'), 100, 24);
await job('warm.mp4');
const rows: Record<string, unknown>[] = [];
for (const n of FRAMES) {
  const name = `clip-${n}.mp4`;
  await bigClip(path.join(TMP, name), n);
  const size = fs.statSync(path.join(TMP, name)).size;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage().rss;
  peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
  const r = await job(name);
  clearInterval(sampler);
  // Garbage or kept? With --expose-gc (NODE_OPTIONS), RSS after a full collection once the job is over.
  gc?.();
  await new Promise((r) => setTimeout(r, 500));
  const after = gc ? +((process.memoryUsage().rss - base) / 1e6).toFixed(1) : 'no gc';
  rows.push({ video: `1280x720, ${n} frames`, 'size MB': +(size / 1e6).toFixed(1), 'RSS before MB': +(base / 1e6).toFixed(0), 'peak growth, tracking MB': +((trackingPeak - base) / 1e6).toFixed(1), 'peak RSS growth MB': +((peak - base) / 1e6).toFixed(1), 'growth / size': +((peak - base) / size).toFixed(3), 'growth after gc MB': after, 'frames out': r.frames, 'tracking s': +(r.tracking / 1000).toFixed(1), 'fusion s': +(r.fusion / 1000).toFixed(1), load: os.loadavg()[0].toFixed(1) });
  console.log(table(rows.slice(-1)));
}
console.log(table(rows));
console.log(`wrote ${writeResult('video-memory', { rows, node: process.version })}`);
await t.stop();
files.close();
fs.rmSync(TMP, { recursive: true, force: true });
