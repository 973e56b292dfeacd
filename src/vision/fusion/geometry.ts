// Point-set geometry for fusion: 2D similarity alignment (Umeyama) and the rings of extra
// points around the face that give the warp room to blend and pin the template beyond them.

/** FaceMesh's face-oval indices, in order around the face (MediaPipe FACEMESH_FACE_OVAL). */
export const SILHOUETTE = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109];
export const MESH_POINTS = 468;

/** x/y interleaved */
export type Pts = Float64Array;

export interface Similarity { a: number; b: number; tx: number; ty: number } // x' = a x - b y + tx, y' = b x + a y + ty

/** Least-squares similarity mapping src onto dst (Umeyama 1991, 2D, no reflection). */
export function umeyama(src: Pts, dst: Pts): Similarity {
  const n = src.length / 2;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) { sx += src[2 * i]; sy += src[2 * i + 1]; dx += dst[2 * i]; dy += dst[2 * i + 1]; }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let sxx = 0, sxy = 0, varS = 0;
  for (let i = 0; i < n; i++) {
    const px = src[2 * i] - sx, py = src[2 * i + 1] - sy, qx = dst[2 * i] - dx, qy = dst[2 * i + 1] - dy;
    sxx += px * qx + py * qy; // dot
    sxy += px * qy - py * qx; // cross
    varS += px * px + py * py;
  }
  const a = varS > 0 ? sxx / varS : 1, b = varS > 0 ? sxy / varS : 0;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

export function applySim(t: Similarity, p: Pts): Pts {
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i += 2) {
    out[i] = t.a * p[i] - t.b * p[i + 1] + t.tx;
    out[i + 1] = t.b * p[i] + t.a * p[i + 1] + t.ty;
  }
  return out;
}

export function invertSim(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  const a = t.a / d, b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

export function lerpPts(p: Pts, q: Pts, t: number): Pts {
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i] + (q[i] - p[i]) * t;
  return out;
}

export function centroid(p: Pts, idx: number[] = SILHOUETTE): [number, number] {
  let x = 0, y = 0;
  for (const i of idx) { x += p[2 * i]; y += p[2 * i + 1]; }
  return [x / idx.length, y / idx.length];
}

/** The silhouette pushed out (or in) from its centroid by `scale`. */
export function ring(mesh: Pts, scale: number): Pts {
  const [cx, cy] = centroid(mesh);
  const out = new Float64Array(SILHOUETTE.length * 2);
  SILHOUETTE.forEach((i, k) => {
    out[2 * k] = cx + (mesh[2 * i] - cx) * scale;
    out[2 * k + 1] = cy + (mesh[2 * i + 1] - cy) * scale;
  });
  return out;
}

/** Face size: the silhouette's RMS radius times 2, a rotation-independent scale. */
export function faceSize(mesh: Pts): number {
  const [cx, cy] = centroid(mesh);
  let s = 0;
  for (const i of SILHOUETTE) s += (mesh[2 * i] - cx) ** 2 + (mesh[2 * i + 1] - cy) ** 2;
  return 2 * Math.sqrt(s / SILHOUETTE.length);
}

export function concat(...parts: Pts[]): Pts {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function bounds(p: Pts): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < p.length; i += 2) {
    if (p[i] < x0) x0 = p[i];
    if (p[i] > x1) x1 = p[i];
    if (p[i + 1] < y0) y0 = p[i + 1];
    if (p[i + 1] > y1) y1 = p[i + 1];
  }
  return { x0, y0, x1, y1 };
}
