// The engine option tuning.outlineHold (outline-hold.ts; off by default: on the quick panel it
// removed the hole pair and one tear pair but cost 4 pairs of the identity goal, docs/PERFORMANCE.md
// 2026-12-08 03:10) keeps the fused face inside the template's head outline. A user whose jaw is
// wider than the template's pushed the fused outline past it, onto the template's ears, collar or
// background: the template's silhouette edge moved onto pixels that had none (howard2 ← Yale
// subject01: the jaw's edge cut into his collar; the panel's tear score 1.54). Held, the outline
// lies at most the margin outside the template's, the eyes, nose and mouth keep the user's shape,
// and the tear score falls.
import { beforeAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason } from './helpers/testdata.ts';
import { analysePhotos, type Analysed } from './helpers/fusion-pair.ts';
import { fusionTears } from './helpers/fusion-tears.ts';
import { fuseIntoTemplate, fusedMesh, type FuseFaceJob, type FusionTuning, type Patch } from '../src/vision/fusion/fuse.ts';
import { centroid, faceSize, SILHOUETTE } from '../src/vision/fusion/geometry.ts';
import { holdOutline, rayToPolygon } from '../src/vision/fusion/outline-hold.ts';
import type { RgbImage } from '../src/vision/types.ts';

const MARGIN = 0.04;
const silhouette = (p: Float64Array) => Float64Array.from(SILHOUETTE.flatMap((i) => [p[2 * i], p[2 * i + 1]]));
/** The largest distance (face sizes) by which an outline point of P lies outside the template's outline. */
function outside(P: Float64Array, t: Float64Array): number {
  const [cx, cy] = centroid(t), fs = faceSize(t), poly = silhouette(t);
  let worst = -Infinity;
  for (const i of SILHOUETTE) {
    const x = P[2 * i] - cx, y = P[2 * i + 1] - cy;
    worst = Math.max(worst, (Math.hypot(x, y) - rayToPolygon(poly, cx, cy, Math.atan2(y, x))) / fs);
  }
  return worst;
}
function apply(T: RgbImage, patch: Patch): RgbImage {
  const out = Buffer.from(T.data);
  for (let y = 0; y < patch.height; y++) out.set(patch.data.subarray(y * patch.width * 3, (y + 1) * patch.width * 3), ((y + patch.y) * T.width + patch.x) * 3);
  return { width: T.width, height: T.height, data: out };
}

describe.skipIf(!hasTestdata)(`fusion: the fused face is held inside the template's head outline${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let T: Analysed, U: Analysed;
  beforeAll(async () => {
    [T, U] = await analysePhotos(['identities', 'howard', 'howard2.png'], ['yale', 'subject01', 'subject01.normal.jpg']);
  }, 120_000);
  const job = (tuning: Partial<FusionTuning>): FuseFaceJob => ({ templateMesh: T.mesh, templateMeshZ: T.z, user: U.img, userMesh: U.mesh, userMeshZ: U.z, profile: 0, appearance: 0, tuning });

  it('the outline lies within the margin of the template\'s; the inner face is the user\'s as before', () => {
    const off = fusedMesh(job({ outlineHold: false })), on = fusedMesh(job({ outlineHold: MARGIN }));
    const before = outside(off, T.mesh), after = outside(on, T.mesh);
    console.log(`outline past the template's: ${before.toFixed(3)} → ${after.toFixed(3)} face sizes`);
    expect(before).toBeGreaterThan(2 * MARGIN); // the premise: this user's jaw is wider
    expect(after).toBeLessThanOrEqual(MARGIN + 1e-6);
    // Eye corners, nose tip, lips: moved by a small fraction of a pixel at most (the outer eye
    // corners lie near the compressed band's inner edge, 0.6 of the outline's radius).
    const fs = faceSize(T.mesh);
    const moved = Math.max(...[33, 133, 263, 362, 1, 4, 13, 14, 61, 291].map((i) => Math.hypot(on[2 * i] - off[2 * i], on[2 * i + 1] - off[2 * i + 1])));
    console.log(`inner points moved ≤ ${moved.toFixed(3)} px (face size ${fs.toFixed(0)} px)`);
    expect(moved).toBeLessThan(0.002 * fs);
    // Radial and monotone: no point of the mesh crosses another's radius in its direction, so
    // the outline points keep their order around the face.
    const [cx, cy] = centroid(T.mesh);
    const ang = (p: Float64Array) => SILHOUETTE.map((i) => Math.atan2(p[2 * i + 1] - cy, p[2 * i] - cx));
    const a0 = ang(off), a1 = ang(on);
    for (let k = 0; k < a0.length; k++) expect(Math.abs(Math.atan2(Math.sin(a1[k] - a0[k]), Math.cos(a1[k] - a0[k])))).toBeLessThan(1e-9);
    // A user already inside the template's outline is left exactly as it is.
    expect(holdOutline(T.mesh, T.mesh)).toBe(T.mesh);
  });

  it('the jaw no longer cuts into the template\'s collar: the tear score falls well below the unheld one', () => {
    const tear = (tuning: Partial<FusionTuning>) => {
      const j = job(tuning);
      const R = apply(T.img, fuseIntoTemplate(T.img, [j]));
      return fusionTears(R, T.img, U.img, U.mesh, fusedMesh(j)).tear;
    };
    const off = tear({ outlineHold: false }), on = tear({ outlineHold: MARGIN });
    console.log(`tear score: ${off.toFixed(2)} unheld, ${on.toFixed(2)} held`);
    expect(on).toBeLessThan(0.75 * off);
    expect(on).toBeLessThan(1.5);
  }, 60_000);
});
