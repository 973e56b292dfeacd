// How much of each target triangle the user's photo really shows. A triangle that is flipped
// in the user's photo (back-facing: the far side of a turned head) or strongly foreshortened
// (seen edge-on) would be stretched from a few pixels; there the template's own face is kept.
import { MESH_POINTS, type Pts } from './geometry.ts';

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
