// Fusion regressions on hard templates: a rotated template with a glasses bar over the eyes
// keeps the bar and gets no hole; a turned template keeps its far side whole; the user's glasses
// are not carried over (option); a face beyond the supported pose is passed through untouched;
// and a learned swap model (a tiny ONNX model with the inswapper interface) is used end to end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { pasteOccluder } from './helpers/occluders.ts';
import { fusionHoles } from './helpers/fusion-holes.ts';
import { FOLDS_FROM, warpFolds } from './helpers/fusion-tears.ts';
import { tinySwapOnnx } from './helpers/tiny-swap-onnx.ts';
import { startTestServer } from './helpers/server.ts';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { fuseIntoTemplate, fusedMesh, jobProblem, type FuseFaceJob, type Patch } from '../src/vision/fusion/fuse.ts';
import { FusionPool } from '../src/vision/fusion/pool.ts';
import { findGlasses, withoutGlasses } from '../src/vision/fusion/user-glasses.ts';
import { ring } from '../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../src/vision/fusion/raster.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';

let pool: InferencePool;
const largest = (f: Face[]) => f.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
async function analyse(img: RgbImage) {
  const r = await pool.analyze(img, { mesh: true, meshIris: false });
  const f = largest(r.faces);
  return { img, mesh: meshArray(f.mesh!), z: Float64Array.from(f.meshZ!.slice(0, 468)) };
}
function apply(T: RgbImage, patch: Patch): RgbImage {
  const out = Buffer.from(T.data);
  for (let y = 0; y < patch.height; y++) out.set(patch.data.subarray(y * patch.width * 3, (y + 1) * patch.width * 3), ((y + patch.y) * T.width + patch.x) * 3);
  return { width: T.width, height: T.height, data: out };
}
const lum = (img: RgbImage, p: number) => 0.299 * img.data[p * 3] + 0.587 * img.data[p * 3 + 1] + 0.114 * img.data[p * 3 + 2];
/** Mean absolute RGB change between a and b where `where` is set. */
function change(a: RgbImage, b: RgbImage, where: (p: number) => boolean): number {
  let s = 0, n = 0;
  for (let p = 0; p < a.width * a.height; p++) if (where(p)) { for (let c = 0; c < 3; c++) s += Math.abs(a.data[p * 3 + c] - b.data[p * 3 + c]) / 3; n++; }
  return s / Math.max(1, n);
}

describe.skipIf(!hasTestdata)(`fusion on hard templates${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let user: Awaited<ReturnType<typeof analyse>>;
  beforeAll(async () => {
    pool = await InferencePool.start({ threads: 1 });
    user = await analyse(await decodeImage(fs.readFileSync(td('faces', 'identities', 'biden', 'biden2.jpg'))));
  }, 120_000);
  afterAll(async () => { await pool?.close(); });

  it('with template occlusion on, keeps a glasses bar over a rotated template in front and leaves no hole or tear', async () => {
    const base = await decodeImage(fs.readFileSync(td('faces', 'identities', 'obama', 'obama.jpg')));
    const { data, info } = await sharp(base.data, { raw: { width: base.width, height: base.height, channels: 3 } }).rotate(18, { background: '#808080' }).raw().toBuffer({ resolveWithObject: true });
    const rotated = await analyse({ width: info.width, height: info.height, data });
    const { img, mask } = pasteOccluder(rotated.img, rotated.mesh, 'glasses-bar');
    const T = await analyse(img);
    // Template occlusion (on by default since 2026-12-02), asked for explicitly so the test does not depend on the default.
    const job: FuseFaceJob = { templateMesh: T.mesh, templateMeshZ: T.z, user: user.img, userMesh: user.mesh, userMeshZ: user.z, profile: 0, appearance: 0, tuning: { occlusion: 'template' } };
    expect(jobProblem(job)).toBeNull();
    const R = apply(T.img, fuseIntoTemplate(T.img, [job]));
    const P = fusedMesh(job);
    const face = fillPolygon(ring(P, 0.95), R.width, R.height), inner = fillPolygon(ring(P, 0.8), R.width, R.height);
    // The bar stays (the classical engine before occlusion masks changed it by ~60 levels) ...
    expect(change(R, T.img, (p) => mask[p] > 0.5 && face[p] > 0)).toBeLessThan(12);
    // ... while the rest of the inner face did become the user's.
    expect(change(R, T.img, (p) => inner[p] > 0 && mask[p] === 0)).toBeGreaterThan(8);
    // No hole: no face pixel darker than the template there and than the user's darkest skin by 40.
    const uFace = fillPolygon(ring(user.mesh, 0.85), user.img.width, user.img.height);
    const uL: number[] = [];
    for (let p = 0; p < uFace.length; p++) if (uFace[p]) uL.push(lum(user.img, p));
    uL.sort((a, b) => a - b);
    const uDark = uL[Math.floor(uL.length * 0.02)];
    let holes = 0;
    for (let p = 0; p < R.width * R.height; p++) if (face[p] && lum(R, p) < Math.min(lum(T.img, p), uDark) - 40) holes++;
    // One blob of near-black pixels inside 0.85 of the outline (the bar's end moved by the warp)
    // is there with either mask: 19 pixels with the older mask, 21 with the user's face to its
    // outline (tuning.userOutline, 2026-12-02); the bar was < 20.
    expect(holes).toBeLessThan(25);
  }, 60_000);

  // Three of the panel's former hole pairs (bench fusion-quality). The first two had one hole blob
  // each when the user's outline was not capped (tuning.shapeCap false): a turned template with a
  // frontal user (the template's edge dragged into the cheek), and a glasses bar on a turned
  // template (the bar's end dragged into the face).
  it.each([
    ['stuart turned, penny frontal', ['identities', 'stuart', 'stuart4.png'], null, ['identities', 'penny', 'penny1.png']],
    ['kit turned with a glasses bar, rose frontal', ['identities', 'kit_harington', 'john3.jpg'], 'glasses-bar', ['identities', 'rose_leslie', 'img1.jpg']],
    // A frontal template and a turned user: with the visibility pass on below the far side's gate
    // (tuning.visibility true, before 2026-12-03) the template's temple hair was pulled into the
    // cheek where the user's far side is foreshortened (a dark wedge, one hole blob).
    ['raj frontal, amy turned', ['identities', 'raj', 'raj3.png'], null, ['identities', 'amy', 'amy1.png']],
  ] as const)('default engine leaves no hole: %s', async (_name, tFile, occluder, uFile) => {
    let T = await analyse(await decodeImage(fs.readFileSync(td('faces', ...tFile))));
    if (occluder) T = await analyse(pasteOccluder(T.img, T.mesh, occluder).img);
    const U = await analyse(await decodeImage(fs.readFileSync(td('faces', ...uFile))));
    const job: FuseFaceJob = { templateMesh: T.mesh, templateMeshZ: T.z, user: U.img, userMesh: U.mesh, userMeshZ: U.z, profile: 0, appearance: 0 };
    const R = apply(T.img, fuseIntoTemplate(T.img, [job]));
    expect(fusionHoles(R, T.img, U.img, U.mesh, fusedMesh(job)).count).toBe(0);
    // The user's face did replace the template's.
    const inner = fillPolygon(ring(fusedMesh(job), 0.8), R.width, R.height);
    expect(change(R, T.img, (p) => inner[p] > 0)).toBeGreaterThan(8);
  }, 60_000);

  // The panel's torn pair: a template turned 37° (stuart5) and a frontal user. Without the far
  // side kept (tuning.farSide false, the engine before) the template's warp folds over 7% of the
  // face where the result shows it (its background and skin torn into pieces along the far cheek).
  it('keeps a turned template\'s far side whole (no folded template warp where it shows)', async () => {
    const T = await analyse(await decodeImage(fs.readFileSync(td('faces', 'identities', 'stuart', 'stuart5.png'))));
    const U = await analyse(await decodeImage(fs.readFileSync(td('faces', 'identities', 'sheldon', 'sheldon1.png'))));
    const job: FuseFaceJob = { templateMesh: T.mesh, templateMeshZ: T.z, user: U.img, userMesh: U.mesh, userMeshZ: U.z, profile: 0, appearance: 0 };
    expect(jobProblem(job)).toBeNull();
    const before = warpFolds(fusedMesh({ ...job, tuning: { farSide: false } }), T.mesh, T.img.width, T.img.height).share;
    const now = warpFolds(fusedMesh(job), T.mesh, T.img.width, T.img.height).share;
    // Under the defect bar, and at most a third of the folds without it (7.4% → 1.8% on the mesh
    // from stuart5's frame-filling box since the detector's zoomed-out pass; 7.5% → 1.05% on the
    // tighter box before; the template itself is warped on the mended mesh, 0.5%).
    expect(before).toBeGreaterThan(FOLDS_FROM);
    expect(now).toBeLessThan(FOLDS_FROM);
    expect(now).toBeLessThan(before / 3);
    const R = apply(T.img, fuseIntoTemplate(T.img, [job]));
    expect(fusionHoles(R, T.img, U.img, U.mesh, fusedMesh(job)).count).toBe(0);
    const inner = fillPolygon(ring(fusedMesh(job), 0.8), R.width, R.height);
    expect(change(R, T.img, (p) => inner[p] > 0)).toBeGreaterThan(8);
  }, 60_000);

  // The user's own glasses (bernadette1) were carried into every template at degree 0.
  it('with userGlasses on, paints the user\'s glasses frames out and does not carry them into the template', async () => {
    const U = await analyse(await decodeImage(fs.readFileSync(td('faces', 'identities', 'bernadette', 'bernadette1.png'))));
    const g = findGlasses(U.img, U.mesh);
    expect(g.mask.length).toBeGreaterThan(0);
    // Photos without glasses are left alone.
    for (const f of [['penny', 'penny1.png'], ['leonard', 'leonard2.png'], ['howard', 'howard1.png']]) {
      const V = await analyse(await decodeImage(fs.readFileSync(td('faces', 'identities', ...f))));
      expect(withoutGlasses(V.img, V.mesh)).toBeNull();
    }
    // The frames' pixels become skin: brighter by far, and no frame is found any more.
    const c = withoutGlasses(U.img, U.mesh)!;
    const clean: RgbImage = { width: c.width, height: c.height, data: Buffer.from(c.data) };
    const { x0, y0, x1 } = g.box, w = x1 - x0;
    let dL = 0, n = 0;
    for (let q = 0; q < g.mask.length; q++) if (g.mask[q]) { const p = (Math.floor(q / w) + y0) * U.img.width + (q % w) + x0; dL += lum(clean, p) - lum(U.img, p); n++; }
    expect(dL / n).toBeGreaterThan(30);
    expect(findGlasses(clean, U.mesh).mask.length).toBe(0);
    // Fused into a template without glasses at degree 0: the old engine's result shows frames, the default's not.
    const T = await analyse(await decodeImage(fs.readFileSync(td('faces', 'identities', 'obama', 'obama.jpg'))));
    // Forced on (tuning.userGlasses true) the frames are dropped even at degree 0 ...
    const job: FuseFaceJob = { templateMesh: T.mesh, templateMeshZ: T.z, user: U.img, userMesh: U.mesh, userMeshZ: U.z, profile: 0, appearance: 0, tuning: { userGlasses: true } };
    const kept = apply(T.img, fuseIntoTemplate(T.img, [{ ...job, userOccluders: 'keep' }]));
    const dropped = apply(T.img, fuseIntoTemplate(T.img, [job]));
    expect(findGlasses(kept, fusedMesh(job)).mask.length).toBeGreaterThan(0);
    expect(findGlasses(dropped, fusedMesh(job)).mask.length).toBe(0);
    // ... and by default they are part of the user's look below FuseFaceDegree 50 (kept) and
    // dropped from 50, where the template's features are asked for (issue 16 item 2).
    const byDefault = (appearance: number, keep = false) => apply(T.img, fuseIntoTemplate(T.img, [{ ...job, appearance, tuning: undefined, ...(keep ? { userOccluders: 'keep' as const } : {}) }]));
    expect(findGlasses(byDefault(0), fusedMesh(job)).mask.length).toBeGreaterThan(0);
    expect(change(byDefault(0.3), byDefault(0.3, true), () => true)).toBe(0);
    // At 60 the frames would show at 40%: dropped, the band around the eyes is lighter than with them kept.
    const P = fusedMesh(job), band = fillPolygon(ring(P, 0.9), T.img.width, T.img.height);
    const yB = Math.min(P[2 * 105 + 1], P[2 * 334 + 1]), yN = P[2 * 1 + 1];
    const d60 = byDefault(0.6), k60 = byDefault(0.6, true);
    let lighter = 0, nb = 0;
    for (let p = 0; p < band.length; p++) { const y = Math.floor(p / T.img.width); if (band[p] && y > yB && y < yN) { lighter += lum(d60, p) - lum(k60, p); nb++; } }
    expect(lighter / nb).toBeGreaterThan(0.5);
  }, 60_000);

  // Issue 16 item 2: the user's fringe is not carried over unless the degree asks for the user's look.
  it('carries the user\'s fringe over below FuseFaceDegree 50 and leaves the template\'s forehead from 50', async () => {
    const T = await analyse(await decodeImage(fs.readFileSync(td('faces', 'identities', 'obama', 'obama.jpg'))));
    // A dark fringe painted over the user's forehead: strands from the hairline down to the brows.
    const U0 = await analyse(await decodeImage(fs.readFileSync(td('faces', 'identities', 'penny', 'penny1.png'))));
    const m = U0.mesh, at = (i: number) => [m[2 * i], m[2 * i + 1]] as const;
    const [lx] = at(70), [rx] = at(300), browY = Math.min(at(105)[1], at(334)[1]), topY = at(10)[1];
    const data = Buffer.from(U0.img.data);
    for (let y = Math.floor(topY); y < browY - 2; y++) for (let x = Math.floor(lx); x < rx; x++) {
      if (Math.sin(x * 0.9 + y * 0.15) < 0.2) continue; // strands with skin between them
      const p = (y * U0.img.width + x) * 3; data[p] = 45; data[p + 1] = 32; data[p + 2] = 25;
    }
    const U = await analyse({ ...U0.img, data });
    const job = (appearance: number, keep = false): FuseFaceJob => ({ templateMesh: T.mesh, templateMeshZ: T.z, user: U.img, userMesh: U.mesh, userMeshZ: U.z, profile: 0, appearance, ...(keep ? { userOccluders: 'keep' as const } : {}) });
    const P = fusedMesh(job(0));
    const face = fillPolygon(ring(P, 0.9), T.img.width, T.img.height);
    const brow = Math.min(P[2 * 105 + 1], P[2 * 334 + 1]);
    const forehead = (p: number) => face[p] > 0 && Math.floor(p / T.img.width) < brow - 3;
    const darkening = (R: RgbImage) => { let s = 0, n = 0; for (let p = 0; p < R.width * R.height; p++) if (forehead(p)) { s += Math.max(0, lum(T.img, p) - lum(R, p)); n++; } return s / n; };
    const fused = (a: number, keep = false) => apply(T.img, fuseIntoTemplate(T.img, [job(a, keep)]));
    // Below 50 the fringe is the user's look: the default carries it over exactly as 'keep' does.
    expect(change(fused(0.3), fused(0.3, true), () => true)).toBe(0);
    // From 50 it is dropped: the forehead is darkened far less than with the fringe kept.
    const kept = darkening(fused(0.6, true)), dropped = darkening(fused(0.6));
    expect(kept).toBeGreaterThan(8);
    expect(dropped).toBeLessThan(0.5 * kept);
  }, 60_000);

  /** Mean change under a microphone pasted on `tFile`, fused with `uFile` under each tuning. */
  async function changeUnderMicrophone(tFile: string[], uFile: string[], tunings: FuseFaceJob['tuning'][]): Promise<number[]> {
    const base = await analyse(await decodeImage(fs.readFileSync(td('faces', ...tFile))));
    const { img, mask } = pasteOccluder(base.img, base.mesh, 'microphone');
    const T = await analyse(img);
    const U = await analyse(await decodeImage(fs.readFileSync(td('faces', ...uFile))));
    const job = (tuning: FuseFaceJob['tuning']): FuseFaceJob => ({ templateMesh: T.mesh, templateMeshZ: T.z, user: U.img, userMesh: U.mesh, userMeshZ: U.z, profile: 0, appearance: 0, tuning });
    const face = fillPolygon(ring(fusedMesh(job(tunings[0])), 0.95), T.img.width, T.img.height);
    return tunings.map((t) => change(apply(T.img, fuseIntoTemplate(T.img, [job(t)])), T.img, (p) => mask[p] > 0.5 && face[p] > 0));
  }

  // The template's occluders are put back over the blend (occluder-fill.ts) instead of cut out of
  // its mask: the blend's coarse bands no longer carry the user's face into the occluder's edge.
  // The panel's microphone pair (bench fusion-quality): change under it 11.7 cut out, 6.8 put back.
  it('keeps a microphone over the mouth nearer the template\'s pixels with the occluder put back over the blend', async () => {
    const [putBack, cutOut] = await changeUnderMicrophone(['identities', 'alex_lacamoire', 'img1.jpg'], ['yale', 'subject07', 'subject07.normal.jpg'], [{ occluderFill: true, occluderInPlace: false }, { occluderFill: false, occluderInPlace: false }]);
    expect(cutOut).toBeGreaterThan(8);
    expect(putBack).toBeLessThan(0.75 * cutOut);
  }, 60_000);

  // The template's warp onto the fused face moves its occluders with its face; put back where the
  // template has them (occluderInPlace), the microphone on the panel's obama pair stays put:
  // change under it 35.6 where the warp moved it, 12.8 in place (bench fusion-quality).
  it('puts the template\'s microphone back where the template has it, not where its warp moved it', async () => {
    const [inPlace, moved] = await changeUnderMicrophone(['identities', 'obama', 'obama.jpg'], ['identities', 'rose_leslie', 'img1.jpg'], [{ occluderInPlace: true }, { occluderInPlace: false }]);
    expect(moved).toBeGreaterThan(20);
    expect(inPlace).toBeLessThan(0.6 * moved);
  }, 60_000);

  it('passes a face beyond the supported pose through untouched', async () => {
    const T = await analyse(await decodeImage(fs.readFileSync(td('faces', 'identities', 'obama', 'obama.jpg'))));
    // Depth stretched so the mesh reports a head turned far past 45°.
    const z = Float64Array.from(T.z);
    for (let i = 0; i < 468; i++) z[i] = T.z[i] + (T.mesh[2 * i] - T.mesh[2 * 1]) * 2.5;
    const job: FuseFaceJob = { templateMesh: T.mesh, templateMeshZ: z, user: user.img, userMesh: user.mesh, userMeshZ: user.z, profile: 0, appearance: 0 };
    expect(jobProblem(job)).toMatch(/template face: the head is turned \d+° sideways/);
    const patch = fuseIntoTemplate(T.img, [job]);
    expect(patch.skipped).toEqual([0]);
    expect(change(apply(T.img, patch), T.img, () => true)).toBe(0);
  }, 30_000);

  it('runs an installed swap model (inswapper interface) inside the engine', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swap-'));
    fs.writeFileSync(path.join(dir, 'model.onnx'), tinySwapOnnx(128, 512, 0));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ name: 'tiny', file: 'model.onnx', size: 128, inputs: { target: 'target', source: 'source' }, output: 'output', embeddingLength: 512 }));
    const T = await analyse(await decodeImage(fs.readFileSync(td('faces', 'identities', 'obama', 'obama.jpg'))));
    const job: FuseFaceJob = { templateMesh: T.mesh, templateMeshZ: T.z, user: user.img, userMesh: user.mesh, userMeshZ: user.z, profile: 0, appearance: 0 };
    const emb = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i));
    const swapPool = new FusionPool(0, { swapModelDir: dir });
    try {
      const [swapped] = await swapPool.run(T.img, [{ ...job, userEmbedding: emb }]);
      const [classical] = await swapPool.run(T.img, [job]);
      const inner = fillPolygon(ring(T.mesh, 0.8), T.img.width, T.img.height);
      // This model returns the template crop unchanged: the swapped result is the template's own
      // face (up to resampling), the classical one is the user's.
      const dSwap = change(apply(T.img, swapped), T.img, (p) => inner[p] > 0), dClassical = change(apply(T.img, classical), T.img, (p) => inner[p] > 0);
      expect(dSwap).toBeLessThan(8); // the 128-px crop is softer than the template's face
      expect(dClassical).toBeGreaterThan(2 * dSwap);
    } finally {
      await swapPool.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('uses the swap model named by FACEVAULT_SWAP_MODEL in an HTTP FuseFaceUltra call (fusion workers)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swap-'));
    fs.writeFileSync(path.join(dir, 'model.onnx'), tinySwapOnnx(128, 512, 0));
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ name: 'tiny', file: 'model.onnx', size: 128, inputs: { target: 'target', source: 'source' }, output: 'output', embeddingLength: 512 }));
    const jpeg = (f: string[], width: number) => sharp(fs.readFileSync(td(...f))).resize({ width }).jpeg({ quality: 92 }).toBuffer();
    const tBytes = await jpeg(['faces', 'identities', 'obama', 'obama.jpg'], 640), uBytes = await jpeg(['faces', 'identities', 'biden', 'biden2.jpg'], 480);
    const server = await startTestServer({ FACEVAULT_SWAP_MODEL: dir, FACEVAULT_FUSION_THREADS: '1' });
    try {
      const r = await server.facefusion().FuseFaceUltra({ RspImgType: 'base64', ModelImage: tBytes.toString('base64'), MergeInfos: [{ Image: uBytes.toString('base64') }] });
      const R = await decodeImage(Buffer.from(r.FusedImage, 'base64'));
      const T = await analyse(await decodeImage(tBytes)), U = await analyse(await decodeImage(uBytes));
      const classical = apply(T.img, fuseIntoTemplate(T.img, [{ templateMesh: T.mesh, user: U.img, userMesh: U.mesh, profile: 0, appearance: 0 }]));
      const inner = fillPolygon(ring(T.mesh, 0.8), T.img.width, T.img.height);
      // This model hands back the template's crop: through HTTP the face stays the template's (up to
      // the 128-px crop's softness and JPEG), where the classical engine puts the user's face there.
      const dSwap = change(R, T.img, (p) => inner[p] > 0), dClassical = change(classical, T.img, (p) => inner[p] > 0);
      expect(dSwap).toBeLessThan(10);
      expect(dClassical).toBeGreaterThan(2 * dSwap);
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
