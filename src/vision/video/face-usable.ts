// Whether a tracked face is worth fusing in a frame: large enough, and not turned so far that
// the swapped face would smear (those frames pass through untouched).
import type { Box } from '../types.ts';

// Mesh indices: nose tip and the two cheek extremes (MediaPipe face mesh numbering).
const NOSE = 1, CHEEK_A = 234, CHEEK_B = 454;

/** Yaw proxy in 0..1: 1 = frontal, 0 = a full profile (the nose at one cheek). */
export function frontalness(mesh: ArrayLike<number>): number {
  const nx = mesh[NOSE * 2], a = Math.abs(nx - mesh[CHEEK_A * 2]), b = Math.abs(mesh[CHEEK_B * 2] - nx);
  const m = Math.max(a, b);
  return m > 0 ? Math.min(a, b) / m : 0;
}

/** Faces turned past ≈75° (frontalness < 0.15) or with a side under `minFace` pixels are not fused. */
export function faceUsable(box: Box, mesh: ArrayLike<number>, minFace: number): boolean {
  if (box.width < minFace || box.height < minFace) return false;
  return frontalness(mesh) >= 0.15;
}

/**
 * The frames of a track that are fused, decided over time: the per-frame rule above, then short
 * flickers removed — a gap of ≤ `maxGap` unusable frames (with a mesh) inside a fused stretch is
 * fused too, and a fused stretch shorter than `minRun` frames is passed through. Swapping a face on
 * and off for a frame or two is more visible than either choice (measured on the Hamilton clip's
 * audience faces: stretches like F.FF and .F.FFF around the ≈75° limit).
 */
export function fusedFrames(points: readonly { frame: number; box: Box; mesh: ArrayLike<number> | null }[], minFace: number, o: { maxGap?: number; minRun?: number } = {}): Set<number> {
  const maxGap = o.maxGap ?? 2, minRun = o.minRun ?? 3;
  const ok = points.map((p) => !!p.mesh && faceUsable(p.box, p.mesh, minFace));
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
