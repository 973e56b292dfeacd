// Multi-band (Laplacian pyramid) blending over a feathered mask. Only the difference between
// the source and the destination is decomposed: blend(S, D, M) = D + collapse(G(M)_k · L(S-D)_k),
// which halves the work and leaves D untouched wherever S equals D.
import { reduce } from './raster.ts';

/**
 * Returns multiband(S - D, mask) as floats (w*h*3), to be added to D. `delta` = S - D (RGB
 * interleaved), `mask` in [0,1]. Coarse bands see a wider mask, so low-frequency colour steps
 * spread out and no seam forms, while fine detail switches sharply.
 */
export function multibandDelta(delta: Float32Array, mask: Float32Array, w: number, h: number, maxLevels = 5): Float32Array {
  let levels = 0;
  while (levels < maxLevels && Math.min(w, h) >> (levels + 1) >= 8) levels++;
  // Delta and mask travel together as 4 channels: one reduce per level instead of two.
  const g0 = new Float32Array(w * h * 4);
  for (let p = 0; p < w * h; p++) { g0[4 * p] = delta[3 * p]; g0[4 * p + 1] = delta[3 * p + 1]; g0[4 * p + 2] = delta[3 * p + 2]; g0[4 * p + 3] = mask[p]; }
  const G: { d: Float32Array; w: number; h: number }[] = [{ d: g0, w, h }];
  for (let k = 0; k < levels; k++) { const r = reduce(G[k].d, G[k].w, G[k].h, 4); G.push({ d: r.data, w: r.w, h: r.h }); }
  // Collapse from the top: R_N = G_N·M_N; R_k = (G_k - up(G_k+1))·M_k + up(R_k+1).
  const top = G[levels];
  let R: Float32Array = new Float32Array(top.w * top.h * 3);
  for (let p = 0; p < top.w * top.h; p++) { const m = top.d[4 * p + 3]; for (let c = 0; c < 3; c++) R[3 * p + c] = top.d[4 * p + c] * m; }
  for (let k = levels - 1; k >= 0; k--) R = collapseLevel(G[k].d, G[k].w, G[k].h, G[k + 1].d, R, G[k + 1].w, G[k + 1].h);
  return R;
}

/** One collapse step with both bilinear 2× expansions (of G_k+1 and R_k+1) fused into the pass. */
function collapseLevel(g: Float32Array, w: number, h: number, gs: Float32Array, rs: Float32Array, ws: number, hs: number): Float32Array {
  const out = new Float32Array(w * h * 3);
  const x0s = new Int32Array(w), x1s = new Int32Array(w), fxs = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const sx = Math.min(ws - 1, x / 2), x0 = Math.floor(sx);
    x0s[x] = x0; x1s[x] = Math.min(ws - 1, x0 + 1); fxs[x] = sx - x0;
  }
  for (let y = 0; y < h; y++) {
    const sy = Math.min(hs - 1, y / 2);
    const y0 = Math.floor(sy), y1 = Math.min(hs - 1, y0 + 1), fy = sy - y0;
    const ra = y0 * ws, rb = y1 * ws;
    for (let x = 0; x < w; x++) {
      const fx = fxs[x];
      const a = ra + x0s[x], b = ra + x1s[x], c_ = rb + x0s[x], d = rb + x1s[x];
      const wa = (1 - fx) * (1 - fy), wb = fx * (1 - fy), wc = (1 - fx) * fy, wd = fx * fy;
      const p = y * w + x, m = g[4 * p + 3];
      for (let c = 0; c < 3; c++) {
        const upG = gs[4 * a + c] * wa + gs[4 * b + c] * wb + gs[4 * c_ + c] * wc + gs[4 * d + c] * wd;
        const upR = rs[3 * a + c] * wa + rs[3 * b + c] * wb + rs[3 * c_ + c] * wc + rs[3 * d + c] * wd;
        out[3 * p + c] = (g[4 * p + c] - upG) * m + upR;
      }
    }
  }
  return out;
}
