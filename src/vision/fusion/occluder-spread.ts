// An occluder covers the face's features as it covers its skin. occlusion.ts decides on skin
// only (eyes, brows, lips and nostrils are dark or red by nature) and counts a feature covered
// only when most of the skin around it is; a hand over half the mouth left the part of it over
// the lips' hull to the user's lips (kit_harington@hand <- obama: the smile painted over the
// palm, the lips' hull being the user's wider smile). Here each occluder found on the skin
// reaches on into the features' hulls over the cells that look like it: its colour, and no more
// fine texture than it has. A feature's own cells differ from an occluder next to them in one
// or the other (lips are redder and textured, an open mouth's teeth and shadow are edges).

/** The occlusion grid (occlusion.ts occlusionMask), cell (i, j) standing for the pixel at its centre. */
export interface OcclusionGrid {
  img: Float32Array; w: number; h: number;
  /** The grid's origin in pixels, its cell size and its size in cells. */
  x0: number; y0: number; d: number; gw: number; gh: number;
  /** Per cell: the occluder score (in place), inside a feature's hull (> 0), decided (weight > 0). */
  occG: Float32Array; feat: Float32Array; wgt: Float32Array;
  Y: Float32Array; Cb: Float32Array; Cr: Float32Array;
}

// Occluder cells (score above SPREAD_FROM) in components of at least SPREAD_MIN_CELLS spread;
// a cell joins when its colour is within SPREAD_STEP (RGB distance) of the occluder cell next
// to it and within max(SPREAD_ABS, SPREAD_SIGMA × the occluder's spread) of its mean, and its
// fine texture is at most SPREAD_TEX × the occluder's median (or SPREAD_TEX_ABS levels).
const SPREAD_FROM = 0.5, SPREAD_MIN_CELLS = 8, SPREAD_STEP = 12, SPREAD_ABS = 24, SPREAD_SIGMA = 3, SPREAD_TEX = 2, SPREAD_TEX_ABS = 0.6, TEX_SAMPLES = 64;

/** In place: the occluders in `g.occG` carried on over the feature cells that look like them. */
export function spreadIntoFeatures(g: OcclusionGrid): void {
  const { gw, gh, occG, feat, wgt } = g, n = gw * gh;
  const tex = cellTexture(g);
  const rgb = (c: number) => { const y = g.Y[c], cb = g.Cb[c] - 128, cr = g.Cr[c] - 128; return [y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb]; };
  const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  const seen = new Uint8Array(n);
  for (let s = 0; s < n; s++) {
    if (seen[s] || occG[s] <= SPREAD_FROM) continue;
    // The occluder's component on the decided cells.
    const comp = [s];
    seen[s] = 1;
    for (let k = 0; k < comp.length; k++) forNeighbours(comp[k], gw, gh, (q) => { if (!seen[q] && occG[q] > SPREAD_FROM) { seen[q] = 1; comp.push(q); } });
    if (comp.length < SPREAD_MIN_CELLS) continue;
    const mean = [0, 0, 0];
    for (const c of comp) { const v = rgb(c); for (let k = 0; k < 3; k++) mean[k] += v[k] / comp.length; }
    let sd = 0;
    for (const c of comp) sd += dist(rgb(c), mean) ** 2;
    sd = Math.sqrt(sd / comp.length);
    // Its median texture from at most TEX_SAMPLES of its cells (a hand is hundreds).
    const step = Math.ceil(comp.length / TEX_SAMPLES), texs: number[] = [];
    for (let k = 0; k < comp.length; k += step) texs.push(tex(comp[k]));
    texs.sort((a, b) => a - b);
    const texTo = Math.max(SPREAD_TEX_ABS, SPREAD_TEX * texs[texs.length >> 1]);
    const near = Math.max(SPREAD_ABS, SPREAD_SIGMA * sd);
    const front = [...comp];
    while (front.length) {
      const c = front.pop()!, vc = rgb(c);
      forNeighbours(c, gw, gh, (q) => {
        if (seen[q] || feat[q] <= 0 || wgt[q] <= 0 || occG[q] > SPREAD_FROM) return;
        const v = rgb(q);
        if (dist(v, vc) > SPREAD_STEP || dist(v, mean) > near || tex(q) > texTo) return;
        seen[q] = 1; occG[q] = 1; front.push(q);
      });
    }
  }
}

function forNeighbours(c: number, gw: number, gh: number, f: (q: number) => void): void {
  const i = c % gw, j = (c - i) / gw;
  if (i > 0) f(c - 1);
  if (i < gw - 1) f(c + 1);
  if (j > 0) f(c - gw);
  if (j < gh - 1) f(c + gw);
}

/** Per cell, lazily: mean |Y − mean of the 4 neighbours 2 px away| over its pixels (occlusion.ts flatPatches' texture). */
function cellTexture(g: OcclusionGrid): (c: number) => number {
  const { img, w, h, x0, y0, d, gw } = g;
  const memo = new Float32Array(gw * g.gh).fill(-1);
  const lum = (p: number) => 0.299 * img[p * 3] + 0.587 * img[p * 3 + 1] + 0.114 * img[p * 3 + 2];
  return (c) => {
    if (memo[c] >= 0) return memo[c];
    const i = c % gw, j = (c - i) / gw;
    let s = 0, k = 0;
    for (let y = Math.max(2, y0 + j * d); y < Math.min(h - 2, y0 + (j + 1) * d); y++) for (let x = Math.max(2, x0 + i * d); x < Math.min(w - 2, x0 + (i + 1) * d); x++) {
      const p = y * w + x;
      s += Math.abs(lum(p) - (lum(p - 2) + lum(p + 2) + lum(p - 2 * w) + lum(p + 2 * w)) / 4); k++;
    }
    return (memo[c] = k ? s / k : 0);
  };
}
