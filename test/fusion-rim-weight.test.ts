// The rim weight's own edge (rim.ts, userRimWeight): where it switches from the user's pixels to
// the template's, the switch must be soft. A per-pixel decision blurred by only a pixel drew a
// stair-stepped line across the fused outline (amy1's frame-cut chin against subject07's beard).
// Synthetic: a disc-shaped face whose skin band is uniform, and a white wall on the rim below a
// diagonal; the weight must fall to the template there and climb back smoothly along the rim.
import { describe, expect, it } from 'vitest';
import { userRimWeight } from '../src/vision/fusion/rim.ts';

const W = 240, H = 240, CX = 120, CY = 120, FS = 200;
const SKIN = [182, 132, 108], WALL = [250, 250, 250];

function scene() {
  const Uw = new Float32Array(W * H * 3), validU = new Uint8Array(W * H).fill(1);
  const region = new Float32Array(W * H), inner = new Float32Array(W * H), skin = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const p = y * W + x, r = Math.hypot(x - CX, y - CY);
    if (r <= 100) region[p] = 1;
    if (r <= 90) inner[p] = 1;
    if (r <= 70) skin[p] = 1;
    // A little deterministic texture so the band's spread is not all floor.
    const t = ((x * 7 + y * 13) % 5) - 2;
    const c = r > 90 && y > x + 20 ? WALL : SKIN;
    for (let k = 0; k < 3; k++) Uw[p * 3 + k] = c[k] + t;
  }
  return { Uw, validU, region, inner, skin };
}

describe('fusion: the rim weight', () => {
  it('gives the wall to the template and switches softly, without a stair step', () => {
    const s = scene();
    const wgt = userRimWeight(s.Uw, s.validU, s.region, s.inner, s.skin, W, H, { x0: 10, y0: 10, x1: 230, y1: 230 }, FS);
    expect(wgt).not.toBeNull();
    const m = wgt!;
    const at = (x: number, y: number) => m[Math.round(y) * W + Math.round(x)];
    // The premise: on the rim over the wall (far from its diagonal edge) the template's pixels are used…
    const a = Math.PI * 0.75; // lower-left, well below y = x + 20
    expect(at(CX + 96 * Math.cos(a), CY + 96 * Math.sin(a))).toBeLessThan(0.2);
    // …and the user's on the rim over skin (upper right) and inside the face.
    const b = -Math.PI * 0.25;
    expect(at(CX + 96 * Math.cos(b), CY + 96 * Math.sin(b))).toBeGreaterThan(0.95);
    expect(at(CX, CY)).toBe(1);
    // Softness: no two neighbouring pixels differ by more than 0.15 anywhere (measured 0.11; the
    // weight blurred by 0.006 face sizes stepped by 0.26, at the inner ring's edge over the wall).
    let step = 0;
    for (let y = 1; y < H; y++) for (let x = 1; x < W; x++) {
      const q = y * W + x;
      step = Math.max(step, Math.abs(m[q] - m[q - 1]), Math.abs(m[q] - m[q - W]));
    }
    expect(step).toBeLessThan(0.15);
  });
});
