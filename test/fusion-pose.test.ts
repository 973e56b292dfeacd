// A template turned below the far side's gate (visibility.ts YAW_FROM) shows its far cheek
// foreshortened; warping it onto a frontal user's shape stretched and mirrored its rim (the far
// cheek torn into pieces: person-lexi at 18°, howard5 at 21°). The fold measure of the quality
// panel (test/helpers/fusion-tears.ts warpFolds: the share of the face covered by warp triangles
// the template shows flipped or squeezed below a fifth, outside ring 0.9) was 3.7% on
// person-lexi ← Yale subject01 (a pair counts as torn above 3%); with the warp's folds mended
// (tuning.unfold, visibility.ts unfoldMesh: the template is warped onto the fused mesh with its
// folds mended, the user's photo onto the fused mesh as before) it is ≈ 0.3%, and the engine's
// output changes on the far half only (docs/PERFORMANCE.md
// "2026-12-02 afternoon: unfolding the far half").
import { beforeAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason } from './helpers/testdata.ts';
import { analysePhotos, type Analysed } from './helpers/fusion-pair.ts';
import { fuseIntoTemplate, fusedMesh, templateWarpMesh, type FuseFaceJob, type FusionTuning } from '../src/vision/fusion/fuse.ts';
import { faceSize, ring, MESH_POINTS } from '../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../src/vision/fusion/raster.ts';
import { FOLDS_FROM, warpFolds } from './helpers/fusion-tears.ts';


describe.skipIf(!hasTestdata)(`fusion: a turned template's warp does not fold${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let T: Analysed, U: Analysed;
  beforeAll(async () => {
    [T, U] = await analysePhotos(['crowds', 'person-lexi.jpg'], ['yale', 'subject01', 'subject01.normal.jpg']);
  }, 120_000);

  const job = (tuning: Partial<FusionTuning>): FuseFaceJob => ({ templateMesh: T.mesh, templateMeshZ: T.z, user: U.img, userMesh: U.mesh, userMeshZ: U.z, profile: 0, appearance: 0, tuning });

  it('the template is warped onto a mesh without folds; the user\'s photo onto the fused mesh as before', () => {
    const off = job({ unfold: false }), on = job({});
    const P = fusedMesh(on), Pt = templateWarpMesh(on);
    const folds = (warp: Float64Array) => warpFolds(P, T.mesh, T.img.width, T.img.height, warp).share;
    expect(fusedMesh(off)).toEqual(P);
    expect(folds(templateWarpMesh(off))).toBeGreaterThan(FOLDS_FROM);
    expect(folds(Pt)).toBeLessThan(0.01);
    // Only the far rim moves: inside ring 0.7 of the fused mesh (eyes, nose, mouth) the template's warp is as before.
    const fs = faceSize(T.mesh), inner = fillPolygon(ring(P, 0.7), T.img.width, T.img.height);
    let moved = 0, n = 0;
    for (let i = 0; i < MESH_POINTS; i++) {
      const x = P[2 * i], y = P[2 * i + 1];
      if (!inner[Math.floor(y) * T.img.width + Math.floor(x)]) continue;
      n++;
      moved = Math.max(moved, Math.hypot(Pt[2 * i] - x, Pt[2 * i + 1] - y) / fs);
    }
    expect(n).toBeGreaterThan(150);
    expect(moved).toBeLessThan(0.03);
  });

  it('the engine warps with the mended mesh: its output changes on the far half only', () => {
    const render = (tuning: Partial<FusionTuning>) => fuseIntoTemplate(T.img, [job(tuning)]);
    const a = render({ unfold: false }), b = render({});
    expect([b.x, b.y, b.width, b.height]).toEqual([a.x, a.y, a.width, a.height]);
    // The far half: the side of the nose's ridge (6) where the outline point nearer to it lies.
    const m = T.mesh, noseX = m[2 * 6];
    const farLeft = Math.abs(m[2 * 234] - noseX) < Math.abs(m[2 * 454] - noseX);
    let far = 0, near = 0;
    for (let y = 0; y < a.height; y++) for (let x = 0; x < a.width; x++) {
      const q = (y * a.width + x) * 3;
      const d = Math.abs(a.data[q] - b.data[q]) + Math.abs(a.data[q + 1] - b.data[q + 1]) + Math.abs(a.data[q + 2] - b.data[q + 2]);
      if (d < 30) continue;
      if ((x + a.x < noseX) === farLeft) far++; else near++;
    }
    expect(far).toBeGreaterThan(500);
    expect(near).toBeLessThan(far / 5); // measured 14691 vs 1838 (the blend's coarse bands and the colour transfer spread a little)
  });
});
