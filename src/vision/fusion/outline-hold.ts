// The user's aligned face kept inside the template's head outline. Past the template's outline lie
// its ears, hair, collar or background; a fused outline pushed out there (a wider jaw, a turned
// user's far cheek) moves the template's silhouette edge onto pixels that had none — a cut of skin
// against the wall or the collar where the template showed an ear (the panel's tear pairs). The
// outer face is compressed radially, direction by direction, so no outline point lies more than
// HOLD_MARGIN face sizes past the template's; the inner face (eyes, nose, mouth) is left as it is.
// An engine option (FusionTuning.outlineHold), off by default: the user's face shape is part of
// their identity, and holding it cost more pairs of the identity goal than it mended (fuse.ts).
import { centroid, faceSize, MESH_POINTS, SILHOUETTE, type Pts } from './geometry.ts';

/** How far (face sizes) the fused outline may still lie outside the template's. */
export const HOLD_MARGIN = 0.02;
/** The margin a tuning value asks for: true = HOLD_MARGIN, a number = that many face sizes. */
export const holdMargin = (v: true | number): number => (v === true ? HOLD_MARGIN : v);
/** Inside this share of the user's outline radius nothing moves. */
const HOLD_INNER = 0.6;

/** Distance from (cx, cy) along angle a to the polygon `poly` (closed, x/y interleaved); NaN if the ray misses. */
export function rayToPolygon(poly: ArrayLike<number>, cx: number, cy: number, a: number): number {
  const dx = Math.cos(a), dy = Math.sin(a), n = poly.length / 2;
  let best = NaN;
  for (let k = 0; k < n; k++) {
    const x0 = poly[2 * k] - cx, y0 = poly[2 * k + 1] - cy, x1 = poly[2 * ((k + 1) % n)] - cx, y1 = poly[2 * ((k + 1) % n) + 1] - cy;
    const ex = x1 - x0, ey = y1 - y0, den = dx * ey - dy * ex;
    if (Math.abs(den) < 1e-12) continue;
    const t = (x0 * ey - y0 * ex) / den, s = (x0 * dy - y0 * dx) / den;
    if (t > 0 && s >= -1e-9 && s <= 1 + 1e-9 && !(t >= best)) best = t; // a ray through a vertex meets both its edges at s ≈ 0 or 1
  }
  return best;
}

const silhouetteOf = (p: Pts) => { const o = new Float64Array(SILHOUETTE.length * 2); SILHOUETTE.forEach((i, k) => { o[2 * k] = p[2 * i]; o[2 * k + 1] = p[2 * i + 1]; }); return o; };

/**
 * `u` (the user's mesh aligned to the template's `t`, all points) with its outer face compressed
 * towards the template's centroid wherever its outline lies more than HOLD_MARGIN face sizes
 * outside the template's outline. Radial and monotone per direction, so the mesh does not fold.
 */
export function holdOutline(u: Pts, t: Pts, margin = HOLD_MARGIN): Pts {
  const [cx, cy] = centroid(t), fs = faceSize(t), m = margin * fs;
  const tPoly = silhouetteOf(t), uPoly = silhouetteOf(u);
  // The scale wanted at each of the user's outline points' angles.
  const n = SILHOUETTE.length;
  const ang: number[] = [], scale: number[] = [];
  let any = false;
  for (let k = 0; k < n; k++) {
    const x = uPoly[2 * k] - cx, y = uPoly[2 * k + 1] - cy, r = Math.hypot(x, y), a = Math.atan2(y, x);
    const rt = rayToPolygon(tPoly, cx, cy, a);
    const s = Number.isFinite(rt) && r > rt + m ? (rt + m) / r : 1;
    if (s < 1) any = true;
    ang.push(a); scale.push(s);
  }
  if (!any) return u;
  const order = ang.map((_, k) => k).sort((p, q) => ang[p] - ang[q]);
  const A = order.map((k) => ang[k]), S = order.map((k) => scale[k]);
  const scaleAt = (a: number): number => {
    // Piecewise linear around the circle between the outline points' angles.
    let j = A.findIndex((x) => x > a);
    if (j < 0) j = 0;
    const i = (j - 1 + A.length) % A.length;
    let a0 = A[i], a1 = A[j];
    if (a1 <= a0) a1 += 2 * Math.PI;
    let aa = a;
    if (aa < a0) aa += 2 * Math.PI;
    const w = a1 > a0 ? (aa - a0) / (a1 - a0) : 0;
    return S[i] + (S[j] - S[i]) * w;
  };
  const out = new Float64Array(u);
  for (let i = 0; i < Math.min(MESH_POINTS, u.length / 2); i++) {
    const x = u[2 * i] - cx, y = u[2 * i + 1] - cy, r = Math.hypot(x, y);
    if (r === 0) continue;
    const a = Math.atan2(y, x), s = scaleAt(a);
    if (s >= 1) continue;
    const R = rayToPolygon(uPoly, cx, cy, a);
    if (!Number.isFinite(R)) continue;
    const r0 = HOLD_INNER * R;
    if (r <= r0) continue;
    const r1 = r0 + (r - r0) * (s * R - r0) / (R - r0);
    out[2 * i] = cx + x * (r1 / r); out[2 * i + 1] = cy + y * (r1 / r);
  }
  return out;
}
