// Which detected face a caller means: the largest, or the one a rectangle points at. Shared by
// the analyzer (to enrich only that face) and the services (to use it), so both pick the same one.
import type { Box } from './types.ts';

/** The largest face by box area (the first of equals, in the order given). */
export function largestFace<F extends { box: Box }>(faces: F[]): F | undefined {
  if (!faces.length) return undefined;
  return faces.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
}

/** The face overlapping `r` most, provided the rect holds most of the face or the face most of the rect. */
export function bestOverlap<F extends { box: Box }>(faces: F[], r: Box): F | undefined {
  let best: F | undefined, bestArea = 0;
  for (const f of faces) {
    const a = overlap(f.box, r);
    if (a > bestArea && a >= 0.5 * Math.min(f.box.width * f.box.height, r.width * r.height)) { best = f; bestArea = a; }
  }
  return best;
}

function overlap(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Intersection over union of two boxes (0 when they do not meet); the detector's NMS and the tracker's matching. */
export function iou(a: Box, b: Box): number {
  const inter = overlap(a, b);
  const u = a.width * a.height + b.width * b.height - inter;
  return u > 0 ? inter / u : 0;
}

export type FacePick = { rect?: Box };

/** The face `pick` selects among `faces` (rect → bestOverlap, else the largest). */
export function pickFace<F extends { box: Box }>(faces: F[], pick: FacePick): F | undefined {
  return pick.rect ? bestOverlap(faces, pick.rect) : largestFace(faces);
}
