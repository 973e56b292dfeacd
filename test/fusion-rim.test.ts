// Two edges of the fusion window where the engine used to paint what is not there:
// - the rim of the user's face (rim.ts): where the mesh's face oval runs past the face's real
//   edge, the user's photo there is background (Yale's white wall drew a light line along the
//   cheek); those pixels are the template's now. Built like fusion-identity.test.ts: a real photo
//   is template and user (same mesh, identity warp), the user's copy carries a fine checkerboard
//   over the face (how much of the user's face the result shows) and pure white from 0.97 of the
//   outline outwards (the face's edge inside the oval, a white wall behind it).
// - the template's frame edge (warp.ts): a frame-filling face's warp reaches past the frame; the
//   samples there are mirrored at the edge. A clamp repeated the edge pixel into streaks.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { fuseIntoTemplate, fusedMesh, type FuseFaceJob } from '../src/vision/fusion/fuse.ts';
import { ring } from '../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../src/vision/fusion/raster.ts';
import { warpPiecewise } from '../src/vision/fusion/warp.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';
import { band } from './helpers/mesh-bands.ts';

const largest = (f: Face[]) => f.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
const AMP = 24;
const checker = (x: number, y: number) => (((x >> 1) + (y >> 1)) & 1 ? 1 : -1);
const lum = (img: RgbImage, p: number) => 0.299 * img.data[p * 3] + 0.587 * img.data[p * 3 + 1] + 0.114 * img.data[p * 3 + 2];


describe.skipIf(!hasTestdata)(`fusion: the user's background on the rim${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let T: RgbImage, mesh: Float64Array, U: RgbImage;
  let pool: InferencePool;
  beforeAll(async () => {
    pool = await InferencePool.start({ threads: 1 });
    T = await decodeImage(fs.readFileSync(td('faces', 'identities', 'rose_leslie', 'img1.jpg')));
    const r = await pool.analyze(T, { mesh: true, meshIris: false });
    mesh = meshArray(largest(r.faces).mesh!);
    const face = fillPolygon(ring(mesh, 0.97), T.width, T.height);
    const d = Buffer.from(T.data);
    for (let y = 0; y < T.height; y++) for (let x = 0; x < T.width; x++) {
      const p = y * T.width + x;
      if (!face[p]) { d.fill(255, p * 3, p * 3 + 3); continue; }
      for (let c = 0; c < 3; c++) d[p * 3 + c] = Math.max(0, Math.min(255, d[p * 3 + c] + AMP * checker(x, y)));
    }
    U = { width: T.width, height: T.height, data: d };
  }, 120_000);
  afterAll(async () => { await pool?.close(); });

  const fuse = (userRim: boolean): { R: RgbImage; P: Float64Array } => {
    const job: FuseFaceJob = { templateMesh: mesh, user: U, userMesh: mesh, profile: 0, appearance: 0, tuning: { userRim } };
    const patch = fuseIntoTemplate(T, [job]);
    const out = Buffer.from(T.data);
    for (let y = 0; y < patch.height; y++) out.set(patch.data.subarray(y * patch.width * 3, (y + 1) * patch.width * 3), ((y + patch.y) * T.width + patch.x) * 3);
    return { R: { width: T.width, height: T.height, data: out }, P: fusedMesh(job) };
  };
  /** Mean brightening of the result over the template in a band of the fused outline (levels). */
  const lighter = ({ R, P }: { R: RgbImage; P: Float64Array }, inner: number, outer: number) => {
    const px = band(P, inner, outer, T.width, T.height);
    return px.reduce((s, p) => s + Math.max(0, lum(R, p) - lum(T, p)), 0) / px.length;
  };
  const share = ({ R, P }: { R: RgbImage; P: Float64Array }, inner: number, outer: number) => {
    let s = 0, n = 0;
    for (const p of band(P, inner, outer, T.width, T.height)) {
      const x = p % T.width, y = (p / T.width) | 0, sg = checker(x, y);
      for (let c = 0; c < 3; c++) { s += ((R.data[p * 3 + c] - T.data[p * 3 + c]) * sg) / AMP; n++; }
    }
    return s / n;
  };

  it('keeps the template where the user\'s photo shows its wall past the face\'s edge, and the user\'s face inside it', () => {
    const on = fuse(true), off = fuse(false);
    // The premise: without the rim rule the wall shows as a light line along the outline.
    expect(lighter(off, 0.97, 1.03)).toBeGreaterThan(15);
    // With it, less than a third of that (measured: 53.1 levels without, 7.5 with).
    expect(lighter(on, 0.97, 1.03)).toBeLessThan(lighter(off, 0.97, 1.03) / 3);
    // Inside the face's edge the user's face is still all there (the rule judged it skin; 0.93 either way).
    expect(share(on, 0.8, 0.93)).toBeGreaterThan(0.85);
    expect(share(on, 0.8, 0.93)).toBeGreaterThan(share(off, 0.8, 0.93) - 0.05);
  });
});

describe('warp: samples past the template frame', () => {
  it('are mirrored at the edge (hair continues), not the edge pixel repeated (streaks)', () => {
    // A 20x4 source whose red is its column × 10; the target window sees it shifted 6 px right,
    // so target columns 0–5 sample source columns −6 … −1.
    const W = 20, H = 4;
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[(y * W + x) * 3] = x * 10;
    const target = Float64Array.from([0, 0, W, 0, W, H, 0, H]);
    const src = Float64Array.from([-6, 0, W - 6, 0, W - 6, H, -6, H]);
    const tri = Uint32Array.from([0, 1, 2, 0, 2, 3]);
    const { out: [o], valid: [v] } = warpPiecewise(target, tri, [{ img: { width: W, height: H, data }, pts: src, clampEdges: true }], 0, 0, W, H);
    const red = (x: number) => o[(1 * W + x) * 3];
    expect(v[W + 0]).toBe(1);
    // Target column 6 is source column 0; columns 5 … 0 mirror source columns 0/1 … 5/6 back.
    expect(red(6)).toBeCloseTo(0, 0);
    for (let x = 0; x < 5; x++) expect(red(x)).toBeGreaterThan(red(x + 1));
    expect(red(0)).toBeGreaterThan(40);
  });
});
