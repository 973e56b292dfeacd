// Pixels of a band between two rings of a mesh's face oval (fuse.ts's rings), for tests that
// measure what the fusion engine did near the outline.
import { ring } from '../../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../../src/vision/fusion/raster.ts';

/** Pixel indices inside ring `outer` and outside ring `inner` of mesh P, in a w×h frame. */
export function band(P: Float64Array, inner: number, outer: number, w: number, h: number): number[] {
  const a = fillPolygon(ring(P, outer), w, h), b = fillPolygon(ring(P, inner), w, h);
  const out: number[] = [];
  for (let p = 0; p < a.length; p++) if (a[p] && !b[p]) out.push(p);
  return out;
}
