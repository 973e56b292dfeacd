// A photo's own border (a scanner's dark last row, letterbox bars) is not picture: the template
// warp mirrors at the picture's edge, inside the border, and leaves the border as it is. Mirrored
// at the frame's outer edge, the warp pulled the border row into the picture as a thin line
// across the neck (subject07.glasses <- amy1 in the fusion-quality panel).
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pictureArea } from '../src/vision/fusion/frame-border.ts';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { fuseIntoTemplate, type FuseFaceJob } from '../src/vision/fusion/fuse.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';

/** A W×H picture of smooth gradients and grain (no even line anywhere), painted by `paint` afterwards. */
function picture(W: number, H: number, paint?: (x: number, y: number) => [number, number, number] | null): RgbImage {
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const p = (y * W + x) * 3, n = ((x * 73856093) ^ (y * 19349663)) >>> 0;
    const v = paint?.(x, y) ?? [90 + (120 * x) / W + (n % 17), 60 + (140 * y) / H + ((n >> 5) % 17), 120 + 50 * Math.sin(x / 9 + y / 13)];
    data[p] = v[0]; data[p + 1] = v[1]; data[p + 2] = v[2];
  }
  return { width: W, height: H, data };
}

describe('frame border: the picture inside a photo\'s own border', () => {
  it('finds a scanner\'s one dark row and column, and letterbox bars', () => {
    expect(pictureArea(picture(200, 150, (x, y) => (y === 149 || x === 0 ? [68, 70, 69] : null)))).toEqual({ x0: 1, y0: 0, x1: 200, y1: 149 });
    expect(pictureArea(picture(320, 240, (_x, y) => (y < 30 || y >= 210 ? [0, 0, 0] : null)))).toEqual({ x0: 0, y0: 30, x1: 320, y1: 210 });
  });
  it('takes no border for a plain picture, an even wall at its edge, or bars beside dark content', () => {
    expect(pictureArea(picture(200, 150))).toEqual({ x0: 0, y0: 0, x1: 200, y1: 150 });
    // A wall over the top 40 rows, a head rising into it in the middle.
    const wall = picture(200, 150, (x, y) => (y < 40 && !(y > 20 && Math.abs(x - 100) < 30) ? [230, 228, 225] : null));
    expect(pictureArea(wall)).toEqual({ x0: 0, y0: 0, x1: 200, y1: 150 });
    // Black bars over a picture whose first line is black over half its width: not sure, no border.
    const dark = picture(320, 240, (x, y) => (y < 30 || (y < 60 && x < 160) ? [0, 0, 0] : null));
    expect(pictureArea(dark).y0).toBe(0);
  });

  it('finds black bars beside a dark scene (a concert\'s curtain), not a dark grey band beside it', () => {
    // The scene: 14–45 levels of grain, as the Hamilton clip's curtain beside a letterbox.
    const scene = (band: number) => picture(320, 240, (x, y) => { if (y < 30 || y >= 210) return [band, band, band]; const v = 14 + ((((x * 73856093) ^ (y * 19349663)) >>> 0) % 32); return [v, v, v]; });
    expect(pictureArea(scene(0))).toEqual({ x0: 0, y0: 30, x1: 320, y1: 210 });
    expect(pictureArea(scene(30))).toEqual({ x0: 0, y0: 0, x1: 320, y1: 240 });
  });

  describe.skipIf(!hasTestdata)(`fusion${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
    it('leaves a template\'s border row as it is and pulls none of it into the picture (subject07.glasses <- amy1)', async () => {
      const pool = await InferencePool.start({ threads: 1 });
      const largest = (f: Face[]) => f.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
      try {
        const T0 = await decodeImage(fs.readFileSync(td('faces', 'yale', 'subject07', 'subject07.glasses.jpg')));
        const U = await decodeImage(fs.readFileSync(td('faces', 'identities', 'amy', 'amy1.png')));
        // The photo's own dark last row, painted a red found nowhere else, so any of it moved shows.
        const d = Buffer.from(T0.data);
        for (let x = 0; x < T0.width; x++) { const p = ((T0.height - 1) * T0.width + x) * 3; d[p] = 230; d[p + 1] = 20; d[p + 2] = 20; }
        const T: RgbImage = { width: T0.width, height: T0.height, data: d };
        const t = largest((await pool.analyze(T, { mesh: true, meshIris: false })).faces), u = largest((await pool.analyze(U, { mesh: true, meshIris: false })).faces);
        const job: FuseFaceJob = { templateMesh: meshArray(t.mesh!), templateMeshZ: t.meshZ, user: U, userMesh: meshArray(u.mesh!), userMeshZ: u.meshZ, profile: 0, appearance: 0 };
        const patch = fuseIntoTemplate(T, [job]);
        expect(patch.y + patch.height).toBe(T.height); // the window reaches the bottom row
        let red = 0, rowKept = 0;
        for (let y = 0; y < patch.height; y++) for (let x = 0; x < patch.width; x++) {
          const q = (y * patch.width + x) * 3, r = patch.data[q], g = patch.data[q + 1], b = patch.data[q + 2];
          const bottom = y + patch.y === T.height - 1;
          if (bottom) { if (r === 230 && g === 20 && b === 20) rowKept++; } else if (r > 120 && r > 2.5 * g && r > 2.5 * b) red++;
        }
        console.log(`border row kept ${rowKept}/${patch.width} px; red pixels above it ${red}`);
        expect(rowKept).toBe(patch.width);
        expect(red).toBe(0);
      } finally { await pool.close(); }
    }, 60_000);
  });
});
