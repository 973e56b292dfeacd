// Per-region degree: the user's shape for the outline, nose, brows and lips (what carries
// identity), the template's movement for the mouth and the eyes (a singer's lips, a blink). A
// single `profile` cannot do both: at 0 the fused mesh is the user's photo aligned by a
// similarity, so the mouth stops moving; towards 1 the face takes the template's proportions
// (docs/MODELS.md, "Video face fusion quality"). Here the user's mouth opens and closes as the
// template's does (its lower lip and chin move) and the user's eyes open and close with the
// template's (a blink): the user's lips and eyes keep their shape. Replacing them by the
// template's form between the user's corners, tried first, cost identity (sampled frames of the
// Hamilton clip, Score ≥ 50: lips 94 → 17 % for one user, eyes 28 → 6 % for another). Where the template's
// mouth or eyes are open wider than the user's photo shows them, the template's own pixels are
// used inside the opening (the user's closed lips stretched over an open mouth are a smear).
import { bounds, faceSize, type Pts } from './geometry.ts';
import { blur, fillPolygon } from './raster.ts';

/** How far the user's mouth and eyes move as the template's (per region, apart from `profile`, which holds for the rest of the face). */
export interface RegionDegrees {
  /** How far the mouth opens as the template's (0 = the user's photo's opening, 1 = the template's); the user's lips are kept. */
  mouth: number;
  /** How far the user's eyes open and close as the template's do (0 = the photo's, 1 = by the template's ratio to its rest); the user's eye shape is kept. */
  eyes: number;
  /** The template's eye opening at rest (eyesOpening, e.g. a track's median); without it the template's opening is compared with the user's photo. */
  eyesRest?: number;
  /** The template's mouth opening at rest (mouthOpening, in eye spans, e.g. a track's median): then only its change from rest opens the user's mouth. */
  mouthRest?: number;
  /** The template's pixels inside the mouth and eye openings where the user's photo shows them narrower (default on). */
  ghost?: boolean;
}

// MediaPipe face mesh contours (FACEMESH_LIPS / LEFT_EYE / RIGHT_EYE), each in order around its loop.
export const LIPS_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185];
export const LIPS_INNER = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191];
export const EYE_R = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246];
export const EYE_L = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466];
const MOUTH_CORNERS: [number, number] = [61, 291];
// Upper and lower lid middles of each eye.
const EYE_R_LIDS: [number, number] = [159, 145], EYE_L_LIDS: [number, number] = [386, 374];
// An eye opens at most this much wider than the user's photo shows it (the template's eyes wide open).
const EYE_MAX_RATIO = 1.6;
const EYE_R_CORNERS: [number, number] = [33, 133];
const EYE_L_CORNERS: [number, number] = [362, 263];
const LOWER_LIP = 17, CHIN = 152, CHEEK_R = 234, CHEEK_L = 454;
const EYE_OUTER: [number, number] = [33, 263];
const N = 468;

// Falloff of the eyes' movement into the face around them, in face sizes: wide enough that no
// triangle between a moved lid and the still cheek folds, narrow enough that the brows keep the
// user's shape.
const EYE_FALLOFF = 0.035;

/** The polygon of `idx` in `mesh`, x/y interleaved. */
export function loop(mesh: ArrayLike<number>, idx: number[]): Pts {
  const out = new Float64Array(idx.length * 2);
  idx.forEach((i, k) => { out[2 * k] = mesh[2 * i]; out[2 * k + 1] = mesh[2 * i + 1]; });
  return out;
}

/** Absolute area of a polygon (shoelace). */
export function polygonArea(p: Pts): number {
  let s = 0;
  for (let i = 0, j = p.length / 2 - 1; i < p.length / 2; j = i++) s += p[2 * j] * p[2 * i + 1] - p[2 * i] * p[2 * j + 1];
  return Math.abs(s) / 2;
}

/** Lid gap (upper to lower lid middle) over the eye's width (corner to corner). */
export function eyeOpening(mesh: ArrayLike<number>, [a, b]: readonly [number, number], [u, l]: readonly [number, number]): number {
  const w = Math.hypot(mesh[2 * b] - mesh[2 * a], mesh[2 * b + 1] - mesh[2 * a + 1]);
  return w > 0 ? Math.hypot(mesh[2 * l] - mesh[2 * u], mesh[2 * l + 1] - mesh[2 * u + 1]) / w : 0;
}

/** Mean lid opening of both eyes (eyeOpening), what `eyesRest` holds. */
export function eyesOpening(mesh: ArrayLike<number>): number {
  return (eyeOpening(mesh, EYE_R_CORNERS, EYE_R_LIDS) + eyeOpening(mesh, EYE_L_CORNERS, EYE_L_LIDS)) / 2;
}

/** Per point, 1 inside `poly` (even-odd rule), else 0. */
function inPolygon(mesh: Pts, poly: Pts): Float32Array {
  const m = new Float32Array(N);
  const n = poly.length / 2;
  for (let i = 0; i < N; i++) {
    const x = mesh[2 * i], y = mesh[2 * i + 1];
    let inside = false;
    for (let k = 0, j = n - 1; k < n; j = k++) {
      const xk = poly[2 * k], yk = poly[2 * k + 1], xj = poly[2 * j], yj = poly[2 * j + 1];
      if ((yk > y) !== (yj > y) && x < xk + ((y - yk) / (yj - yk)) * (xj - xk)) inside = !inside;
    }
    m[i] = inside ? 1 : 0;
  }
  return m;
}

/** Per point, 1 inside `poly`, falling smoothly to 0 at `reach` outside it. */
function membership(mesh: Pts, poly: Pts, reach: number): Float32Array {
  const m = new Float32Array(N);
  const n = poly.length / 2;
  for (let i = 0; i < N; i++) {
    const x = mesh[2 * i], y = mesh[2 * i + 1];
    let inside = false, d2 = Infinity;
    for (let k = 0, j = n - 1; k < n; j = k++) {
      const xk = poly[2 * k], yk = poly[2 * k + 1], xj = poly[2 * j], yj = poly[2 * j + 1];
      if ((yk > y) !== (yj > y) && x < xk + ((y - yk) / (yj - yk)) * (xj - xk)) inside = !inside;
      const ex = xj - xk, ey = yj - yk, l2 = ex * ex + ey * ey;
      const s = l2 > 0 ? Math.min(1, Math.max(0, ((x - xk) * ex + (y - yk) * ey) / l2)) : 0;
      d2 = Math.min(d2, (x - xk - s * ex) ** 2 + (y - yk - s * ey) ** 2);
    }
    if (inside) { m[i] = 1; continue; }
    const u = 1 - Math.sqrt(d2) / reach;
    m[i] = u <= 0 ? 0 : u * u * (3 - 2 * u);
  }
  return m;
}

/**
 * Inner-lip gap (upper 13 to lower 14, along the face's down direction) over the span of the
 * outer eye corners (33 to 263), a length expressions do not change. (It was over the mouth's
 * width: the template's opening in its mouth widths, applied in the user's, moved a smiling
 * photo's lower lip and chin further than the template's went, by the ratio of the two mouths'
 * widths to their faces — obama.jpg 0.80 and biden2.jpg 0.74 eye spans against the Hamilton
 * singer's 0.55–0.58, so 1.3–1.4× as far. 2026-12-02, docs/MODELS.md.)
 */
export function mouthOpening(mesh: ArrayLike<number>): number {
  const f = mouthFrame(mesh);
  return ((mesh[2 * 14] - mesh[2 * 13]) * f.nx + (mesh[2 * 14 + 1] - mesh[2 * 13 + 1]) * f.ny) / eyeSpan(mesh);
}

/** Distance between the outer eye corners: a length expressions do not change. */
function eyeSpan(m: ArrayLike<number>): number {
  return Math.hypot(m[2 * EYE_OUTER[1]] - m[2 * EYE_OUTER[0]], m[2 * EYE_OUTER[1] + 1] - m[2 * EYE_OUTER[0] + 1]) || 1;
}

/** The mouth's frame: centre between the corners, the corners' axis, its normal towards the chin, the width. */
function mouthFrame(m: ArrayLike<number>) {
  const [a, b] = MOUTH_CORNERS;
  const cx = (m[2 * a] + m[2 * b]) / 2, cy = (m[2 * a + 1] + m[2 * b + 1]) / 2;
  let ax = m[2 * b] - m[2 * a], ay = m[2 * b + 1] - m[2 * a + 1];
  const width = Math.hypot(ax, ay) || 1;
  ax /= width; ay /= width;
  let nx = -ay, ny = ax;
  if ((m[2 * CHIN] - cx) * nx + (m[2 * CHIN + 1] - cy) * ny < 0) { nx = -nx; ny = -ny; }
  return { cx, cy, ax, ay, nx, ny, width };
}

// The lips as polygons: the lower lip between its outer and inner contours (61 … 291 below,
// back along the inner contour), the upper lip likewise above.
const LOWER_OUTER = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291];
const LOWER_INNER = [308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78];
const UPPER_OUTER = [291, 409, 270, 269, 267, 0, 37, 39, 40, 185, 61];
const UPPER_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308];

/**
 * The fused mesh with per-region degrees: `base` is the mesh `profile` gives (the user's aligned
 * shape lerped towards the template's). The mouth keeps the user's lips but opens as the
 * template's does: the lower lip and the jaw under it move along the face's down direction by
 * `deg.mouth` × the difference of the openings, in eye spans (so an opening mouth does not fold into the
 * chin); with `deg.mouthRest` (the template's opening at rest, e.g. its median over a video
 * track) only the template's change from rest is added to the user's own opening, so a user who
 * smiles in the photo keeps the smile. The eyes take the template's form between the user's
 * corners, by `deg.eyes`.
 */
export function regionTarget(base: Pts, t: Pts, deg: RegionDegrees): Pts {
  const P = new Float64Array(base);
  const fs = faceSize(base);
  const dm = clamp01(deg.mouth), de = clamp01(deg.eyes);
  if (dm > 0) {
    const f = mouthFrame(base);
    const own = mouthOpening(base), theirs = mouthOpening(t);
    const wanted = Math.max(0, deg.mouthRest === undefined ? theirs : own + theirs - deg.mouthRest);
    const drop = dm * (wanted - Math.max(0, own)) * eyeSpan(base);
    if (Math.abs(drop) > 1e-6) {
      const lower = inPolygon(base, loop(base, [...LOWER_OUTER, ...LOWER_INNER]));
      const upper = inPolygon(base, loop(base, [...UPPER_OUTER, ...UPPER_INNER]));
      for (const i of [...LOWER_OUTER, ...LOWER_INNER]) lower[i] = 1;
      // The upper lip's contours (and the corners, on both) stay.
      for (const i of [...UPPER_OUTER, ...UPPER_INNER]) { upper[i] = 1; lower[i] = 0; }
      const hm = f.width / 2;
      const lipBelow = Math.max(1e-6, (base[2 * LOWER_LIP] - f.cx) * f.nx + (base[2 * LOWER_LIP + 1] - f.cy) * f.ny);
      const half = Math.max(1e-6, Math.hypot(base[2 * CHEEK_L] - base[2 * CHEEK_R], base[2 * CHEEK_L + 1] - base[2 * CHEEK_R + 1]) / 2);
      for (let i = 0; i < N; i++) {
        const dx = base[2 * i] - f.cx, dy = base[2 * i + 1] - f.cy;
        const below = dx * f.nx + dy * f.ny, lat = Math.abs(dx * f.ax + dy * f.ay);
        // The lower lip drops fully at its middle and not at the corners (they are the hinge);
        // the chin with it, fading towards the jaw's angles (the jaw turns about the ears).
        const w = lower[i] ? Math.max(0, 1 - (lat / hm) ** 2) : upper[i] ? 0 : clamp01(below / lipBelow) * clamp01(1 - lat / half);
        if (w <= 0) continue;
        P[2 * i] += w * drop * f.nx; P[2 * i + 1] += w * drop * f.ny;
      }
    }
  }
  if (de > 0) {
    for (const [idx, corners, lids] of [[EYE_R, EYE_R_CORNERS, EYE_R_LIDS], [EYE_L, EYE_L_CORNERS, EYE_L_LIDS]] as const) {
      const own = eyeOpening(base, corners, lids), theirs = eyeOpening(t, corners, lids);
      const rest = deg.eyesRest === undefined ? own : deg.eyesRest;
      if (own <= 0 || rest <= 0) continue;
      // The user's eye opens and closes by the template's ratio to its rest (a blink closes it).
      const s = Math.min(EYE_MAX_RATIO, Math.max(0, theirs / rest));
      const [a, b] = corners;
      const cx = (base[2 * a] + base[2 * b]) / 2, cy = (base[2 * a + 1] + base[2 * b + 1]) / 2;
      let nx = -(base[2 * b + 1] - base[2 * a + 1]), ny = base[2 * b] - base[2 * a];
      const l = Math.hypot(nx, ny) || 1;
      nx /= l; ny /= l;
      const m = membership(base, loop(base, idx), EYE_FALLOFF * fs);
      for (let i = 0; i < N; i++) {
        const k = de * m[i] * (s - 1);
        if (k === 0) continue;
        const d = (base[2 * i] - cx) * nx + (base[2 * i + 1] - cy) * ny;
        P[2 * i] += k * d * nx; P[2 * i + 1] += k * d * ny;
      }
    }
  }
  return P;
}

// The user's opening must cover at least GHOST_HI of the fused opening for its own pixels to be
// used there, and below GHOST_LO the template's are used alone (stretching by ≤ 1/0.6 reads as
// the user's eye or mouth; a closed mouth stretched open is a smear).
const GHOST_LO = 0.3, GHOST_HI = 0.6;
// An opening under this fraction of the face's area is a closed mouth or eye: nothing to ghost.
const MIN_OPENING = 0.002;

/**
 * Per pixel of the w×h window, how much the template's own pixels replace the user's inside the
 * mouth and eye openings: `P` is the fused mesh and `uAligned` the user's mesh aligned to the
 * template, both in window coordinates. Null when no opening needs it.
 */
export function ghostMask(P: Pts, uAligned: Pts, w: number, h: number): Float32Array | null {
  const fs = faceSize(P);
  let mask: Float32Array | null = null;
  for (const idx of [LIPS_INNER, EYE_R, EYE_L]) {
    const poly = loop(P, idx);
    const aP = polygonArea(poly);
    if (aP < MIN_OPENING * fs * fs) continue;
    const r = polygonArea(loop(uAligned, idx)) / aP;
    const g = r >= GHOST_HI ? 0 : r <= GHOST_LO ? 1 : smooth((GHOST_HI - r) / (GHOST_HI - GHOST_LO));
    if (g <= 0) continue;
    // The opening, feathered by a pixel or two (the lips' inner edge is soft already).
    const b = bounds(poly), pad = Math.ceil(0.03 * fs) + 2;
    const x0 = Math.max(0, Math.floor(b.x0) - pad), y0 = Math.max(0, Math.floor(b.y0) - pad);
    const x1 = Math.min(w, Math.ceil(b.x1) + pad), y1 = Math.min(h, Math.ceil(b.y1) + pad);
    const mw = x1 - x0, mh = y1 - y0;
    if (mw <= 0 || mh <= 0) continue;
    const lp = new Float64Array(poly);
    for (let i = 0; i < lp.length; i += 2) { lp[i] -= x0; lp[i + 1] -= y0; }
    const sub = blur(fillPolygon(lp, mw, mh), mw, mh, Math.max(0.7, 0.006 * fs));
    mask ??= new Float32Array(w * h);
    for (let y = 0; y < mh; y++) for (let x = 0; x < mw; x++) {
      const q = (y + y0) * w + x + x0;
      mask[q] = Math.max(mask[q], g * sub[y * mw + x]);
    }
  }
  return mask;
}

const smooth = (x: number) => x * x * (3 - 2 * x);
const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
