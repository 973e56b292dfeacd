// What covers a face (hands, hair, glasses, microphones): pixels of the face region that do
// not look like this face's own skin. There is no face-parsing model in the stack, so the mask
// is built from statistics of the face itself: skin chroma (robust median/MAD over the inner
// face, eyes/brows/lips excluded), and luminance against a smooth local skin estimate (so hard
// side light is not mistaken for an occluder). Eyes, brows, lips and nostrils are dark or red by
// nature; they count as covered only when the skin around them is covered.
import { bounds, type Pts } from './geometry.ts';
import { blur, blurBox, fillPolygon } from './raster.ts';

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
  faceSize: number;
  box: { x0: number; y0: number; x1: number; y1: number };
}

/** Per pixel in [0,1]: 1 = something other than this face's skin covers it. */
export function occlusionMask(o: OcclusionInput): Float32Array {
  const { img, w, h, region, skin, valid, faceSize: fs } = o;
  const x0 = Math.max(0, Math.floor(o.box.x0)), y0 = Math.max(0, Math.floor(o.box.y0));
  const x1 = Math.min(w, Math.ceil(o.box.x1)), y1 = Math.min(h, Math.ceil(o.box.y1));
  const occ = new Float32Array(w * h);
  if (x1 - x0 < 4 || y1 - y0 < 4) return occ;
  const features = FEATURES.map((idx) => hull(idx, o.mesh));
  const feat = new Float32Array(w * h);
  for (const f of features) fillPolygon(scalePoly(f, FEATURE_GROW), w, h, feat);

  // YCbCr per pixel of the box.
  const bw = x1 - x0, bh = y1 - y0;
  const Y = new Float32Array(bw * bh), Cb = new Float32Array(bw * bh), Cr = new Float32Array(bw * bh);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const p = y * w + x, i = p * 3, b = (y - y0) * bw + (x - x0);
    const r = img[i], g = img[i + 1], bl = img[i + 2];
    Y[b] = 0.299 * r + 0.587 * g + 0.114 * bl;
    Cb[b] = 128 - 0.168736 * r - 0.331264 * g + 0.5 * bl;
    Cr[b] = 128 + 0.5 * r - 0.418688 * g - 0.081312 * bl;
  }
  const isSample = (x: number, y: number) => { const p = y * w + x; return skin[p] > 0 && feat[p] === 0 && (!valid || valid[p] === 1); };
  const cbs: number[] = [], crs: number[] = [];
  for (let y = y0; y < y1; y += 2) for (let x = x0; x < x1; x += 2) {
    if (!isSample(x, y)) continue;
    const b = (y - y0) * bw + (x - x0);
    cbs.push(Cb[b]); crs.push(Cr[b]);
  }
  if (cbs.length < 50) return occ;
  const [mCb, sCb] = robust(cbs, 3), [mCr, sCr] = robust(crs, 3);
  const chroma = (b: number) => Math.hypot((Cb[b] - mCb) / sCb, (Cr[b] - mCr) / sCr);

  // Smooth local skin luminance: normalised convolution over chroma-consistent skin samples.
  const k = Math.max(1, Math.floor(0.04 * fs));
  const gw = Math.ceil(bw / k), gh = Math.ceil(bh / k);
  const sum = new Float32Array(gw * gh), wt = new Float32Array(gw * gh);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    if (!isSample(x, y)) continue;
    const b = (y - y0) * bw + (x - x0);
    if (chroma(b) > 3) continue;
    const g = (((y - y0) / k) | 0) * gw + (((x - x0) / k) | 0);
    sum[g] += Y[b]; wt[g] += 1;
  }
  blur(sum, gw, gh, (0.12 * fs) / k); blur(wt, gw, gh, (0.12 * fs) / k);
  const local = (x: number, y: number) => { const g = (((y - y0) / k) | 0) * gw + (((x - x0) / k) | 0); return wt[g] > 1e-3 ? sum[g] / wt[g] : NaN; };
  const dev: number[] = [];
  for (let y = y0; y < y1; y += 2) for (let x = x0; x < x1; x += 2) {
    if (!isSample(x, y)) continue;
    const l = local(x, y);
    if (!Number.isNaN(l)) dev.push(Y[(y - y0) * bw + (x - x0)] - l);
  }
  const [, sL] = robust(dev, 8);
  const dFrom = o.darkFrom ?? 4, cFrom = o.chromaFrom ?? 3.5;

  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
    const p = y * w + x;
    if (region[p] <= 0 || feat[p] > 0) continue;
    const b = (y - y0) * bw + (x - x0);
    const l = local(x, y);
    const dark = Number.isNaN(l) ? 0 : (l - Y[b]) / sL, bright = Number.isNaN(l) ? 0 : (Y[b] - l) / sL;
    const s = Math.max((chroma(b) - cFrom) / 2, (dark - dFrom) / 1.5, (bright - dFrom - 1) / 2) * (o.weight ? o.weight(x, y) : 1);
    occ[p] = s <= 0 ? 0 : s >= 1 ? 1 : s;
  }
  // A feature counts as covered when most of the skin around it is.
  for (const f of features) {
    const op = scalePoly(f, 2.2), fb = bounds(op);
    const fx0 = Math.max(0, Math.floor(fb.x0)), fy0 = Math.max(0, Math.floor(fb.y0));
    const fw = Math.min(w, Math.ceil(fb.x1)) - fx0, fh = Math.min(h, Math.ceil(fb.y1)) - fy0;
    if (fw <= 0 || fh <= 0) continue;
    const shift = (q: Pts) => { const r = new Float64Array(q); for (let i = 0; i < r.length; i += 2) { r[i] -= fx0; r[i + 1] -= fy0; } return r; };
    const inner = fillPolygon(shift(scalePoly(f, FEATURE_GROW)), fw, fh), outer = fillPolygon(shift(op), fw, fh);
    let n = 0, c = 0;
    for (let y = 0; y < fh; y++) for (let x = 0; x < fw; x++) {
      const l = y * fw + x, p = (y + fy0) * w + x + fx0;
      if (!outer[l] || inner[l] || feat[p] || region[p] <= 0) continue;
      n++; c += occ[p] > 0.5 ? 1 : 0;
    }
    if (n > 0 && c / n > 0.45) for (let y = 0; y < fh; y++) for (let x = 0; x < fw; x++) { const p = (y + fy0) * w + x + fx0; if (inner[y * fw + x] && region[p] > 0) occ[p] = 1; }
  }
  // Grow a little and feather: an occluder's own soft edge must not be blended over either.
  blurBox(occ, w, h, { x0, y0, x1, y1 }, 0.015 * fs);
  for (let p = 0; p < occ.length; p++) occ[p] = Math.min(1, occ[p] * 2);
  return occ;
}

/** [median, 1.4826·MAD] with a floor on the spread. */
function robust(v: number[], floor: number): [number, number] {
  if (!v.length) return [0, floor];
  const s = Float64Array.from(v).sort();
  const m = s[s.length >> 1];
  const d = Float64Array.from(v, (x) => Math.abs(x - m)).sort();
  return [m, Math.max(floor, 1.4826 * d[d.length >> 1])];
}

/** Convex hull (monotone chain) of the mesh points `idx`. */
function hull(idx: number[], mesh: Pts): Pts {
  const pts = idx.map((i) => [mesh[2 * i], mesh[2 * i + 1]] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: number[], a: number[], b: number[]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [], upper: [number, number][] = [];
  for (const p of pts) { while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop(); lower.push(p); }
  for (const p of [...pts].reverse()) { while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop(); upper.push(p); }
  return Float64Array.from([...lower.slice(0, -1), ...upper.slice(0, -1)].flat());
}

function scalePoly(p: Pts, s: number): Pts {
  let cx = 0, cy = 0;
  const n = p.length / 2;
  for (let i = 0; i < n; i++) { cx += p[2 * i]; cy += p[2 * i + 1]; }
  cx /= n; cy /= n;
  const out = new Float64Array(p.length);
  for (let i = 0; i < n; i++) { out[2 * i] = cx + (p[2 * i] - cx) * s; out[2 * i + 1] = cy + (p[2 * i + 1] - cy) * s; }
  return out;
}
