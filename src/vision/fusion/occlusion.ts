// What covers a face (hands, hair, glasses, microphones): pixels of the face region that do
// not look like this face's own skin. There is no face-parsing model in the stack, so the mask
// is built from statistics of the face itself: skin chroma (robust median/MAD over the inner
// face, eyes/brows/lips excluded), and luminance against a smooth local skin estimate (so hard
// side light is not mistaken for an occluder). Eyes, brows, lips and nostrils are dark or red by
// nature; they count as covered only when the skin around them is covered.
import { ring, type Pts } from './geometry.ts';
import { blur, fillPolygon } from './raster.ts';
import { spreadIntoFeatures } from './occluder-spread.ts';
import { nthSmallest } from './select.ts';

/** MediaPipe FaceMesh index sets of the features that are not skin (their convex hulls are used). */
const FEATURES = [
  [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246], // eye
  [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466], // eye
  [70, 63, 105, 66, 107, 55, 65, 52, 53, 46], // brow
  [300, 293, 334, 296, 336, 285, 295, 282, 283, 276], // brow
  [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185], // lips
  [1, 2, 98, 327, 64, 294, 240, 460, 97, 326], // nostrils
];
const FEATURE_GROW = 1.35;
/** Skin samples darker than the first local estimate by this many robust units are left out of the second (the template's mask). */
const LOCAL_OUTLIER = 2;
// Eyelids, eye bags and the eye corners' shadow are darker than the cheek by nature; with the
// eye hulls grown by 1.35 they were the mask's most common false alarm on clean templates.
const EYE_GROW = 1.8;
const growOf = (k: number) => (k < 2 ? EYE_GROW : FEATURE_GROW);

export interface OcclusionInput {
  /** RGB floats, w*h*3, already in the target geometry. */
  img: Float32Array;
  w: number; h: number;
  /** The face mesh (468 points) in window coordinates. */
  mesh: Pts;
  /** Where to decide (the face region) and where skin is sampled (the inner face). */
  region: Float32Array;
  skin: Float32Array;
  /** Pixels to ignore (samples outside the source photo). */
  valid?: Uint8Array;
  /** Per pixel, how strongly a deviation counts (1 = fully; 0 = never an occluder). Default 1. */
  weight?: (x: number, y: number) => number;
  /** Deviation (in robust standard units) from which a pixel starts to count as covered. */
  darkFrom?: number; chromaFrom?: number;
  /**
   * Also find skin-coloured occluders (a hand): large patches without the face's own fine
   * texture whose colour differs from the skin around them (see flatPatches). And keep only
   * confident parts of the colour/luminance mask: blobs that reach the edge of the decided
   * region (an occluder comes from outside the face) or are large.
   */
  confident?: boolean;
  /**
   * With `confident`: where a skin-coloured occluder may lie beyond the decided cells (pixel
   * mask, e.g. the template's own face outline). A hand over the cheek's edge is mostly outside
   * the inner face; found only inside it, the user's face was pasted over the rest of the palm.
   */
  flatReach?: Float32Array;
  faceSize: number;
  box: { x0: number; y0: number; x1: number; y1: number };
}

/**
 * Per pixel in [0,1]: 1 = something other than this face's skin covers it.
 * Decided on a grid of about 64 cells across the face, then interpolated: an occluder is large,
 * and deciding per pixel cost more than the rest of a 1080p fusion.
 */
export function occlusionMask(o: OcclusionInput): Float32Array {
  const { img, w, h, region, skin, valid, faceSize: fs } = o;
  const x0 = Math.max(0, Math.floor(o.box.x0)), y0 = Math.max(0, Math.floor(o.box.y0));
  const x1 = Math.min(w, Math.ceil(o.box.x1)), y1 = Math.min(h, Math.ceil(o.box.y1));
  const occ = new Float32Array(w * h);
  if (x1 - x0 < 4 || y1 - y0 < 4) return occ;
  const d = Math.max(1, Math.round(fs / 64));
  const gw = Math.ceil((x1 - x0) / d), gh = Math.ceil((y1 - y0) / d), n = gw * gh;
  // Grid cell (i, j) stands for the pixel at its centre; polygons map to grid units.
  const toGrid = (p: Pts) => { const r = new Float64Array(p.length); for (let i = 0; i < r.length; i += 2) { r[i] = (p[i] - x0) / d; r[i + 1] = (p[i + 1] - y0) / d; } return r; };
  const features = FEATURES.map((idx) => hull(idx, o.mesh));
  const feat = new Float32Array(n);
  features.forEach((f, k) => fillPolygon(toGrid(scalePoly(f, growOf(k))), gw, gh, feat));
  const Y = new Float32Array(n), Cb = new Float32Array(n), Cr = new Float32Array(n);
  const reg = new Uint8Array(n), sample = new Uint8Array(n), wgt = new Float32Array(n), reach = new Uint8Array(n);
  for (let j = 0; j < gh; j++) {
    const y = Math.min(y1 - 1, y0 + Math.floor((j + 0.5) * d));
    for (let i = 0; i < gw; i++) {
      const x = Math.min(x1 - 1, x0 + Math.floor((i + 0.5) * d)), p = y * w + x, c = p * 3, g = j * gw + i;
      const r = img[c], gr = img[c + 1], bl = img[c + 2];
      Y[g] = 0.299 * r + 0.587 * gr + 0.114 * bl;
      Cb[g] = 128 - 0.168736 * r - 0.331264 * gr + 0.5 * bl;
      Cr[g] = 128 + 0.5 * r - 0.418688 * gr - 0.081312 * bl;
      reg[g] = region[p] > 0 ? 1 : 0;
      sample[g] = skin[p] > 0 && feat[g] === 0 && (!valid || valid[p] === 1) ? 1 : 0;
      wgt[g] = o.weight ? o.weight(x, y) : 1;
      reach[g] = wgt[g] > 0 || (o.flatReach !== undefined && o.flatReach[p] > 0 && region[p] > 0) ? 1 : 0;
    }
  }
  // The skin-coloured occluders first: their cells are not skin samples (a hand over a third of
  // the face pulled the skin's median and local luminance towards its own, and the moustache
  // next to it counted as an occluder).
  const flat = o.confident ? flatPatches(o, x0, y0, gw, gh, d, wgt, reach, feat, Y, Cb, Cr) : null;
  if (flat) for (let g = 0; g < n; g++) if (flat[g]) sample[g] = 0;
  const cbs: number[] = [], crs: number[] = [];
  for (let g = 0; g < n; g++) if (sample[g]) { cbs.push(Cb[g]); crs.push(Cr[g]); }
  if (cbs.length < 50) return occ;
  const [mCb, sCb] = robust(cbs, 3), [mCr, sCr] = robust(crs, 3);
  const chroma = (g: number) => Math.hypot((Cb[g] - mCb) / sCb, (Cr[g] - mCr) / sCr);

  // Smooth local skin luminance: normalised convolution over chroma-consistent skin samples.
  const skinY = (keep: (g: number) => boolean) => {
    const sum = new Float32Array(n), wt = new Float32Array(n);
    for (let g = 0; g < n; g++) if (sample[g] && chroma(g) <= 3 && keep(g)) { sum[g] = Y[g]; wt[g] = 1; }
    blur(sum, gw, gh, (0.12 * fs) / d); blur(wt, gw, gh, (0.12 * fs) / d);
    const local = (g: number) => (wt[g] > 1e-3 ? sum[g] / wt[g] : NaN);
    const dev: number[] = [];
    for (let g = 0; g < n; g++) { if (!sample[g]) continue; const l = local(g); if (!Number.isNaN(l)) dev.push(Y[g] - l); }
    return { local, sL: robust(dev, 8)[1] };
  };
  let { local, sL } = skinY(() => true);
  // The template's: dark hair of skin's chroma over a cheek was a skin sample too, pulling the
  // local skin estimate and the spread down to its own (person-lexi's hair over her right cheek:
  // 116 pixels found of 3,311 dark ones); estimated again without the samples far darker than it.
  if (o.confident) { const first = local, s0 = sL; ({ local, sL } = skinY((g) => { const l = first(g); return Number.isNaN(l) || l - Y[g] <= LOCAL_OUTLIER * s0; })); }
  const dFrom = o.darkFrom ?? 4, cFrom = o.chromaFrom ?? 3.5;

  const occG = new Float32Array(n);
  for (let g = 0; g < n; g++) {
    if (!reg[g] || feat[g] > 0) continue;
    const l = local(g);
    const dark = Number.isNaN(l) ? 0 : (l - Y[g]) / sL, bright = Number.isNaN(l) ? 0 : (Y[g] - l) / sL;
    const s = Math.max((chroma(g) - cFrom) / 2, (dark - dFrom) / 1.5, (bright - dFrom - 1) / 2) * wgt[g];
    occG[g] = s <= 0 ? 0 : s >= 1 ? 1 : s;
  }
  if (o.confident) {
    keepConfident(occG, wgt, gw, gh, 0.01 * n);
    for (let g = 0; g < n; g++) occG[g] = Math.max(occG[g], flat![g]);
    // Into the features' hulls, and on out over the band to the template's outline (flatReach)
    // as into a feature: hair found over the cheek goes on to the face's edge; stopped at the
    // inner face, the user's cheek was pasted over the rest of it as a ring (person-lexi's hair).
    let into = feat, over = wgt;
    if (o.flatReach) {
      into = Float32Array.from(feat); over = Float32Array.from(wgt);
      for (let g = 0; g < n; g++) if (reach[g] && wgt[g] <= 0) { into[g] = 1; over[g] = 1; }
    }
    spreadIntoFeatures({ img, w, h, x0, y0, d, gw, gh, occG, feat: into, wgt: over, Y, Cb, Cr });
  }
  // The user's mask (no spread): a feature counts as covered when most of the skin around it
  // is (a fringe over the brows). Not the template's: spreadIntoFeatures covers as much of a
  // feature as the occluder reaches, and the whole-feature rule kept the template's lips beside
  // a hand over the cheek (in the fused mesh, the user's shape, the hand was most of the skin
  // around the lips): fusion-quality occluded pairs ≥ 50 73 → 73 of 84, mean Score +0.7,
  // rose_leslie@hand <- subject14 17 → 22, kit_harington@hand <- rose 13 → 35, obama@hand <-
  // penny 31 → 53; the glasses bars within ±2.5 (their eyes are covered by the spread).
  if (!o.confident) for (const [k, f] of features.entries()) {
    const inner = fillPolygon(toGrid(scalePoly(f, growOf(k))), gw, gh), outer = fillPolygon(toGrid(scalePoly(f, growOf(k) + 0.85)), gw, gh);
    let m = 0, c = 0;
    for (let g = 0; g < n; g++) { if (!outer[g] || inner[g] || feat[g] || !reg[g]) continue; m++; c += occG[g] > 0.5 ? 1 : 0; }
    if (m > 0 && c / m > 0.45) for (let g = 0; g < n; g++) if (inner[g] && reg[g]) occG[g] = 1;
  }
  // Grow a little and feather: an occluder's own soft edge must not be blended over either.
  blur(occG, gw, gh, Math.max(0.5, (0.015 * fs) / d));
  for (let g = 0; g < n; g++) occG[g] = Math.min(1, occG[g] * 2);
  // Back to pixels (bilinear), inside the face region.
  // Each column's cells and weight once (the same values as computed per pixel).
  const ci0 = new Int32Array(x1 - x0), ci1 = new Int32Array(x1 - x0), ctx = new Float64Array(x1 - x0);
  for (let x = x0; x < x1; x++) {
    const fx = Math.min(gw - 1, Math.max(0, (x + 0.5 - x0) / d - 0.5)), i0 = Math.floor(fx);
    ci0[x - x0] = i0; ci1[x - x0] = Math.min(gw - 1, i0 + 1); ctx[x - x0] = fx - i0;
  }
  for (let y = y0; y < y1; y++) {
    const fy = Math.min(gh - 1, Math.max(0, (y + 0.5 - y0) / d - 0.5)), j0 = Math.floor(fy), j1 = Math.min(gh - 1, j0 + 1), ty = fy - j0;
    for (let x = x0; x < x1; x++) {
      const p = y * w + x;
      if (region[p] <= 0) continue;
      const i0 = ci0[x - x0], i1 = ci1[x - x0], tx = ctx[x - x0];
      const a = occG[j0 * gw + i0], b = occG[j0 * gw + i1], c = occG[j1 * gw + i0], e = occG[j1 * gw + i1];
      if (a === 0 && b === 0 && c === 0 && e === 0) continue;
      occ[p] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + e * tx) * ty;
    }
  }
  return occ;
}

/**
 * The template's occluders as the engine decides them (fuse.ts, tuning `occlusion`): `img` is the
 * template in the fused face's geometry, `mesh` the fused mesh in window coordinates, `region` /
 * `skin` the fused face region and inner face. Decided inside the inner face only: the rim
 * (background, ears, the jaw's shadow, hair at the hairline) is not skin either, and masking it
 * took the user's outline away (identity) and left the template's jaw edge inside the face. An
 * occluder reaching into the face is found there. Below the nose a template's beard is dark
 * too: only strong deviations (a microphone, a hand) count there.
 */
export function templateOccluders(img: Float32Array, w: number, h: number, mesh: Pts, region: Float32Array, skin: Float32Array, faceSize: number, box: { x0: number; y0: number; x1: number; y1: number }): Float32Array {
  const upright = Math.abs(mesh[2 * 152 + 1] - mesh[2 * 10 + 1]) > Math.abs(mesh[2 * 152] - mesh[2 * 10]);
  const noseY = mesh[2 * 2 + 1];
  // A skin-coloured occluder (flatPatches) may also lie on the rim inside the template's own face
  // outline (FLAT_REACH of the fused mesh, which the template is warped onto): a hand over the
  // cheek's edge. Outside that outline lie the template's background and hair, which the rim is
  // for (the user's outline runs past the template's there).
  const flatReach = fillPolygon(ring(mesh, FLAT_REACH), w, h);
  return occlusionMask({ img, w, h, mesh, region, skin, faceSize, box, confident: true, flatReach, weight: (x, y) => (skin[y * w + x] > 0 ? (upright && y > noseY ? 0.5 : 1) : 0) });
}
const FLAT_REACH = 0.97;

/** 4-neighbour components of cells where `on(g)`; each as its cell list. */
function components(on: (g: number) => boolean, gw: number, gh: number): number[][] {
  const seen = new Uint8Array(gw * gh), out: number[][] = [];
  for (let g0 = 0; g0 < gw * gh; g0++) {
    if (seen[g0] || !on(g0)) continue;
    const comp: number[] = [], stack = [g0];
    seen[g0] = 1;
    while (stack.length) {
      const g = stack.pop()!;
      comp.push(g);
      const i = g % gw, j = (g - i) / gw;
      for (const [ii, jj] of [[i - 1, j], [i + 1, j], [i, j - 1], [i, j + 1]]) {
        if (ii < 0 || jj < 0 || ii >= gw || jj >= gh) continue;
        const q = jj * gw + ii;
        if (!seen[q] && on(q)) { seen[q] = 1; stack.push(q); }
      }
    }
    out.push(comp);
  }
  return out;
}

/** Does a component touch a cell outside the decided region (weight 0) or the grid's edge? */
function touchesEdge(comp: number[], wgt: ArrayLike<number>, gw: number, gh: number): boolean {
  for (const g of comp) {
    const i = g % gw, j = (g - i) / gw;
    for (const [ii, jj] of [[i - 1, j], [i + 1, j], [i, j - 1], [i, j + 1]]) {
      if (ii < 0 || jj < 0 || ii >= gw || jj >= gh || wgt[jj * gw + ii] <= 0) return true;
    }
  }
  return false;
}

/**
 * In place: clears the blobs of `occG` (cells > 0.25) that neither touch the decided region's
 * edge nor cover `minCells`. A clean face's false alarms (a mole, a dark eye corner, a nostril's
 * shadow, a highlight) are small islands inside the face; a hand, hair, a microphone or a
 * glasses bar comes in from outside or is large.
 */
function keepConfident(occG: Float32Array, wgt: Float32Array, gw: number, gh: number, minCells: number): void {
  for (const comp of components((g) => occG[g] > 0.25, gw, gh)) {
    if (comp.length >= minCells || touchesEdge(comp, wgt, gw, gh)) continue;
    for (const g of comp) occG[g] = 0;
  }
}

// Skin-coloured occluders (a hand, an arm): colour statistics cannot tell them from skin, but
// they lack the face's fine texture (pores, stubble, the photo's grain on skin) at the cell
// scale and meet the face along a step. A patch counts when its cells' fine texture is below
// FLAT_TEXTURE of the face's median, it is large (FLAT_MIN_SHARE of the decided cells), comes
// in from the region's edge, and its colour differs from the skin just around it by FLAT_STEP
// (RGB distance of means). Smooth skin (a cheek in soft light) has texture too, if less; a
// highlight is small or bright without a step around it.
const FLAT_TEXTURE = 0.35, FLAT_MIN_SHARE = 0.03, FLAT_MIN_SHARE_DARK = 0.008, FLAT_DARK_STEP = 80, FLAT_STEP = 8, FLAT_EDGE = 2.5, FLAT_EDGE_MIN = 12, FLAT_SHARP = 0.5, FLAT_PATCH = 0.1, FLAT_PATCH_ABS = 0.12, FLAT_GROW = 3;

function flatPatches(o: OcclusionInput, x0: number, y0: number, gw: number, gh: number, d: number, wgt: Float32Array, reach: Uint8Array, feat: Float32Array, Y: Float32Array, Cb: Float32Array, Cr: Float32Array): Float32Array {
  const { img, w, h } = o, n = gw * gh;
  const out = new Float32Array(n);
  // Fine texture per cell: mean |Y − mean of its 4 neighbours| over the cell's pixels.
  const tex = new Float32Array(n), cnt = new Float32Array(n), edge = new Float32Array(n);
  // Each pixel's luminance once (doubles, as computed in place before), on the grid's pixels and
  // the two pixels around them that the texture reads.
  const lx0 = Math.max(0, x0 - 2), ly0 = Math.max(0, y0 - 2), lx1 = Math.min(w, x0 + gw * d + 2), ly1 = Math.min(h, y0 + gh * d + 2), lw = lx1 - lx0;
  const lumAt = new Float64Array(Math.max(0, lw * (ly1 - ly0)));
  for (let y = ly0; y < ly1; y++) for (let x = lx0, p = y * w + x, l = (y - ly0) * lw; x < lx1; x++, p++, l++) lumAt[l] = 0.299 * img[p * 3] + 0.587 * img[p * 3 + 1] + 0.114 * img[p * 3 + 2];
  for (let j = 0; j < gh; j++) for (let i = 0; i < gw; i++) {
    const g = j * gw + i;
    if (!reach[g]) continue;
    let s = 0, c = 0, e = 0, clip = 0;
    // Pixels within 2 of the image's edge are skipped.
    const ya = Math.max(2, y0 + j * d), yb = Math.min(h - 2, y0 + (j + 1) * d), xa = Math.max(2, x0 + i * d), xb = Math.min(w - 2, x0 + (i + 1) * d);
    for (let y = ya; y < yb; y++) for (let x = xa; x < xb; x++) {
      const p = y * w + x, c3 = p * 3, l = (y - ly0) * lw + (x - lx0);
      // The strongest colour step to a neighbour pixel (an occluder's contour is one).
      for (let k = 0; k < 3; k++) {
        const dx = Math.abs(img[c3 + 3 + k] - img[c3 - 3 + k]), dy = Math.abs(img[c3 + 3 * w + k] - img[c3 - 3 * w + k]);
        if (dx > e) e = dx;
        if (dy > e) e = dy;
      }
      // Clipped highlights are flat because they are clipped, not because something covers them.
      if (img[c3] >= 240 || img[c3 + 1] >= 240 || img[c3 + 2] >= 240) { clip++; continue; }
      s += Math.abs(lumAt[l] - (lumAt[l - 2] + lumAt[l + 2] + lumAt[l - 2 * lw] + lumAt[l + 2 * lw]) / 4); c++;
    }
    // A cell of mostly clipped pixels cannot tell (counts as neither flat nor a texture sample).
    tex[g] = c ? s / c : 0; cnt[g] = clip > c ? 0 : c; edge[g] = e;
  }
  const ts: number[] = [], es: number[] = [];
  let decided = 0;
  for (let g = 0; g < n; g++) if (wgt[g] > 0 && cnt[g] > 0) { decided++; if (!feat[g]) { ts.push(tex[g]); es.push(edge[g]); } }
  es.sort((a, b) => a - b);
  const edgeFrom = Math.max(FLAT_EDGE_MIN, FLAT_EDGE * es[es.length >> 1]);
  if (ts.length < 50) return out;
  ts.sort((a, b) => a - b);
  const t0 = ts[ts.length >> 1];
  // A photo without fine texture at this scale (small, blurred, smoothed) cannot tell.
  if (t0 < 0.4) return out;
  // Patches may lie on the reach (the decided cells and beyond); the face's statistics above are the decided cells'.
  const flat = (g: number) => reach[g] > 0 && cnt[g] > 0 && !feat[g] && tex[g] < FLAT_TEXTURE * t0;
  const rgb = (g: number) => { const y = Y[g], cb = Cb[g] - 128, cr = Cr[g] - 128; return [y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb]; };
  const inComp = new Int32Array(n).fill(-1);
  const comps = components(flat, gw, gh);
  comps.forEach((c, k) => { for (const g of c) inComp[g] = k; });
  for (const [k, comp] of comps.entries()) {
    // It must reach into the face (FLAT_MIN_SHARE_DARK of the decided cells), not only lie on the reach beyond them.
    let inside = 0;
    for (const g of comp) if (wgt[g] > 0) inside++;
    if (inside < FLAT_MIN_SHARE_DARK * decided) continue;
    const inFromEdge = touchesEdge(comp, reach, gw, gh);
    // The skin around it: on the reach, not flat, within 3 cells of the patch.
    const ring = new Set<number>();
    for (const g of comp) {
      const i = g % gw, j = (g - i) / gw;
      for (let dj = -3; dj <= 3; dj++) for (let di = -3; di <= 3; di++) {
        const ii = i + di, jj = j + dj;
        if (ii < 0 || jj < 0 || ii >= gw || jj >= gh) continue;
        const q = jj * gw + ii;
        if (inComp[q] !== k && reach[q] > 0 && !feat[q] && !flat(q)) ring.add(q);
      }
    }
    if (ring.size < 10) continue;
    const mean = (cells: Iterable<number>) => { const m = [0, 0, 0]; let c = 0; for (const g of cells) { const v = rgb(g); for (let q = 0; q < 3; q++) m[q] += v[q]; c++; } return m.map((v) => v / Math.max(1, c)); };
    const a = mean(comp), b = mean(ring);
    const step = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    // A small or island patch only when it is far from the skin (a black bar, a microphone).
    if (step < FLAT_STEP || ((comp.length < FLAT_MIN_SHARE * decided || !inFromEdge) && step < FLAT_DARK_STEP)) continue;
    // A step as sharp as the colour difference across it: shading changes gradually.
    const stepMax = Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
    const sharpFrom = Math.max(FLAT_EDGE_MIN, Math.min(edgeFrom, 0.5 * stepMax));
    // Its contour inside the face: the cells of the patch or just outside it next to decided,
    // non-feature skin. Most of it must be a sharp step.
    let contour = 0, sharp = 0;
    for (const g of comp) {
      const i = g % gw, j = (g - i) / gw;
      for (const [ii, jj] of [[i - 1, j], [i + 1, j], [i, j - 1], [i, j + 1]]) {
        if (ii < 0 || jj < 0 || ii >= gw || jj >= gh) continue;
        const q = jj * gw + ii;
        if (inComp[q] === k || !reach[q] || feat[q]) continue;
        contour++;
        if (Math.max(edge[g], edge[q]) >= sharpFrom) sharp++;
        break;
      }
    }
    if (contour === 0 || sharp < FLAT_SHARP * contour) continue;
    // Flat as a whole, not only cell by cell: a smooth cheek's cells pass one by one, a hand's
    // texture is its grain and the photo's quantisation (≈ 0.1 levels).
    let tm = 0;
    for (const g of comp) tm += tex[g];
    tm /= comp.length;
    if (tm > FLAT_PATCH * t0 && tm > FLAT_PATCH_ABS) continue;
    for (const g of comp) out[g] = 1;
    // Its own rim (the cells the contour's step made look textured) and thin parts (fingers):
    // neighbours up to FLAT_GROW cells away whose colour is nearer the patch's than half the step.
    let front = comp;
    for (let it = 0; it < FLAT_GROW; it++) {
      const next: number[] = [];
      for (const g of front) {
        const i = g % gw, j = (g - i) / gw;
        for (const [ii, jj] of [[i - 1, j], [i + 1, j], [i, j - 1], [i, j + 1]]) {
          if (ii < 0 || jj < 0 || ii >= gw || jj >= gh) continue;
          const q = jj * gw + ii;
          if (out[q] || !reach[q]) continue;
          const v = rgb(q);
          if (Math.hypot(v[0] - a[0], v[1] - a[1], v[2] - a[2]) < 0.5 * step) { out[q] = 1; next.push(q); }
        }
      }
      front = next;
    }
  }
  return out;
}

/** [median, 1.4826·MAD] with a floor on the spread. */
function robust(v: number[], floor: number): [number, number] {
  if (!v.length) return [0, floor];
  // The middle element as a sort would place it, by selection (a sort cost more).
  const s = Float64Array.from(v);
  const m = nthSmallest(s, s.length >> 1);
  const d = new Float64Array(v.length);
  for (let i = 0; i < d.length; i++) d[i] = Math.abs(v[i] - m);
  return [m, Math.max(floor, 1.4826 * nthSmallest(d, d.length >> 1))];
}


/** Convex hull (monotone chain) of the mesh points `idx`. */
export function hull(idx: number[], mesh: Pts): Pts {
  const pts = idx.map((i) => [mesh[2 * i], mesh[2 * i + 1]] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: number[], a: number[], b: number[]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [], upper: [number, number][] = [];
  for (const p of pts) { while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop(); lower.push(p); }
  for (const p of [...pts].reverse()) { while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop(); upper.push(p); }
  return Float64Array.from([...lower.slice(0, -1), ...upper.slice(0, -1)].flat());
}

/** A polygon scaled about its vertices' mean. */
export function scalePoly(p: Pts, s: number): Pts {
  let cx = 0, cy = 0;
  const n = p.length / 2;
  for (let i = 0; i < n; i++) { cx += p[2 * i]; cy += p[2 * i + 1]; }
  cx /= n; cy /= n;
  const out = new Float64Array(p.length);
  for (let i = 0; i < n; i++) { out[2 * i] = cx + (p[2 * i] - cx) * s; out[2 * i + 1] = cy + (p[2 * i + 1] - cy) * s; }
  return out;
}
