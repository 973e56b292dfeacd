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
  const eye = EYES.map((idx) => {
    let x = 0, y = 0;
    for (const i of idx) { x += mesh[2 * i]; y += mesh[2 * i + 1]; }
    return { x: x / idx.length, y: y / idx.length };
  });
  const re = (Math.hypot(mesh[2 * 33] - mesh[2 * 133], mesh[2 * 33 + 1] - mesh[2 * 133 + 1]) + Math.hypot(mesh[2 * 362] - mesh[2 * 263], mesh[2 * 362 + 1] - mesh[2 * 263 + 1])) / 4;
  const reach = (RAY_TO + 0.3) * re;
  const x0 = Math.max(0, Math.floor(Math.min(eye[0].x, eye[1].x) - reach)), x1 = Math.min(W, Math.ceil(Math.max(eye[0].x, eye[1].x) + reach));
  const y0 = Math.max(0, Math.floor(Math.min(eye[0].y, eye[1].y) - reach)), y1 = Math.min(H, Math.ceil(Math.max(eye[0].y, eye[1].y) + reach));
  const box = { x0, y0, x1, y1 };
  const w = x1 - x0, h = y1 - y0;
  const none = { score: 0, mask: new Uint8Array(0), box };
  if (w < 16 || h < 16 || re < 4 || mesh.length < 2 * MESH_POINTS) return none;
  const L = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const s = ((y + y0) * W + x + x0) * C;
    L[y * w + x] = 0.299 * px[s] + 0.587 * px[s + 1] + 0.114 * px[s + 2];
  }
  const k = Math.max(2, Math.round(0.3 * re));
  const closed = minFilter(maxFilter(L, w, h, k), w, h, k);
  const B = new Float32Array(w * h);
  for (let q = 0; q < w * h; q++) B[q] = closed[q] - L[q];
  // Not frames: the eyes (and their lashes), the brows, and everything outside the face.
  const local = (p: Pts) => { const o = new Float64Array(p); for (let i = 0; i < o.length; i += 2) { o[i] -= x0; o[i + 1] -= y0; } return o; };
  const exclude = new Float32Array(w * h);
  for (const idx of EYES) fillPolygon(local(scalePoly(hull(idx, mesh), 1.35)), w, h, exclude);
  for (const idx of BROWS) fillPolygon(local(scalePoly(hull(idx, mesh), 1.25)), w, h, exclude);
  const face = fillPolygon(local(ring(mesh, 1.0)), w, h);
  const vals: number[] = [];
  for (let q = 0; q < w * h; q++) if (face[q] && !exclude[q]) vals.push(B[q]);
  if (vals.length < 100) return none;
  vals.sort((a, b) => a - b);
  const med = vals[vals.length >> 1];
  const mad = Float64Array.from(vals, (v) => Math.abs(v - med)).sort()[vals.length >> 1] * 1.4826;
  const th = Math.max(24, med + 6 * mad);
  let hits = 0, counted = 0;
  for (const e of eye) {
    for (let r = 0; r < RAYS; r++) {
      const a = (2 * Math.PI * r) / RAYS, dx = Math.cos(a), dy = Math.sin(a);
      let seen = 0, free = 0, hit = false;
      for (let d = RAY_FROM * re; d <= RAY_TO * re; d += 0.5) {
        const x = Math.round(e.x + dx * d) - x0, y = Math.round(e.y + dy * d) - y0;
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
  const bridge = bridgeAcross(B, w, h, x0, y0, mesh, re, th, exclude);
  const score = bridge ? rays : 0;
  if (score < GLASSES_FROM) return { score, mask: new Uint8Array(0), box };
  // The frames: the thin dark lines (a lower threshold grows them along their soft edges), one
  // pixel wider, inside the face, not the eyes or brows.
  const mask = new Uint8Array(w * h);
  const inner = fillPolygon(local(ring(mesh, 0.95)), w, h);
  const near = (x: number, y: number) => eye.some((e) => { const d = Math.hypot(x + x0 - e.x, y + y0 - e.y); return d <= (RAY_TO + 0.2) * re; });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { const q = y * w + x; if (inner[q] && !exclude[q] && B[q] > 0.5 * th && near(x, y)) mask[q] = 1; }
  return { score, mask: dilate(mask, w, h, Math.max(1, Math.round(0.08 * re))), box };
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

function maxFilter(v: Float32Array, w: number, h: number, r: number): Float32Array { return sep(v, w, h, r, Math.max, -Infinity); }
function minFilter(v: Float32Array, w: number, h: number, r: number): Float32Array { return sep(v, w, h, r, Math.min, Infinity); }
function sep(v: Float32Array, w: number, h: number, r: number, f: (a: number, b: number) => number, init: number): Float32Array {
  const a = new Float32Array(w * h), b = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let m = init;
    for (let k = Math.max(0, x - r); k <= Math.min(w - 1, x + r); k++) m = f(m, v[y * w + k]);
    a[y * w + x] = m;
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let m = init;
    for (let k = Math.max(0, y - r); k <= Math.min(h - 1, y + r); k++) m = f(m, a[k * w + x]);
    b[y * w + x] = m;
  }
  return b;
}

function dilate(m: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const f = new Float32Array(m);
  const d = sep(f, w, h, r, Math.max, 0);
  return Uint8Array.from(d, (v) => (v > 0 ? 1 : 0));
}
