// Issue 16 item 3: a bearded template over a clean-shaven user gave a blue-grey band along the
// jaw — the colour transfer counted the template's beard as its skin, so the ratio template ÷
// user at the chin was small and the user's bare chin was darkened and tinted to the beard's
// colour. Built so the answer is exact: a real photo is both template and user (same mesh, so
// the warp is the identity); the template's copy has a dark blue-grey stubble painted below the
// nose (test/helpers/occluders.ts pasteBeard). At degree 0 the user's bare chin must come
// through as it is (the template's light is the same photo's), and the beard band measure
// (test/helpers/fusion-holes.ts beardBand) must stay small.
import fs from 'node:fs';
import Delaunator from 'delaunator';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { fuseIntoTemplate, fusedMesh, type FuseFaceJob, type FusionTuning } from '../src/vision/fusion/fuse.ts';
import { bounds, ring } from '../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../src/vision/fusion/raster.ts';
import { warpPiecewise } from '../src/vision/fusion/warp.ts';
import { hull } from '../src/vision/fusion/occlusion.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';
import { pasteBeard } from './helpers/occluders.ts';
import { beardBand } from './helpers/fusion-holes.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';

const largest = (f: Face[]) => f.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
const LIPS = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185];

describe.skipIf(!hasTestdata)(`fusion: a bearded template over a clean-shaven user${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let U: RgbImage, mesh: Float64Array, T: RgbImage, beard: Float32Array;
  beforeAll(async () => {
    const pool = await InferencePool.start({ threads: 1 });
    try {
      U = await decodeImage(fs.readFileSync(td('faces', 'identities', 'obama', 'obama.jpg')));
      mesh = meshArray(largest((await pool.analyze(U, { mesh: true, meshIris: false })).faces).mesh!);
    } finally { await pool.close(); }
    const oval = fillPolygon(ring(mesh, 1), U.width, U.height);
    const lips = fillPolygon(hull(LIPS, mesh), U.width, U.height);
    ({ img: T, mask: beard } = pasteBeard(U, mesh, oval, lips));
  }, 120_000);

  const fuse = (tuning: Partial<FusionTuning> = {}) => {
    const job: FuseFaceJob = { templateMesh: mesh, user: U, userMesh: mesh, profile: 0, appearance: 0, tuning };
    const patch = fuseIntoTemplate(T, [job]);
    const out = Buffer.from(T.data);
    for (let y = 0; y < patch.height; y++) out.set(patch.data.subarray(y * patch.width * 3, (y + 1) * patch.width * 3), ((y + patch.y) * T.width + patch.x) * 3);
    return { R: { width: T.width, height: T.height, data: out } as RgbImage, P: fusedMesh(job) };
  };
  /** Mean RGB distance result vs the clean photo over the beard, inside ring 0.85 (where the user's face is fully pasted). */
  const chinError = (R: RgbImage, P: Float64Array) => {
    const inner = fillPolygon(ring(P, 0.85), T.width, T.height);
    let s = 0, n = 0;
    for (let p = 0; p < beard.length; p++) {
      if (!beard[p] || !inner[p]) continue;
      s += Math.hypot(R.data[p * 3] - U.data[p * 3], R.data[p * 3 + 1] - U.data[p * 3 + 1], R.data[p * 3 + 2] - U.data[p * 3 + 2]); n++;
    }
    expect(n).toBeGreaterThan(1000);
    return s / n;
  };
  const band = (R: RgbImage, P: Float64Array) => {
    const b = bounds(ring(P, 1));
    const X0 = Math.max(0, Math.floor(b.x0)), Y0 = Math.max(0, Math.floor(b.y0)), ww = Math.min(T.width, Math.ceil(b.x1)) - X0, wh = Math.min(T.height, Math.ceil(b.y1)) - Y0;
    const { out: [Uw], valid: [Uv] } = warpPiecewise(P, new Delaunator(P).triangles, [{ img: U, pts: mesh }], X0, Y0, ww, wh);
    return beardBand(R, Uw, Uv, X0, Y0, ww, wh, P);
  };

  it('shows the user\'s bare chin, not a band of the template\'s beard colour', async () => {
    const { R, P } = fuse();
    const err = chinError(R, P), b = band(R, P);
    console.log(`beard: chin error ${err.toFixed(1)}, band ${b.toFixed(1)}`);
    const off = fuse({ hairColour: false });
    console.log(`beard, hairColour off: chin error ${chinError(off.R, off.P).toFixed(1)}, band ${band(off.R, off.P).toFixed(1)}`);
    if (process.env.BEARD_DUMP) { const sharp = (await import('sharp')).default; for (const [name, img] of [['T', T], ['on', R], ['off', off.R]] as const) await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(`${process.env.BEARD_DUMP}/${name}.png`); }
    // Measured 18.5 and 3.3 (colour of the chin off by 18.5 levels, mostly at the jaw where the
    // blend's coarse levels meet the template's beard beyond the outline); with the beard counted
    // as skin (hairColour off) 56.2 and 11.4: the grey band, and the whole face darkened.
    expect(err).toBeLessThan(28);
    expect(b).toBeLessThan(7);
  });
});
