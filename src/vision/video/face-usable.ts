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
