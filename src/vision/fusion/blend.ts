// Multi-band (Laplacian pyramid) blending over a feathered mask. Only the difference between
// the source and the destination is decomposed: blend(S, D, M) = D + collapse(G(M)_k · L(S-D)_k),
// which halves the work and leaves D untouched wherever S equals D.
import { expand, reduce } from './raster.ts';

/**
 * Returns D + multiband(S - D, mask) as floats (w*h*3). `delta` = S - D (RGB interleaved),
 * `mask` in [0,1]. Coarse bands see a wider mask, so low-frequency colour steps spread out
 * and no seam forms, while fine detail switches sharply.
 */
export function multibandDelta(delta: Float32Array, mask: Float32Array, w: number, h: number, maxLevels = 5): Float32Array {
  let levels = 0;
  while (levels < maxLevels && Math.min(w, h) >> (levels + 1) >= 8) levels++;
  const G: { d: Float32Array; w: number; h: number }[] = [{ d: delta, w, h }];
  const M: Float32Array[] = [mask];
  for (let k = 0; k < levels; k++) {
    const g = reduce(G[k].d, G[k].w, G[k].h, 3);
    G.push({ d: g.data, w: g.w, h: g.h });
    M.push(reduce(M[k], G[k].w, G[k].h, 1).data);
  }
  // Collapse from the top: R_N = G_N·M_N; R_k = (G_k - up(G_k+1))·M_k + up(R_k+1).
  let R: Float32Array = new Float32Array(G[levels].d.length);
  { const g = G[levels].d, m = M[levels]; for (let i = 0; i < R.length; i++) R[i] = g[i] * m[(i / 3) | 0]; }
  for (let k = levels - 1; k >= 0; k--) {
    const { d: g, w: wk, h: hk } = G[k];
    const upG = expand(G[k + 1].d, G[k + 1].w, G[k + 1].h, wk, hk, 3);
    const upR = expand(R, G[k + 1].w, G[k + 1].h, wk, hk, 3);
    const m = M[k];
    for (let i = 0, p = 0; p < wk * hk; p++) {
      const mm = m[p];
      for (let c = 0; c < 3; c++, i++) upR[i] += (g[i] - upG[i]) * mm;
    }
    R = upR;
  }
  return R;
}
