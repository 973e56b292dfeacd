// Piecewise-affine warp: each target triangle maps affinely back into each source image,
// sampled bilinearly. Coordinates are continuous (pixel i covers [i, i+1)), so an identity
// mesh reproduces the source exactly.
import type { Pts } from './geometry.ts';

export interface Raster { width: number; height: number; data: Uint8Array | Buffer; channels?: number }

export interface WarpSource {
  img: Raster;
  /** Source points (same order as the target points), in img's coordinates. */
  pts: Pts;
  /** Skip triangles touching a point index ≥ this (parts of the frame this source never shows). */
  maxPoint?: number;
  /** Sample outside the frame as its nearest edge pixel (else: leave invalid). */
  clampEdges?: boolean;
}

export interface WarpResult {
  /** Per source: RGB float, w*h*3 (0 where not covered/invalid). */
  out: Float32Array[];
  /** Per source: 1 where the sample fell inside the source frame. */
  valid: Uint8Array[];
  covered: Uint8Array;
}

/**
 * Warps every source onto a w×h window whose origin is (ox, oy) in target coordinates.
 * `tri` indexes the target points three by three.
 */
export function warpPiecewise(target: Pts, tri: Uint32Array, sources: WarpSource[], ox: number, oy: number, w: number, h: number): WarpResult {
  const out = sources.map(() => new Float32Array(w * h * 3));
  const valid = sources.map(() => new Uint8Array(w * h));
  const covered = new Uint8Array(w * h);
  const ns = sources.length;
  const aff = new Float64Array(6 * ns);
  const skip = new Uint8Array(ns);
  const clampEdges = sources.map((s) => !!s.clampEdges);
  for (let t = 0; t < tri.length; t += 3) {
    const i0 = tri[t], i1 = tri[t + 1], i2 = tri[t + 2];
    const x0 = target[2 * i0] - ox, y0 = target[2 * i0 + 1] - oy;
    const x1 = target[2 * i1] - ox, y1 = target[2 * i1 + 1] - oy;
    const x2 = target[2 * i2] - ox, y2 = target[2 * i2 + 1] - oy;
    const det = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
    if (Math.abs(det) < 1e-9) continue;
    // Affine target->source per source: s = A [x y 1]
    for (let s = 0; s < ns; s++) {
      const p = sources[s].pts;
      const u0 = p[2 * i0], v0 = p[2 * i0 + 1], u1 = p[2 * i1], v1 = p[2 * i1 + 1], u2 = p[2 * i2], v2 = p[2 * i2 + 1];
      const a = ((u1 - u0) * (y2 - y0) - (u2 - u0) * (y1 - y0)) / det;
      const b = ((u2 - u0) * (x1 - x0) - (u1 - u0) * (x2 - x0)) / det;
      const c = ((v1 - v0) * (y2 - y0) - (v2 - v0) * (y1 - y0)) / det;
      const d = ((v2 - v0) * (x1 - x0) - (v1 - v0) * (x2 - x0)) / det;
      const o = 6 * s;
      aff[o] = a; aff[o + 1] = b; aff[o + 2] = u0 - a * x0 - b * y0;
      aff[o + 3] = c; aff[o + 4] = d; aff[o + 5] = v0 - c * x0 - d * y0;
    }
    for (let s = 0; s < ns; s++) { const m = sources[s].maxPoint; skip[s] = m !== undefined && (i0 >= m || i1 >= m || i2 >= m) ? 1 : 0; }
    const bx0 = Math.max(0, Math.floor(Math.min(x0, x1, x2))), bx1 = Math.min(w - 1, Math.ceil(Math.max(x0, x1, x2)));
    const by0 = Math.max(0, Math.floor(Math.min(y0, y1, y2))), by1 = Math.min(h - 1, Math.ceil(Math.max(y0, y1, y2)));
    const inv = 1 / det;
    const eps = -1e-7;
    for (let py = by0; py <= by1; py++) {
      const cy = py + 0.5;
      for (let px = bx0; px <= bx1; px++) {
        const cx = px + 0.5;
        const l1 = ((cx - x0) * (y2 - y0) - (x2 - x0) * (cy - y0)) * inv;
        const l2 = ((x1 - x0) * (cy - y0) - (cx - x0) * (y1 - y0)) * inv;
        if (l1 < eps || l2 < eps || l1 + l2 > 1 - eps) continue;
        const idx = py * w + px;
        if (covered[idx]) continue;
        covered[idx] = 1;
        for (let s = 0; s < ns; s++) {
          if (skip[s]) continue;
          const o = 6 * s;
          const sx = aff[o] * cx + aff[o + 1] * cy + aff[o + 2] - 0.5;
          const sy = aff[o + 3] * cx + aff[o + 4] * cy + aff[o + 5] - 0.5;
          sampleInto(sources[s].img, sx, sy, out[s], idx * 3, valid[s], idx, clampEdges[s]);
        }
      }
    }
  }
  return { out, valid, covered };
}

function sampleInto(img: Raster, sx: number, sy: number, dst: Float32Array, di: number, valid: Uint8Array, vi: number, clampEdges: boolean): void {
  const W = img.width, H = img.height, data = img.data, C = img.channels ?? 3;
  if (sx < -0.5 || sy < -0.5 || sx > W - 0.5 || sy > H - 0.5) {
    if (!clampEdges) return;
    sx = Math.min(W - 1, Math.max(0, sx));
    sy = Math.min(H - 1, Math.max(0, sy));
  }
  valid[vi] = 1;
  let x0 = Math.floor(sx), y0 = Math.floor(sy);
  let fx = sx - x0, fy = sy - y0;
  if (x0 < 0) { x0 = 0; fx = 0; }
  if (y0 < 0) { y0 = 0; fy = 0; }
  if (x0 >= W - 1) { x0 = W - 1; fx = 0; }
  if (y0 >= H - 1) { y0 = H - 1; fy = 0; }
  const x1 = fx > 0 ? x0 + 1 : x0, y1 = fy > 0 ? y0 + 1 : y0;
  const i00 = (y0 * W + x0) * C, i01 = (y0 * W + x1) * C, i10 = (y1 * W + x0) * C, i11 = (y1 * W + x1) * C;
  const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
  for (let c = 0; c < 3; c++) {
    dst[di + c] = data[i00 + c] * w00 + data[i01 + c] * w01 + data[i10 + c] * w10 + data[i11 + c] * w11;
  }
}
