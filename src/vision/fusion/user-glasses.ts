// The user's own glasses frames, found on the user's photo and painted out with the user's
// surrounding skin before the face is warped, so FuseFace does not carry them into a template
// (issue 16: the user's occluders are not carried over unless asked for; userOccluders 'keep').
// There is no face-parsing model in the stack. A frame is a thin dark line around each eye:
// a black-hat (closing − image, radius ≈ a third of the eye's half-width) picks out dark
// structures thinner than that, which skin shading, the nose's shadow and the eyes' own dark
// (excluded by their hulls) are not. The photo counts as wearing glasses when such lines are
// met on most rays around both eyes (a ring around each eye); then those lines, inside the face
// and outside the eyes and brows, are filled from the skin around them (push-pull).
import { MESH_POINTS, ring, type Pts } from './geometry.ts';
import { fillPolygon } from './raster.ts';
import { hull, scalePoly } from './occlusion.ts';
import type { Raster } from './warp.ts';

const EYES = [
  [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246],
  [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466],
];
const BROWS = [
  [70, 63, 105, 66, 107, 55, 65, 52, 53, 46],
  [300, 293, 334, 296, 336, 285, 295, 282, 283, 276],
];
/** Rays per eye, and the share of them that must meet a thin dark line for glasses. */
const RAYS = 24, GLASSES_FROM = 0.6;
/** The ring searched around each eye, in eye half-widths from its centre. */
const RAY_FROM = 0.9, RAY_TO = 2.6;
/** Frame pixels: black-hat from this share of the detection threshold, outside the eye hulls grown this much. */
const MASK_FROM = 0.65, EYE_KEEP = 1.7;
/** The eye's half-width in cells of the grid the frames are decided on. */
const GRID_EYE = 12;

export interface GlassesFinding {
  /** Share of rays around the eyes that met a frame-like line (both eyes' rays together). */
  score: number;
  /** Pixels painted out, in the photo's coordinates (empty when no glasses). */
  mask: Uint8Array;
  box: { x0: number; y0: number; x1: number; y1: number };
}

/** Looks for glasses frames on `img` (the face `mesh`, 468+ points in img coordinates). */
export function findGlasses(img: Raster, mesh: Pts): GlassesFinding {
  const W = img.width, H = img.height, C = img.channels ?? 3;
  const px = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const eyeOf = (m: Pts) => EYES.map((idx) => {
    let x = 0, y = 0;
    for (const i of idx) { x += m[2 * i]; y += m[2 * i + 1]; }
    return { x: x / idx.length, y: y / idx.length };
  });
  const eye0 = eyeOf(mesh);
  const re0 = (Math.hypot(mesh[2 * 33] - mesh[2 * 133], mesh[2 * 33 + 1] - mesh[2 * 133 + 1]) + Math.hypot(mesh[2 * 362] - mesh[2 * 263], mesh[2 * 362 + 1] - mesh[2 * 263 + 1])) / 4;
  const reach = (RAY_TO + 0.3) * re0;
  const x0 = Math.max(0, Math.floor(Math.min(eye0[0].x, eye0[1].x) - reach)), x1 = Math.min(W, Math.ceil(Math.max(eye0[0].x, eye0[1].x) + reach));
  const y0 = Math.max(0, Math.floor(Math.min(eye0[0].y, eye0[1].y) - reach)), y1 = Math.min(H, Math.ceil(Math.max(eye0[0].y, eye0[1].y) + reach));
  const box = { x0, y0, x1, y1 };
  const W0 = x1 - x0, H0 = y1 - y0;
  const none = { score: 0, mask: new Uint8Array(0), box };
  if (W0 < 16 || H0 < 16 || re0 < 4 || mesh.length < 2 * MESH_POINTS) return none;
  // Decided on a grid where the eye's half-width is about GRID_EYE cells (block means): frames
  // stay 2–4 cells thick and a large photo costs no more than a small one.
  const d = Math.max(1, Math.floor(re0 / GRID_EYE));
  const w = Math.ceil(W0 / d), h = Math.ceil(H0 / d), re = re0 / d;
  const m = new Float64Array(2 * MESH_POINTS);
  for (let i = 0; i < MESH_POINTS; i++) { m[2 * i] = (mesh[2 * i] - x0) / d; m[2 * i + 1] = (mesh[2 * i + 1] - y0) / d; }
  const eye = eyeOf(m);
  const L = new Float32Array(w * h), cnt = new Float32Array(w * h);
  for (let y = 0; y < H0; y++) for (let x = 0; x < W0; x++) {
    const s = ((y + y0) * W + x + x0) * C, g = Math.floor(y / d) * w + Math.floor(x / d);
    L[g] += 0.299 * px[s] + 0.587 * px[s + 1] + 0.114 * px[s + 2]; cnt[g]++;
  }
  for (let g = 0; g < w * h; g++) L[g] /= cnt[g] || 1;
  const k = Math.max(2, Math.round(0.3 * re));
  const closed = minFilter(maxFilter(L, w, h, k), w, h, k);
  const B = new Float32Array(w * h);
  for (let q = 0; q < w * h; q++) B[q] = closed[q] - L[q];
  // Not frames: the eyes (and their lashes), the brows, and everything outside the face.
  const exclude = new Float32Array(w * h);
  for (const idx of EYES) fillPolygon(scalePoly(hull(idx, m), 1.35), w, h, exclude);
  for (const idx of BROWS) fillPolygon(scalePoly(hull(idx, m), 1.25), w, h, exclude);
  const face = fillPolygon(ring(m, 1.0), w, h);
  const use = (q: number) => face[q] > 0 && exclude[q] === 0;
  const med = histMedian(B, use, 0);
  if (Number.isNaN(med)) return none;
  const th = Math.max(24, med + 6 * 1.4826 * histMedian(B, use, med));
  let hits = 0, counted = 0;
  for (const e of eye) {
    for (let r = 0; r < RAYS; r++) {
      const a = (2 * Math.PI * r) / RAYS, dx = Math.cos(a), dy = Math.sin(a);
      let seen = 0, free = 0, hit = false;
      for (let t = RAY_FROM * re; t <= RAY_TO * re; t += 0.5) {
        const x = Math.round(e.x + dx * t), y = Math.round(e.y + dy * t);
        if (x < 0 || y < 0 || x >= w || y >= h) continue;
        const q = y * w + x;
        seen++;
        if (exclude[q] || !face[q]) continue;
        free++;
        if (B[q] > th) { hit = true; break; }
      }
      // A ray mostly through a brow or off the face says nothing.
      if (!hit && free < 0.4 * seen) continue;
      counted++;
      if (hit) hits++;
    }
  }
  const rays = counted >= RAYS ? hits / counted : 0;
  // The bridge: a horizontal dark line across the nose between the eyes (creases, hair and the
  // eyes' own shadows make rays hit too; they do not cross the nose's ridge sideways).
  const bridge = bridgeAcross(B, w, h, 0, 0, m, re, th, exclude);
  const score = bridge ? rays : 0;
  if (score < GLASSES_FROM) return { score, mask: new Uint8Array(0), box };
  // The frames: the thin dark lines (a lower threshold grows them along their soft edges), a
  // little wider, inside the face, near the eyes, not the eyes or brows.
  const gm = new Uint8Array(w * h);
  const inner = fillPolygon(ring(m, 0.95), w, h);
  // The eyes' lids and lashes are the user's identity: painted over with the frames (hulls ×1.35,
  // lines from half the threshold, grown by 0.08 eye half-widths) leonard1's Score against his
  // other photo fell by 4–11 on 8 templates. Kept well clear of them here.
  for (const idx of EYES) fillPolygon(scalePoly(hull(idx, m), EYE_KEEP), w, h, exclude);
  const nearR = (RAY_TO + 0.2) * re;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const q = y * w + x;
    if (inner[q] && !exclude[q] && B[q] > MASK_FROM * th && eye.some((e) => Math.hypot(x + 0.5 - e.x, y + 0.5 - e.y) <= nearR)) gm[q] = 1;
  }
  const grown = dilate(gm, w, h, 1);
  const mask = new Uint8Array(W0 * H0);
  for (let y = 0; y < H0; y++) for (let x = 0; x < W0; x++) mask[y * W0 + x] = grown[Math.floor(y / d) * w + Math.floor(x / d)];
  return { score, mask, box };
}

/**
 * The user's photo with glasses frames painted out (a copy), or null when no glasses were
 * found. Only the eye region is touched.
 */
export function withoutGlasses(img: Raster, mesh: Pts): Raster | null {
  const g = findGlasses(img, mesh);
  if (!g.mask.length) return null;
  const W = img.width, C = img.channels ?? 3;
  const { x0, y0, x1, y1 } = g.box, w = x1 - x0, h = y1 - y0;
  const src = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const out = new Uint8Array(src);
  const known = new Float32Array(w * h);
  for (let q = 0; q < w * h; q++) known[q] = g.mask[q] ? 0 : 1;
  for (let c = 0; c < 3; c++) {
    const v = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) v[y * w + x] = src[((y + y0) * W + x + x0) * C + c];
    const filled = pushPull(v, known, w, h);
    for (let q = 0; q < w * h; q++) if (g.mask[q]) { const x = q % w, y = (q - x) / w; out[((y + y0) * W + x + x0) * C + c] = Math.round(filled[q]); }
  }
  return { width: img.width, height: img.height, channels: C, data: out };
}

/**
 * True when a row across the nose's ridge between the eyes (from the brows' inner ends down to
 * the eyes' lower lids) is dark-lined over most of ±0.35 eye half-widths: a frame's bridge.
 */
function bridgeAcross(B: Float32Array, w: number, h: number, x0: number, y0: number, mesh: Pts, re: number, th: number, exclude: Float32Array): boolean {
  // 168: between the brows on the ridge; 6: the ridge between the eyes; 197: below it.
  const top = { x: mesh[2 * 168], y: mesh[2 * 168 + 1] }, bottom = { x: mesh[2 * 197], y: mesh[2 * 197 + 1] };
  const len = Math.hypot(bottom.x - top.x, bottom.y - top.y);
  if (len < 2) return false;
  const ux = (bottom.x - top.x) / len, uy = (bottom.y - top.y) / len; // along the ridge
  const half = 0.35 * re;
  for (let t = -0.3 * re; t <= len; t += 0.5) {
    let on = 0, n = 0;
    for (let s = -half; s <= half; s += 0.5) {
      const x = Math.round(top.x + ux * t - uy * s) - x0, y = Math.round(top.y + uy * t + ux * s) - y0;
      if (x < 0 || y < 0 || x >= w || y >= h) continue;
      const q = y * w + x;
      if (exclude[q]) continue;
      n++;
      if (B[q] > 0.5 * th) on++;
    }
    if (n >= 4 && on >= 0.8 * n) return true;
  }
  return false;
}

/** Fills unknown pixels (weight 0) from the known ones: a pyramid of weighted means, coarse values filling the gaps of finer levels. */
function pushPull(v: Float32Array, wt: Float32Array, w: number, h: number): Float32Array {
  if (w <= 1 && h <= 1) return v;
  const w2 = (w + 1) >> 1, h2 = (h + 1) >> 1;
  const sv = new Float32Array(w2 * h2), sw = new Float32Array(w2 * h2);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const q = y * w + x, g = (y >> 1) * w2 + (x >> 1);
    sv[g] += v[q] * wt[q]; sw[g] += wt[q];
  }
  for (let g = 0; g < sv.length; g++) { if (sw[g] > 0) sv[g] /= sw[g]; sw[g] = Math.min(1, sw[g]); }
  const coarse = pushPull(sv, sw, w2, h2);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const q = y * w + x;
    // Bilinear from the coarse level (pixel centres), so filled areas carry no blocks.
    const fx = Math.min(w2 - 1, Math.max(0, (x + 0.5) / 2 - 0.5)), fy = Math.min(h2 - 1, Math.max(0, (y + 0.5) / 2 - 0.5));
    const ix = Math.floor(fx), iy = Math.floor(fy), ax = fx - ix, ay = fy - iy, jx = Math.min(w2 - 1, ix + 1), jy = Math.min(h2 - 1, iy + 1);
    const up = (coarse[iy * w2 + ix] * (1 - ax) + coarse[iy * w2 + jx] * ax) * (1 - ay) + (coarse[jy * w2 + ix] * (1 - ax) + coarse[jy * w2 + jx] * ax) * ay;
    out[q] = wt[q] * v[q] + (1 - wt[q]) * up;
  }
  return out;
}

function maxFilter(v: Float32Array, w: number, h: number, r: number): Float32Array { return sep(v, w, h, r, 1); }
function minFilter(v: Float32Array, w: number, h: number, r: number): Float32Array { return sep(v, w, h, r, -1); }
/** Median of |v − about| over the pixels `use` picks (values 0..255, in half-level bins); NaN for fewer than 100 pixels. */
function histMedian(v: Float32Array, use: (q: number) => boolean, about: number): number {
  const bins = new Uint32Array(512);
  let n = 0;
  for (let q = 0; q < v.length; q++) if (use(q)) { bins[Math.min(511, Math.floor(Math.abs(v[q] - about) * 2))]++; n++; }
  if (n < 100) return NaN;
  let c = 0;
  for (let i = 0; i < 512; i++) { c += bins[i]; if (2 * c >= n) return (i + 0.5) / 2; }
  return 255;
}

/** Running min (sign −1) or max (sign 1) over (2r+1)², separable (van Herk / Gil–Werman: three comparisons per pixel whatever r). */
function sep(v: Float32Array, w: number, h: number, r: number, sign: 1 | -1): Float32Array {
  const a = new Float32Array(w * h), out = new Float32Array(w * h);
  // Max only: a min is the max of the negated values.
  const src = sign === 1 ? v : Float32Array.from(v, (x) => -x);
  line(src, a, h, w, 1, w, r);
  line(a, out, w, h, w, 1, r);
  if (sign === -1) for (let i = 0; i < out.length; i++) out[i] = -out[i];
  return out;
}

/** `lines` lines of `len` samples (stride `step`, lines `lineStep` apart): dst = running max over ±r along each line. */
function line(src: Float32Array, dst: Float32Array, lines: number, len: number, step: number, lineStep: number, r: number): void {
  const k = 2 * r + 1, n = len + 2 * r;
  const g = new Float32Array(n), hh = new Float32Array(n), x = new Float32Array(n);
  for (let l = 0; l < lines; l++) {
    const base = l * lineStep;
    for (let i = 0; i < n; i++) { const j = i - r; x[i] = j < 0 || j >= len ? -Infinity : src[base + j * step]; }
    for (let b = 0; b < n; b += k) {
      const e = Math.min(n, b + k);
      g[b] = x[b];
      for (let i = b + 1; i < e; i++) g[i] = g[i - 1] > x[i] ? g[i - 1] : x[i];
      hh[e - 1] = x[e - 1];
      for (let i = e - 2; i >= b; i--) hh[i] = hh[i + 1] > x[i] ? hh[i + 1] : x[i];
    }
    // Window [i, i+k-1] of x is centred on sample i of the line.
    for (let i = 0; i < len; i++) { const p = hh[i], q = g[i + k - 1]; dst[base + i * step] = p > q ? p : q; }
  }
}

function dilate(m: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const f = new Float32Array(m);
  const d = sep(f, w, h, r, 1);
  return Uint8Array.from(d, (v) => (v > 0 ? 1 : 0));
}
