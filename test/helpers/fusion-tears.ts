// The fusion-quality panel's tear score (bench/fusion-quality.ts), shared with the tests: edges
// the result has and neither source has near that pixel in that direction. A torn mesh or a
// patchwork of template and user pieces puts short edges of every direction next to a source
// edge of one direction (the far cheek of a turned template, torn against its silhouette, was
// "explained" by the silhouette's strength when only gradient magnitudes were compared). So each
// of four directions (0°, 45°, 90°, 135°) is compared on its own: per face pixel and direction,
// the result's derivative ÷ (the larger of the template's and the warped user's local maximum of
// that derivative, the user's ×1.5 for the colour transfer's gain, + 8 levels); a pixel's ratio
// is its largest over the directions, and tear = the 99th percentile over the face (ring 0.95
// of the fused mesh: the far side's rim, where turned templates tore, lies outside ring 0.85).
import Delaunator from 'delaunator';
import { warpPiecewise } from '../../src/vision/fusion/warp.ts';
import { bounds, concat, faceSize, ring, MESH_POINTS } from '../../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../../src/vision/fusion/raster.ts';
import type { RgbImage } from '../../src/vision/types.ts';
import { minMax } from './fusion-holes.ts';

const lumAt = (img: RgbImage, p: number) => 0.299 * img.data[p * 3] + 0.587 * img.data[p * 3 + 1] + 0.114 * img.data[p * 3 + 2];
/** Pixel steps of the four directions and their lengths. */
const DIRS: [number, number, number][] = [[1, 0, 2], [0, 1, 2], [1, 1, 2 * Math.SQRT2], [1, -1, 2 * Math.SQRT2]];
export const TEAR_FROM = 1.5;

/** Tear score of result R (template T, user U with its mesh, fused mesh P) and the torn pixels (ratio ≥ max(TEAR_FROM, score)). */
export function fusionTears(R: RgbImage, T: RgbImage, U: RgbImage, uMesh: Float64Array, P: Float64Array, reach = 1.2): { tear: number; torn: Uint8Array; tornFraction: number } {
  const W = R.width, H = R.height;
  const fs = faceSize(P);
  const face = fillPolygon(ring(P, reach), W, H);
  const b = bounds(ring(P, reach + 0.05));
  const X0 = Math.max(1, Math.floor(b.x0)), Y0 = Math.max(1, Math.floor(b.y0)), X1 = Math.min(W - 1, Math.ceil(b.x1)), Y1 = Math.min(H - 1, Math.ceil(b.y1));
  const ww = X1 - X0, wh = Y1 - Y0;
  const torn = new Uint8Array(W * H);
  if (ww <= 2 || wh <= 2) return { tear: 0, torn, tornFraction: 0 };
  const tri = new Delaunator(P).triangles;
  const { out: [Uw], valid: [Uv] } = warpPiecewise(P, tri, [{ img: U, pts: uMesh }], X0, Y0, ww, wh);
  const lT = new Float32Array(ww * wh), lU = new Float32Array(ww * wh), lR = new Float32Array(ww * wh);
  for (let y = 0; y < wh; y++) for (let x = 0; x < ww; x++) {
    const q = y * ww + x, p = (y + Y0) * W + x + X0;
    lT[q] = lumAt(T, p); lR[q] = lumAt(R, p);
    lU[q] = Uv[q] ? 0.299 * Uw[q * 3] + 0.587 * Uw[q * 3 + 1] + 0.114 * Uw[q * 3 + 2] : NaN;
  }
  const r = Math.max(2, Math.round(0.03 * fs));
  const deriv = (l: Float32Array, [dx, dy, len]: [number, number, number]) => {
    const o = new Float32Array(ww * wh).fill(NaN);
    for (let y = 1; y < wh - 1; y++) for (let x = 1; x < ww - 1; x++) { const q = y * ww + x; o[q] = Math.abs(l[q + dx + dy * ww] - l[q - dx - dy * ww]) / len; }
    return o;
  };
  const ratio = new Float32Array(ww * wh);
  for (const d of DIRS) {
    const gR = deriv(lR, d), [, gT] = minMax(deriv(lT, d), ww, wh, r), [, gU] = minMax(deriv(lU, d), ww, wh, r);
    for (let q = 0; q < ww * wh; q++) {
      if (Number.isNaN(gR[q])) continue;
      const ref = Math.max(Number.isNaN(gT[q]) ? 0 : gT[q], Number.isNaN(gU[q]) ? 0 : 1.5 * gU[q]);
      ratio[q] = Math.max(ratio[q], gR[q] / (ref + 8));
    }
  }
  const vals: number[] = [];
  for (let y = 1; y < wh - 1; y++) for (let x = 1; x < ww - 1; x++) if (face[(y + Y0) * W + x + X0]) vals.push(ratio[y * ww + x]);
  vals.sort((a, c) => a - c);
  const tear = vals.length ? vals[Math.min(vals.length - 1, Math.floor(0.99 * vals.length))] : 0;
  const t = Math.max(TEAR_FROM, tear);
  let n = 0;
  for (let y = 1; y < wh - 1; y++) for (let x = 1; x < ww - 1; x++) {
    const p = (y + Y0) * W + x + X0;
    if (face[p] && ratio[y * ww + x] >= TEAR_FROM) { n++; if (ratio[y * ww + x] >= t) torn[p] = 1; }
  }
  return { tear, torn, tornFraction: vals.length ? n / vals.length : 0 };
}

/**
 * Folds of the engine's template warp (fuse.ts: the fused mesh P with its blend ring ×1.25 and
 * the template's pin ring ×1.7, triangulated by Delaunay), where the result shows the template
 * (outside ring 0.9 of P at degree 0): the share of the face's area (ring 1.0 of P) covered by
 * triangles that the template shows flipped (mirrored) or squeezed below a fifth of their area
 * in the result. Such a triangle is filled by stretching
 * a few pixels across it or by a mirror image of its neighbours: the far cheek of a turned
 * template torn into pieces of background and skin (stuart5, yaw 37°) is this, while the image
 * tear score above did not separate it from clean pairs (its torn pieces sit on the template's
 * own silhouette edge, which "explains" their edges). `pixels` marks the folded triangles.
 * `warpMesh` is the mesh the engine warps the template onto (fuse.ts templateWarpMesh: the fused
 * mesh with its folds mended) when it differs from the fused mesh P, whose rings still say where
 * the result shows the user.
 */
export function warpFolds(P: Float64Array, tMesh: Float64Array, W: number, H: number, warpMesh: Float64Array = P): { share: number; pixels: Uint8Array } {
  const N = MESH_POINTS;
  const t = tMesh.subarray(0, 2 * N);
  const tPin = ring(t, 1.7);
  const target = concat(warpMesh.subarray(0, 2 * N), ring(warpMesh, 1.25), tPin);
  const tSource = concat(t, ring(t, 1.25), tPin);
  const tri = new Delaunator(target).triangles;
  const m = new Float32Array(W * H);
  for (let k = 0; k < tri.length; k += 3) {
    const a = tri[k], b = tri[k + 1], c = tri[k + 2];
    const at = area2(target, a, b, c);
    if (Math.abs(at) < 1e-6) continue;
    const rT = area2(tSource, a, b, c) / at;
    if (rT >= FOLD_BELOW) continue;
    fillPolygon(Float64Array.from([target[2 * a], target[2 * a + 1], target[2 * b], target[2 * b + 1], target[2 * c], target[2 * c + 1]]), W, H, m);
  }
  const face = fillPolygon(ring(P, 1.0), W, H), userPart = fillPolygon(ring(P, SHOWS_USER), W, H);
  let n = 0, f = 0;
  const pixels = new Uint8Array(W * H);
  for (let p = 0; p < W * H; p++) { if (face[p]) f++; if (m[p] && !userPart[p]) { n++; pixels[p] = 1; } }
  return { share: f ? n / f : 0, pixels };
}

/** Inside this ring of the fused mesh a degree-0 result shows the user's photo (the engine's mask is ring 0.95, feathered), not the template's warp. */
const SHOWS_USER = 0.9;
/** Area ratios (source ÷ result) below which a warp triangle counts as folded. */
export const FOLD_BELOW = 0.2;
/** Folded shares of the face above which a pair counts as torn. */
export const FOLDS_FROM = 0.03;

const area2 = (p: Float64Array, a: number, b: number, c: number) => (p[2 * b] - p[2 * a]) * (p[2 * c + 1] - p[2 * a + 1]) - (p[2 * c] - p[2 * a]) * (p[2 * b + 1] - p[2 * a + 1]);
