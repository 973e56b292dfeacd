// How much of each target triangle the user's photo really shows. A triangle that is flipped
// in the user's photo (back-facing: the far side of a turned head) or strongly foreshortened
// (seen edge-on) would be stretched from a few pixels; there the template's own face is kept.
import { concat, faceSize, ring, MESH_POINTS, SILHOUETTE, type Pts } from './geometry.ts';

/** Area ratios (user photo, scaled to the target, ÷ target) below LO are not used at all, above HI fully. */
const LO = 0.2, HI = 0.55;

/**
 * Per triangle of `tri` (over `target`), a blend weight in [0,1] for the user's texture.
 * `scale2` is the squared scale of the user→target similarity. Triangles touching points
 * past the mesh (the rings) get 1: the silhouette mask decides there.
 */
export function triangleVisibility(target: Pts, source: Pts, tri: Uint32Array, scale2: number): Float32Array {
  const out = new Float32Array(tri.length / 3);
  for (let t = 0, k = 0; t < tri.length; t += 3, k++) {
    const a = tri[t], b = tri[t + 1], c = tri[t + 2];
    if (a >= MESH_POINTS || b >= MESH_POINTS || c >= MESH_POINTS) { out[k] = 1; continue; }
    const at = area(target, a, b, c);
    if (Math.abs(at) < 1e-6) { out[k] = 1; continue; }
    const r = (area(source, a, b, c) * scale2) / at;
    out[k] = r <= LO ? 0 : r >= HI ? 1 : smooth((r - LO) / (HI - LO));
  }
  return out;
}

const smooth = (x: number) => x * x * (3 - 2 * x);

function area(p: Pts, a: number, b: number, c: number): number {
  return ((p[2 * b] - p[2 * a]) * (p[2 * c + 1] - p[2 * a + 1]) - (p[2 * c] - p[2 * a]) * (p[2 * b + 1] - p[2 * a + 1])) / 2;
}

// The far side of a turned template. With a 2D alignment (the default) the user's frontal mesh
// is laid over a template that shows its far cheek edge-on or folded behind the nose: the
// template's own triangles there are a fraction of the user's or flipped, and warping the
// template onto the user's shape pulled its background into the cheek in pieces, next to
// pieces of the user's skin (stuart5, yaw 37°). Where the template shows a triangle much
// smaller than the user's aligned photo does, its geometry and texture are kept instead.

/** Template ÷ aligned-user area ratios below FAR_LO keep the template fully, above FAR_HI not at all. */
const FAR_LO = 0.3, FAR_HI = 0.65, FAR_IT = 2;
/** Mesh points that must be foreshortened for a far side (fewer: a sliver at the outline). */
const FAR_POINTS = 6;
/**
 * Template head turns (yaw, degrees) from which the far side starts to be kept, and is kept
 * fully. From 12° (fully from 20°) it also caught the torn far sides at 18–21° (howard5, lexi:
 * folds > 3% of the face 7 → 1 of 81 panel pairs) but kept so much of those templates' faces that
 * the user's Score ≥ 50 fell from 71 to 63 of 81 (docs/PERFORMANCE.md); from 25° it acts on the
 * strongly turned templates only (stuart5, 37°).
 */
export const YAW_FROM = 25;
const YAW_TO = 35;

/**
 * Per mesh point in [0,1], how much the template's own point (and texture around it) is kept:
 * 1 where a triangle at that point is foreshortened or flipped in the template compared with the
 * user's aligned mesh `aligned`, spreading over two rings of neighbours so the change is gradual.
 * `triangulate` gives a Delaunay triangulation of `aligned` (called only for a turned template); the yaws (degrees) come from the meshes' depth. Null
 * when nothing is kept (a template turned less than YAW_FROM or less than the user).
 */
export function templateFarSide(aligned: Pts, t: Pts, triangulate: () => Uint32Array, templateYaw: number, userYaw: number): { shape: Float32Array; texture: Float32Array } | null {
  // Only a turned template, turned further than the user: on like poses a smile, an open mouth
  // or another face shape also shrinks triangles (on frontal pairs 40–100 points of the cheeks
  // and chin were flagged, and the template's mouth was kept), and so does a user turned the
  // other way from a template at 14° (obama2 ← biden: the template's cheek and mouth were kept).
  const further = Math.sign(templateYaw) * (templateYaw - userYaw) > 0;
  const gate = further ? smooth(Math.min(1, Math.max(0, (Math.abs(templateYaw) - YAW_FROM) / (YAW_TO - YAW_FROM)))) : 0;
  if (gate <= 0) return null;
  const tri = triangulate(); // only past the gate: most pairs never need it
  // The far side is the template's narrower half: from the nose's ridge between the eyes (6)
  // towards the outline point nearer to it, across the eye line. (From the nose tip it failed:
  // at 37° the tip lies over the far outline.)
  const ux0 = t[2 * 263] - t[2 * 33], uy0 = t[2 * 263 + 1] - t[2 * 33 + 1], ul = Math.hypot(ux0, uy0) || 1, ux = ux0 / ul, uy = uy0 / ul;
  const across = (i: number) => (t[2 * i] - t[2 * 6]) * ux + (t[2 * i + 1] - t[2 * 6 + 1]) * uy;
  const [far, near] = Math.abs(across(234)) < Math.abs(across(454)) ? [across(234), across(454)] : [across(454), across(234)];
  const farSign = Math.sign(far - near), margin = 0.1 * Math.abs(near);
  const nbr: Set<number>[] = Array.from({ length: MESH_POINTS }, () => new Set());
  const raw = new Float32Array(MESH_POINTS);
  for (let k = 0; k < tri.length; k += 3) {
    const a = tri[k], b = tri[k + 1], c = tri[k + 2];
    if (a >= MESH_POINTS || b >= MESH_POINTS || c >= MESH_POINTS) continue;
    nbr[a].add(b).add(c); nbr[b].add(a).add(c); nbr[c].add(a).add(b);
    if (((across(a) + across(b) + across(c)) / 3) * farSign < -margin) continue;
    const au = area(aligned, a, b, c);
    if (Math.abs(au) < 1e-6) continue;
    const r = area(t, a, b, c) / au;
    const keep = r <= FAR_LO ? 1 : r >= FAR_HI ? 0 : 1 - smooth((r - FAR_LO) / (FAR_HI - FAR_LO));
    if (keep > 0) for (const i of [a, b, c]) raw[i] = Math.max(raw[i], keep);
  }
  let n = 0;
  for (let i = 0; i < MESH_POINTS; i++) if (raw[i] > 0.5) n++;
  if (n < FAR_POINTS) return null;
  // The turn's gate scales the kept share (counted before it: at 21° a gate of 0.2 under the count
  // had left howard5's far side torn).
  for (let i = 0; i < MESH_POINTS; i++) raw[i] *= gate;
  const spread = (w0: Float32Array) => {
    let w = w0;
    for (let it = 0; it < FAR_IT; it++) {
      const next = new Float32Array(MESH_POINTS);
      for (let i = 0; i < MESH_POINTS; i++) {
        let s = 0;
        for (const j of nbr[i]) s += w[j];
        next[i] = Math.max(w0[i], nbr[i].size ? s / nbr[i].size : 0);
      }
      w = next;
    }
    return w;
  };
  // Shape and texture together. Tried (stuart5 ← sheldon1, looked at): the template's texture
  // only at the rim (the outer 15–30% of the way out) with its shape kept over the whole zone
  // folded the user's texture onto the template's flipped triangles behind the nose (a doubled
  // nose, a folded mouth); with the shape also only at the rim the template's warp tore there.
  const w = spread(raw);
  return { shape: w, texture: w };
}

/** Per point i, aligned + (t − aligned)·max(p, keep[i]): the user's shape, the template's far side. */
export function towardsTemplate(aligned: Pts, t: Pts, p: number, keep: Float32Array | null): Pts {
  const out = new Float64Array(aligned.length);
  for (let i = 0; i < aligned.length; i++) {
    const k = i < 2 * MESH_POINTS && keep ? Math.max(p, keep[i >> 1]) : p;
    out[i] = aligned[i] + (t[i] - aligned[i]) * k;
  }
  return out;
}

/** Per triangle of `tri`, the user's share 1 − mean(keep) over its mesh points (points past the mesh count 0). */
export function userShare(tri: Uint32Array, keep: Float32Array): Float32Array {
  const out = new Float32Array(tri.length / 3);
  for (let t = 0, k = 0; t < tri.length; t += 3, k++) {
    let s = 0, n = 0;
    for (let j = 0; j < 3; j++) { const i = tri[t + j]; if (i < MESH_POINTS) { s += keep[i]; n++; } }
    out[k] = n ? 1 - s / n : 1;
  }
  return out;
}

// Folds of the template's warp. Between ~13° and 25° (below the far side's gate) the template
// shows its far cheek foreshortened: triangles there are a fraction of the user's aligned ones,
// or flipped where the template's mesh folds over its own silhouette. Warping the template onto
// the user's frontal shape stretched those few pixels (its silhouette edge, its background)
// across the rim, or mirrored them: the far cheek torn into pieces (person-lexi at 18°, howard5
// at 21°; docs/PERFORMANCE.md "2026-12-02 afternoon: unfolding the far half"). Only the
// triangles that fold are mended: their points are moved towards the template's own, a step at
// a time, until the template's warp neither flips nor squeezes any of them.

/** Template ÷ destination area ratio below which a warp triangle is mended (the fold measure counts below 0.2). */
const UNFOLD_BELOW = 0.25;
/** Share of the way to the template's point added per step to each point of a folded triangle (its neighbours get UNFOLD_SPREAD of it), and the steps at most. */
const UNFOLD_STEP = 0.1, UNFOLD_SPREAD = 0.5, UNFOLD_IT = 24;
/** Triangles whose three points lie inside this ring of the fused mesh are the user's (a degree-0 result shows the user's photo there): an open mouth over a closed one is not a fold. */
const UNFOLD_INNER = 0.85;
/** Slivers smaller than this (face sizes²) are not mended: a flipped sliver along the outline covers a few pixels. */
const UNFOLD_MIN_AREA = 3e-4;

/**
 * The fused mesh `P` with the points of the template warp's folded triangles moved towards the
 * template's `t` (per point, P + (t − P)·w, w raised by UNFOLD_STEP for each folded triangle it
 * belongs to, then spread half to its neighbours; slivers below UNFOLD_MIN_AREA are left), until no triangle outside ring UNFOLD_INNER is
 * flipped or squeezed below UNFOLD_BELOW of its area. The warp is the engine's: the mesh with
 * its blend ring (`ringBlend`, following it) and the template's pinned ring (`ringPin`, fixed),
 * Delaunay-triangulated by `triangulate`. Returns P itself when nothing folds (like poses).
 */
export function unfoldMesh(P: Pts, t: Pts, ringBlend: number, ringPin: number, triangulate: (pts: Pts) => Uint32Array): Pts {
  const tPin = ring(t, ringPin);
  const tSource = concat(t, ring(t, ringBlend), tPin);
  const w = new Float32Array(MESH_POINTS);
  const inner = ring(P, UNFOLD_INNER);
  const minArea = UNFOLD_MIN_AREA * faceSize(t) ** 2;
  const isInner = new Uint8Array(MESH_POINTS);
  for (let i = 0; i < MESH_POINTS; i++) isInner[i] = inside(inner, P[2 * i], P[2 * i + 1]) ? 1 : 0;
  let D = P;
  let nbr: number[][] | null = null;
  for (let it = 0; it < UNFOLD_IT; it++) {
    const target = concat(D, ring(D, ringBlend), tPin);
    const tri = triangulate(target);
    const bump = new Float32Array(MESH_POINTS);
    let folded = 0;
    if (!nbr) {
      // The neighbours of the first triangulation (the points move little).
      nbr = Array.from({ length: MESH_POINTS }, () => []);
      for (let k = 0; k < tri.length; k += 3) for (const [i, j] of [[tri[k], tri[k + 1]], [tri[k + 1], tri[k + 2]], [tri[k + 2], tri[k]]]) if (i < MESH_POINTS && j < MESH_POINTS) { nbr[i].push(j); nbr[j].push(i); }
    }
    for (let k = 0; k < tri.length; k += 3) {
      const a = tri[k], b = tri[k + 1], c = tri[k + 2];
      const at = area(target, a, b, c);
      if (Math.abs(at) < Math.max(1e-9, minArea)) continue;
      if (area(tSource, a, b, c) / at >= UNFOLD_BELOW) continue;
      const pts = [a, b, c].map((v) => (v < MESH_POINTS ? v : v < MESH_POINTS + SILHOUETTE.length ? SILHOUETTE[v - MESH_POINTS] : -1));
      if (pts.every((v) => v >= 0 && isInner[v])) continue;
      folded++;
      for (const v of pts) if (v >= 0) bump[v] = UNFOLD_STEP;
    }
    if (!folded) break;
    for (let i = 0; i < MESH_POINTS; i++) {
      let s = bump[i];
      for (const j of nbr[i]) s = Math.max(s, bump[j] * UNFOLD_SPREAD);
      w[i] = Math.min(1, w[i] + s);
    }
    const next = new Float64Array(P);
    for (let i = 0; i < MESH_POINTS; i++) if (w[i] > 0) { next[2 * i] += (t[2 * i] - P[2 * i]) * w[i]; next[2 * i + 1] += (t[2 * i + 1] - P[2 * i + 1]) * w[i]; }
    D = next;
  }
  return D;
}

/** Point in polygon (even-odd), the polygon x/y interleaved. */
function inside(poly: Pts, x: number, y: number): boolean {
  let c = false;
  for (let i = 0, j = poly.length - 2; i < poly.length; j = i, i += 2) {
    const xi = poly[i], yi = poly[i + 1], xj = poly[j], yj = poly[j + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}
