// A learned swap model that brings its own identity encoder (inswapper_128 was trained against
// InsightFace's w600k_r50 embedding mapped through the `emap` matrix in its graph): the manifest's
// `identity` names the encoder and the matrix, the user's photo is encoded by it — not by our
// recogniser — and the model gets that identity, for photos and for video alike. Tiny ONNX models
// with the same interfaces stand in for the real ones (none is shipped or downloaded).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { tinyIdentityOnnx, tinySwapOnnx } from './helpers/tiny-swap-onnx.ts';
import { HAMILTON } from './helpers/video-clip.ts';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { FusionPool } from '../src/vision/fusion/pool.ts';
import { alignedCrop, readSwapManifest, SwapModel } from '../src/vision/fusion/swap-model.ts';
import { ring } from '../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../src/vision/fusion/raster.ts';
import { decodeFrames, fuseVideo, probeVideo, VideoWriter, type Track } from '../src/vision/video/index.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';

const N = 8, E = 512;
const W = [0, 1, 2].map((c) => Array.from({ length: N }, (_, j) => Math.cos(1 + c * 7 + j * 3)));
const EMAP = Float32Array.from({ length: N * E }, (_, k) => Math.sin(k * 0.37) + (k % E === Math.floor(k / E) ? 2 : 0));

function modelDir(gain: number, identity: boolean, emap: Float32Array | null = EMAP): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swap-id-'));
  fs.writeFileSync(path.join(dir, 'model.onnx'), tinySwapOnnx(128, E, gain));
  const m: Record<string, unknown> = { name: 'tiny', file: 'model.onnx', size: 128, inputs: { target: 'target', source: 'source' }, output: 'output', embeddingLength: E };
  if (identity) {
    fs.writeFileSync(path.join(dir, 'arcface.onnx'), tinyIdentityOnnx(112, W));
    m.identity = { file: 'arcface.onnx', size: 112, input: 'data', output: 'feat', mean: 0.5, std: 0.5, ...(emap ? { emap: 'emap.bin' } : {}) };
    if (emap) fs.writeFileSync(path.join(dir, 'emap.bin'), Buffer.from(emap.buffer, emap.byteOffset, emap.byteLength));
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
  return dir;
}
const unit = (v: Float64Array) => { const n = Math.hypot(...v); return v.map((x) => x / n); };

/** What the manifest asks for, computed here: channel means of the aligned crop × W, normalised, × emap, normalised. */
function expectedIdentity(img: RgbImage, mesh: Float64Array): Float64Array {
  const { input } = alignedCrop(img, mesh, 112, 0.5, 0.5);
  const S2 = 112 * 112, means = [0, 1, 2].map((c) => { let s = 0; for (let p = 0; p < S2; p++) s += input[c * S2 + p]; return s / S2; });
  const feat = unit(Float64Array.from({ length: N }, (_, j) => means[0] * W[0][j] + means[1] * W[1][j] + means[2] * W[2][j]));
  const out = new Float64Array(E);
  for (let i = 0; i < N; i++) for (let j = 0; j < E; j++) out[j] += feat[i] * EMAP[i * E + j];
  return unit(out);
}

describe.skipIf(!hasTestdata)(`a swap model with its own identity encoder${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let inference: InferencePool;
  const dirs: string[] = [];
  const photos: Record<string, { img: RgbImage; mesh: Float64Array }> = {};
  const largest = (fs: Face[]) => fs.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
  beforeAll(async () => {
    inference = await InferencePool.start({ threads: 1 });
    for (const [k, f] of [['obama', ['obama', 'obama.jpg']], ['biden', ['biden', 'biden2.jpg']]] as const) {
      const img = await decodeImage(fs.readFileSync(td('faces', 'identities', ...f)));
      photos[k] = { img, mesh: meshArray(largest((await inference.analyze(img, { mesh: true, meshIris: false })).faces).mesh!) };
    }
  }, 120_000);
  afterAll(async () => { await inference?.close(); for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

  it('encodes the user\'s photo with the manifest\'s encoder and emap, not with the embedding it is handed', async () => {
    const dir = modelDir(0, true); dirs.push(dir);
    const m = await SwapModel.load(dir);
    expect(m.ownsIdentity).toBe(true);
    for (const k of ['obama', 'biden']) {
      const got = await m.identityOf(photos[k].img, photos[k].mesh), want = expectedIdentity(photos[k].img, photos[k].mesh);
      expect(got.length).toBe(E);
      let d = 0; for (let j = 0; j < E; j++) d = Math.max(d, Math.abs(got[j] - want[j]));
      expect(d).toBeLessThan(1e-4);
    }
    // Two people, two identities (the encoder sees the photo).
    const a = await m.identityOf(photos.obama.img, photos.obama.mesh), b = await m.identityOf(photos.biden.img, photos.biden.mesh);
    let dot = 0; for (let j = 0; j < E; j++) dot += a[j] * b[j];
    expect(dot).toBeLessThan(0.9999);
    // A video hands the same photo to every frame: it is encoded once (the same vector back), another photo anew.
    expect(await m.identityOf(photos.obama.img, photos.obama.mesh)).toBe(a);
    expect(await m.identityOf({ ...photos.obama.img, data: Buffer.from(photos.obama.img.data).fill(0, 0, 3) }, photos.obama.mesh)).not.toBe(a);
    // The caller's embedding (our recogniser's, another length here) is not what the model gets.
    const job = { templateMesh: photos.obama.mesh, user: photos.biden.img, userMesh: photos.biden.mesh, profile: 0, appearance: 0 };
    await expect(m.swapJob(photos.obama.img, job, new Float32Array(3))).resolves.toBeTruthy();
    const plain = await SwapModel.load((() => { const d = modelDir(0, false); dirs.push(d); return d; })());
    expect(plain.ownsIdentity).toBe(false);
    await expect(plain.swapJob(photos.obama.img, job, new Float32Array(3))).rejects.toThrow(/needs a 512-d embedding, got 3/);
  }, 60_000);

  it('the swap model is fed that identity: its output moves by exactly what the identity asks', async () => {
    // output = target + gain·Σ source: the shift of the swapped crop over the unswapped one is 255·gain·Σ identity.
    const gain = 0.2;
    const d0 = modelDir(0, true), d1 = modelDir(gain, true); dirs.push(d0, d1);
    const m0 = await SwapModel.load(d0), m1 = await SwapModel.load(d1);
    const job = { templateMesh: photos.obama.mesh, user: photos.biden.img, userMesh: photos.biden.mesh, profile: 0, appearance: 0 };
    const a = await m0.swapJob(photos.obama.img, job, new Float32Array(E)), b = await m1.swapJob(photos.obama.img, job, new Float32Array(E));
    const want = 255 * gain * expectedIdentity(photos.biden.img, photos.biden.mesh).reduce((s, v) => s + v, 0);
    expect(Math.abs(want)).toBeGreaterThan(2); // the premise: a shift that can be seen
    let s = 0, n = 0;
    for (let i = 0; i < a.user.data.length; i++) { const x = a.user.data[i], y = b.user.data[i]; if (y > 0 && y < 255 && x + want > 0.5 && x + want < 254.5) { s += y - x; n++; } }
    expect(n).toBeGreaterThan(0.5 * a.user.data.length);
    expect(Math.abs(s / n - want)).toBeLessThan(0.6);
  }, 60_000);

  it('refuses a manifest whose emap does not fit the embedding', () => {
    const dir = modelDir(0, true, new Float32Array(N * E + 3)); dirs.push(dir);
    expect(() => readSwapManifest(dir)).toThrow(/identity\.emap must hold float32 rows of embeddingLength \(512\)/);
  });

  it('video fusion uses the installed swap model too (the user\'s embedding reaches each frame\'s job)', async () => {
    // Three copies of one real Hamilton frame; the swap model hands back the template's crop, so
    // with it the fused face stays the singer's, without it (classical engine) it is the user's.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'swap-video-')); dirs.push(tmp);
    let frame: RgbImage | undefined;
    for (const f of decodeFrames(HAMILTON)) if (f.index === 100) { frame = { width: f.width, height: f.height, data: Buffer.from(f.rgb) }; break; }
    const face = largest((await inference.analyze(frame!, { mesh: true, meshIris: false })).faces), mesh = meshArray(face.mesh!);
    const clip = path.join(tmp, 'clip.mp4');
    const w = new VideoWriter(clip, HAMILTON, frame!.width, frame!.height, { tags: {}, maxAudioSec: 0.1, preset: 'ultrafast' });
    const src = decodeFrames(HAMILTON);
    const dt = -src.next().value!.pts + src.next().value!.pts;
    src.return(undefined);
    for (let i = 0; i < 3; i++) w.write(Buffer.from(frame!.data), BigInt(i) * dt);
    w.finish();
    const track: Track = { id: 0, bestBox: face.box, bestFrame: 0, embedding: null, points: [0, 1, 2].map((f) => ({ frame: f, box: face.box, mesh: Float32Array.from(mesh), bridged: false })) };
    const inner = fillPolygon(ring(mesh, 0.7), frame!.width, frame!.height);
    const changeFromTemplate = (file: string) => {
      let s = 0, n = 0;
      for (const f of decodeFrames(file)) for (let p = 0; p < inner.length; p++) if (inner[p]) { for (let c = 0; c < 3; c++) s += Math.abs(f.rgb[p * 3 + c] - frame!.data[p * 3 + c]); n += 3; }
      return s / n;
    };
    const run = async (swapModelDir: string | undefined, name: string) => {
      const pool = new FusionPool(0, { swapModelDir });
      const out = path.join(tmp, name);
      try {
        const user = photos.obama;
        const r = await fuseVideo({ source: clip, output: out, info: probeVideo(clip), tracks: [track], faces: [{ trackId: 0, user: { width: user.img.width, height: user.img.height, data: user.img.data }, userMesh: user.mesh, userEmbedding: new Float32Array(E).fill(1), profile: 0, appearance: 0 }], pool, mark: { kind: 'none' }, tags: {}, crf: 0 });
        expect(r.fusedFrames).toBe(3);
      } finally { await pool.close(); }
      return changeFromTemplate(out);
    };
    const dir = modelDir(0, true); dirs.push(dir);
    const swapped = await run(dir, 'swap.mp4'), classical = await run(undefined, 'classical.mp4');
    console.log(`inner-face change from the template: swap model ${swapped.toFixed(1)}, classical ${classical.toFixed(1)}`);
    expect(swapped).toBeLessThan(8);
    expect(classical).toBeGreaterThan(2 * swapped);
  }, 120_000);
});
