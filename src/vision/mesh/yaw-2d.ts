// Head turn from the 2D face mesh alone, for meshes without depth (video tracks) — used by the
// video pipeline's head-turn rule and by the fusion engine's visibility gate.

// Mesh indices: nose tip and the two cheek extremes (MediaPipe face mesh numbering).
const NOSE = 1, CHEEK_A = 234, CHEEK_B = 454;

/** Yaw proxy in 0..1: 1 = frontal, 0 = the nose at one cheek (≈ 35° of head turn, not a profile: see yawOf2d). */
export function frontalness(mesh: ArrayLike<number>): number {
  const nx = mesh[NOSE * 2], a = Math.abs(nx - mesh[CHEEK_A * 2]), b = Math.abs(mesh[CHEEK_B * 2] - nx);
  const m = Math.max(a, b);
  return m > 0 ? Math.min(a, b) / m : 0;
}

// yaw ≈ atan(K · (a − b) / (a + b)), a and b the nose tip's signed horizontal distances to the two
// cheek extremes: the nose, ahead of the cheeks by about 1/K of their half-span, moves sideways by
// sin(yaw) while the span shrinks by cos(yaw). K fitted against the depth mesh's head pose
// (mesh/head-pose.ts) on the 240 test photos with a face (testdata/faces identities, crowds,
// expressions, yale; yaw −17…37°): RMSE 1.3°, worst 9° (an under-estimate at 33°).
const YAW_K = 0.68;

/**
 * Head turn in degrees (≥ 0; which way is not told) from the 2D mesh alone (the tracks keep no
 * depth): unlike `frontalness` it does not saturate when the nose passes the far cheek (a face
 * turned past ≈ 45°, whose |a − b| then exceeds a + b). Infinity for a degenerate mesh.
 */
export function yawOf2d(mesh: ArrayLike<number>): number {
  const nx = mesh[NOSE * 2], a = nx - mesh[CHEEK_A * 2], b = mesh[CHEEK_B * 2] - nx;
  const span = a + b;
  if (!(Math.abs(span) > 0)) return Infinity;
  return (Math.abs(Math.atan((YAW_K * (a - b)) / Math.abs(span))) * 180) / Math.PI;
}
