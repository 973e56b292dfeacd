// Whether a tracked face is worth fusing in a frame: large enough, and not turned so far that
// the swapped face would smear (those frames pass through untouched).
import type { Box } from '../types.ts';
import { yawOf2d } from '../mesh/yaw-2d.ts';

export { frontalness, yawOf2d } from '../mesh/yaw-2d.ts';

/**
 * Most head turn fused in video (degrees, yawOf2d). The image engine takes up to 45° (measured
 * with depth, fusion/pose.ts MAX_YAW); a track has no depth, and the 2D estimate reads up to 9°
 * low, so video stops at 36°. Before 2026-12-02 the rule was frontalness ≥ 0.15, documented as
 * ≈ 75° but measured at ≈ 26° (the Hamilton close-up at frames 205–210, 26–33° by the depth
 * mesh, passed through for the last 0.2 s before a cut), and blind to the far side: a face turned
 * past 45° (the nose beyond the far cheek, 0.2–0.3) passed it.
 */
export const MAX_VIDEO_YAW = 36;

/** Faces turned past MAX_VIDEO_YAW or with a side under `minFace` pixels are not fused. */
export function faceUsable(box: Box, mesh: ArrayLike<number>, minFace: number, maxYaw = MAX_VIDEO_YAW): boolean {
  if (box.width < minFace || box.height < minFace) return false;
  return yawOf2d(mesh) <= maxYaw;
}

/**
 * The frames of a track that are fused, decided over time: the per-frame rule above, then short
 * flickers removed — a gap of ≤ `maxGap` unusable frames (with a mesh) inside a fused stretch is
 * fused too, and a fused stretch shorter than `minRun` frames is passed through. Swapping a face on
 * and off for a frame or two is more visible than either choice (measured on the Hamilton clip's
 * audience faces: stretches like F.FF and .F.FFF around the old frontalness limit).
 */
export function fusedFrames(points: readonly { frame: number; box: Box; mesh: ArrayLike<number> | null }[], minFace: number, o: { maxGap?: number; minRun?: number; maxYaw?: number } = {}): Set<number> {
  const maxGap = o.maxGap ?? 2, minRun = o.minRun ?? 3;
  const ok = points.map((p) => !!p.mesh && faceUsable(p.box, p.mesh, minFace, o.maxYaw));
  const n = points.length;
  // Consecutive frames only: a track may skip frames (a person seen again after a shot cut).
  const next = (k: number) => k + 1 < n && points[k + 1].frame === points[k].frame + 1;
  for (let i = 1; i < n; i++) {
    if (ok[i] || !ok[i - 1] || !next(i - 1)) continue;
    let j = i;
    while (j < n && !ok[j] && points[j].mesh && next(j - 1)) j++;
    if (j < n && ok[j] && next(j - 1) && j - i <= maxGap) for (let k = i; k < j; k++) ok[k] = true;
    i = j;
  }
  const out = new Set<number>();
  for (let i = 0; i < n;) {
    if (!ok[i]) { i++; continue; }
    let j = i + 1;
    while (j < n && ok[j] && next(j - 1)) j++;
    if (j - i >= Math.min(minRun, n)) for (let k = i; k < j; k++) out.add(points[k].frame);
    i = j;
  }
  return out;
}
