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
  /** Sample outside the frame mirrored at its edge (else: leave invalid). */
  clampEdges?: boolean;
  /** With clampEdges: the picture inside the frame's own border (frame-border.ts), mirrored at its edge instead. */
  frame?: { x0: number; y0: number; x1: number; y1: number };
}

export interface WarpResult {
  /** Per source: RGB float, w*h*3 (0 where not covered/invalid). */
  out: Float32Array[];
  /** Per source: 1 where the sample fell inside the source frame. */
  valid: Uint8Array[];
  covered: Uint8Array;
  /** Per pixel, the value of the triangle that covers it (when `triValue` is given). */
  value?: Float32Array;
}

/**
 * Warps every source onto a w×h window whose origin is (ox, oy) in target coordinates.
 * `tri` indexes the target points three by three.
 */
export function warpPiecewise(target: Pts, tri: Uint32Array, sources: WarpSource[], ox: number, oy: number, w: number, h: number, triValue?: Float32Array): WarpResult {
  const value = triValue ? new Float32Array(w * h) : undefined;
  const out = sources.map(() => new Float32Array(w * h * 3));
  const valid = sources.map(() => new Uint8Array(w * h));
  const covered = new Uint8Array(w * h);
  const ns = sources.length;
  const aff = new Float64Array(6 * ns);
  const skip = new Uint8Array(ns);
  // One monomorphic byte view per source keeps the sampling loop fast (Buffer vs Uint8Array vs shared memory).
  const px = sources.map((s) => new Uint8Array(s.img.data.buffer, s.img.data.byteOffset, s.img.data.byteLength));
  const dims = new Int32Array(sources.flatMap((s) => [s.img.width, s.img.height, s.img.channels ?? 3]));
  const clampEdges = Uint8Array.from(sources, (s) => (s.clampEdges ? 1 : 0));
  // Per source, the mirror's edges: the picture's first and last pixel centres.
  const fr = new Float64Array(sources.flatMap((s) => (s.clampEdges && s.frame ? [s.frame.x0, s.frame.y0, s.frame.x1 - 1, s.frame.y1 - 1] : [0, 0, s.img.width - 1, s.img.height - 1])));
  const rowX = new Float64Array(ns), rowY = new Float64Array(ns);
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
    const by0 = Math.max(0, Math.floor(Math.min(y0, y1, y2))), by1 = Math.min(h - 1, Math.ceil(Math.max(y0, y1, y2)));
    const inv = 1 / det;
    const tv = triValue ? triValue[t / 3] : 0;
    // Barycentric l1, l2 and 1-l1-l2 are linear in the pixel centre's x on a row: each bounds x
    // on one side, so a row's covered pixels are one span (a little slack; `covered` dedups).
    const eps = -1e-6;
    const l1x = (y2 - y0) * inv, l2x = -(y1 - y0) * inv;
    for (let py = by0; py <= by1; py++) {
      const cy = py + 0.5;
      // l(cx) = k + m·cx
      const k1 = (-x0 * (y2 - y0) - (x2 - x0) * (cy - y0)) * inv;
      const k2 = ((x1 - x0) * (cy - y0) + x0 * (y1 - y0)) * inv;
      let lo = 0.5, hi = w - 0.5;
      // l1 ≥ eps, l2 ≥ eps, 1 - l1 - l2 ≥ eps
      const ka = k1 - eps, kb = k2 - eps, kc = 1 - eps - k1 - k2, mc = -l1x - l2x;
      if (l1x > 1e-15) lo = Math.max(lo, -ka / l1x); else if (l1x < -1e-15) hi = Math.min(hi, -ka / l1x); else if (ka < 0) continue;
      if (l2x > 1e-15) lo = Math.max(lo, -kb / l2x); else if (l2x < -1e-15) hi = Math.min(hi, -kb / l2x); else if (kb < 0) continue;
      if (mc > 1e-15) lo = Math.max(lo, -kc / mc); else if (mc < -1e-15) hi = Math.min(hi, -kc / mc); else if (kc < 0) continue;
      const xa = Math.max(0, Math.ceil(lo - 0.5 - 1e-9)), xb = Math.min(w - 1, Math.floor(hi - 0.5 + 1e-9));
      if (xa > xb) continue;
      const row = py * w;
      for (let s = 0; s < ns; s++) { const o = 6 * s; rowX[s] = aff[o + 1] * cy + aff[o + 2] - 0.5; rowY[s] = aff[o + 4] * cy + aff[o + 5] - 0.5; }
      for (let x = xa; x <= xb; x++) {
        const idx = row + x;
        if (covered[idx]) continue;
        covered[idx] = 1;
        if (value) value[idx] = tv;
        const cx = x + 0.5;
        for (let s = 0; s < ns; s++) {
          if (skip[s]) continue;
          const o = 6 * s;
          let qx = aff[o] * cx + rowX[s], qy = aff[o + 3] * cx + rowY[s];
          const W = dims[3 * s], C = dims[3 * s + 2];
          const ax = fr[4 * s], ay = fr[4 * s + 1], bx = fr[4 * s + 2], by = fr[4 * s + 3];
          if (qx < ax - 0.5 || qy < ay - 0.5 || qx > bx + 0.5 || qy > by + 0.5) {
            if (!clampEdges[s]) continue;
            // Mirrored at the edge: the hair or background near it continues. Repeating the edge
            // pixel (a clamp) drew streaks where a frame-filling face's warp reaches past the frame.
            qx = qx < ax ? 2 * ax - qx : qx > bx ? 2 * bx - qx : qx;
            qy = qy < ay ? 2 * ay - qy : qy > by ? 2 * by - qy : qy;
          }
          // Within the picture (its border's pixels are never blended in).
          qx = qx < ax ? ax : qx > bx ? bx : qx;
          qy = qy < ay ? ay : qy > by ? by : qy;
          valid[s][idx] = 1;
          // qx, qy lie in the picture now: at its last pixel the fraction is 0 and no neighbour is read.
          const ix = Math.floor(qx), iy = Math.floor(qy);
          const fx = qx - ix, fy = qy - iy;
          const data = px[s], dst = out[s];
          const i00 = (iy * W + ix) * C, i01 = fx > 0 ? i00 + C : i00, i10 = fy > 0 ? i00 + W * C : i00, i11 = fy > 0 ? i01 + W * C : i01;
          const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
          const di = idx * 3;
          dst[di] = data[i00] * w00 + data[i01] * w01 + data[i10] * w10 + data[i11] * w11;
          dst[di + 1] = data[i00 + 1] * w00 + data[i01 + 1] * w01 + data[i10 + 1] * w10 + data[i11 + 1] * w11;
          dst[di + 2] = data[i00 + 2] * w00 + data[i01 + 2] * w01 + data[i10 + 2] * w10 + data[i11 + 2] * w11;
        }
      }
    }
  }
  return { out, valid, covered, value };
}
