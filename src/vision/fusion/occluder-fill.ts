// The template's occluders (a hand, a microphone) are put back over the blend afterwards, as the
// ghost mask's openings are, rather than cut out of the blend's mask. Cut out, the delta was zero
// in the hole and the mask low around it, so every coarse band near the occluder weighed the
// user's face less, and the occluder's edge took some of the user's face at the coarse levels
// (kit_harington@hand <- obama: Score 24.5, against 53.5 for the clean template's fusion with the
// hand pasted on afterwards; 34 with the fill). Under the occluder the user's difference is now
// filled in from around it — a normalised blur, the delta weighted by what is not occluded — so
// the coarse bands see the face continue, and the occluder's own colour (a light hand, a black
// bar) never enters the delta to halo its edge. Where the occlusion mask reaches past the real
// occluder (a nose tip beside a skin-coloured hand) the template now shows exactly there.

import Delaunator from 'delaunator';
import type { Pts } from './geometry.ts';
import { blur } from './raster.ts';
import { warpPiecewise } from './warp.ts';

/** The fill's reach, × the face size; past it (the middle of a palm) the surroundings' mean difference is used. */
export const OCCLUDER_FILL_SIGMA = 0.08;
const FILL_STEP = 8;
// Occluder values this small (the mask's blurred fringe) leave the delta as it is.
const OCC_FROM = 0.02;

/**
 * In place on `delta` (bw × bh × 3, the window's sub-box at bx0, by0): where `occ` (w-wide) > 0,
 * the delta becomes (1 − occ)·delta + occ·fill, fill being the blur of the delta over the face
 * pixels (region > 0, validU) weighted by 1 − occ, ÷ the blur of that weight (or, where that
 * weight is too small, the weighted mean over the occluders' surroundings).
 */
export function fillUnder(delta: Float32Array, occ: Float32Array, region: Float32Array, validU: Uint8Array, w: number, bx0: number, by0: number, bw: number, bh: number, sigma: number): void {
  // Only around the occluders: their bounding box, grown by the blur's reach.
  const box = occluderBox(occ, w, bx0, by0, bw, bh, Math.ceil(3 * sigma));
  if (!box) return;
  const { x0, y0, x1, y1 } = box;
  // The fill is low-frequency: computed on a grid FILL_STEP times coarser (block sums), and
  // sampled bilinearly only under the occluder.
  const S = FILL_STEP, gw = Math.ceil((x1 - x0 + 1) / S), gh = Math.ceil((y1 - y0 + 1) / S), n = gw * gh;
  const den = new Float32Array(n), n0 = new Float32Array(n), n1 = new Float32Array(n), n2 = new Float32Array(n);
  // Every other pixel each way is enough for a low-frequency estimate.
  let tAll = 0;
  const sAll = [0, 0, 0];
  for (let y = y0; y <= y1; y += 2) {
    const row = (((y - y0) / S) | 0) * gw, q0 = (y + by0) * w + bx0;
    for (let x = x0; x <= x1; x += 2) {
      const q = q0 + x;
      if (region[q] <= 0 || !validU[q]) continue;
      const t = 1 - occ[q], g = row + (((x - x0) / S) | 0), p = 3 * (y * bw + x);
      den[g] += t; n0[g] += t * delta[p]; n1[g] += t * delta[p + 1]; n2[g] += t * delta[p + 2];
    }
  }
  for (let g = 0; g < n; g++) { tAll += den[g]; sAll[0] += n0[g]; sAll[1] += n1[g]; sAll[2] += n2[g]; }
  blur(den, gw, gh, sigma / S);
  const num = [n0, n1, n2].map((a) => blur(a, gw, gh, sigma / S));
  // den sums every other pixel of a block: S²/4 is a fully unoccluded block. Where the blur finds
  // too little (the middle of an occluder wider than its reach) the box's mean difference is used.
  const enough = 0.05 * S * S / 4;
  for (let y = y0; y <= y1; y++) {
    const sy = Math.min(gh - 1, Math.max(0, (y - y0 + 0.5) / S - 0.5)), j0 = Math.floor(sy), j1 = Math.min(gh - 1, j0 + 1), fy = sy - j0;
    for (let x = x0; x <= x1; x++) {
      const q = (y + by0) * w + x + bx0, o = occ[q];
      if (o <= OCC_FROM || region[q] <= 0 || !validU[q]) continue;
      const sx = Math.min(gw - 1, Math.max(0, (x - x0 + 0.5) / S - 0.5)), i0 = Math.floor(sx), i1 = Math.min(gw - 1, i0 + 1), fx = sx - i0;
      const at = (a: Float32Array) => (a[j0 * gw + i0] * (1 - fx) + a[j0 * gw + i1] * fx) * (1 - fy) + (a[j1 * gw + i0] * (1 - fx) + a[j1 * gw + i1] * fx) * fy;
      const d = at(den), p = y * bw + x;
      for (let c = 0; c < 3; c++) {
        const fill = d > enough ? at(num[c]) / d : tAll > 0 ? sAll[c] / tAll : 0;
        delta[3 * p + c] = (1 - o) * delta[3 * p + c] + o * fill;
      }
    }
  }
}

/**
 * The occluder mask `occ` (found on the template as warped onto the fused face, window w × h at
 * ox, oy) moved back to where the template has it: warped from the fused points `fused` (window
 * coordinates) onto the template's own `own` (image coordinates), both in the same point order.
 * The template's warp carries its hand with its face onto the user's outline; put back there, a
 * hand was doubled at the window's edge (its warped copy inside, the template's own outside).
 * Null when no occluder is found.
 */
export function occluderInPlace(occ: Float32Array, fused: Pts, own: Pts, ox: number, oy: number, w: number, h: number): Float32Array | null {
  // Only the occluders' bounding box, grown by the farthest any point moves between the two meshes.
  let move = 0;
  for (let i = 0; i < own.length; i += 2) move = Math.max(move, Math.hypot(own[i] - ox - fused[i], own[i + 1] - oy - fused[i + 1]));
  const box = occluderBox(occ, w, 0, 0, w, h, Math.ceil(move) + 2);
  if (!box) return null;
  const { x0, y0, x1, y1 } = box, r = new Float32Array(w * h);
  const sw = x1 - x0 + 1, sh = y1 - y0 + 1, img = new Uint8Array(w * h * 3);
  for (let q = 0; q < w * h; q++) { const v = Math.round(255 * occ[q]); img[3 * q] = v; img[3 * q + 1] = v; img[3 * q + 2] = v; }
  const { out: [o], valid: [ok] } = warpPiecewise(own, new Delaunator(own).triangles, [{ img: { width: w, height: h, data: img }, pts: fused }], ox + x0, oy + y0, sw, sh);
  for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) { const k = y * sw + x; if (ok[k]) r[(y + y0) * w + x + x0] = o[3 * k] / 255; }
  return r;
}

/** The bounding box (sub-box coordinates, inclusive) of `occ` > OCC_FROM over the sub-box at bx0, by0 of a w-wide raster, grown by `grow` and clipped; null when there is none. */
function occluderBox(occ: Float32Array, w: number, bx0: number, by0: number, bw: number, bh: number, grow: number): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = bw, y0 = bh, x1 = -1, y1 = -1;
  for (let y = 0; y < bh; y++) {
    const q0 = (y + by0) * w + bx0;
    for (let x = 0; x < bw; x++) if (occ[q0 + x] > OCC_FROM) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; y1 = y; }
  }
  if (x1 < 0) return null;
  return { x0: Math.max(0, x0 - grow), y0: Math.max(0, y0 - grow), x1: Math.min(bw - 1, x1 + grow), y1: Math.min(bh - 1, y1 + grow) };
}
