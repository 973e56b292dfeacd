// Head pose for fusion: the user's 3D mesh turned into the template's head pose (a 3D
// similarity, Horn's quaternion method), so a frontal user pasted into a turned template is
// turned with it instead of being smeared onto it; and the pose range the engine supports.
import { MESH_POINTS, type Pts } from './geometry.ts';

/** Supported template/user pose (degrees). Beyond it the fusion is refused (FailedOperation.FaceFusionError, docs/API.md). */
export const MAX_YAW = 45;
export const MAX_PITCH = 25;

export interface Pose { yaw: number; pitch: number; roll: number }

/** Why a pose is outside the supported range, or null when it is inside. */
export function poseProblem(p: Pose | undefined): string | null {
  if (!p) return null;
  if (Math.abs(p.yaw) > MAX_YAW) return `the head is turned ${Math.round(Math.abs(p.yaw))}° sideways; at most ${MAX_YAW}° is supported`;
  if (Math.abs(p.pitch) > MAX_PITCH) return `the head is tilted ${Math.round(Math.abs(p.pitch))}° up or down; at most ${MAX_PITCH}° is supported`;
  return null;
}

export interface Similarity3 { R: Float64Array; s: number; t: [number, number, number] }

/** Least-squares 3D similarity src→dst (Horn 1987: unit quaternion = top eigenvector of N). */
export function similarity3d(src: ArrayLike<number>, srcZ: ArrayLike<number>, dst: ArrayLike<number>, dstZ: ArrayLike<number>, n = MESH_POINTS): Similarity3 {
  const ca = [0, 0, 0], cb = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    ca[0] += src[2 * i]; ca[1] += src[2 * i + 1]; ca[2] += srcZ[i];
    cb[0] += dst[2 * i]; cb[1] += dst[2 * i + 1]; cb[2] += dstZ[i];
  }
  for (let k = 0; k < 3; k++) { ca[k] /= n; cb[k] /= n; }
  const S = new Float64Array(9); // S[r*3+c] = Σ a_r b_c
  let aa = 0;
  for (let i = 0; i < n; i++) {
    const a = [src[2 * i] - ca[0], src[2 * i + 1] - ca[1], srcZ[i] - ca[2]];
    const b = [dst[2 * i] - cb[0], dst[2 * i + 1] - cb[1], dstZ[i] - cb[2]];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) S[r * 3 + c] += a[r] * b[c];
    aa += a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
  }
  const [xx, xy, xz, yx, yy, yz, zx, zy, zz] = S;
  const N = [
    xx + yy + zz, yz - zy, zx - xz, xy - yx,
    yz - zy, xx - yy - zz, xy + yx, zx + xz,
    zx - xz, xy + yx, -xx + yy - zz, yz + zy,
    xy - yx, zx + xz, yz + zy, -xx - yy + zz,
  ];
  // Power iteration on N + cI (c bounds |eigenvalues|, so the top eigenvalue dominates).
  let c = 0;
  for (const v of N) c += Math.abs(v);
  let q = [1, 0, 0, 0];
  for (let it = 0; it < 200; it++) {
    const nq = [0, 0, 0, 0];
    for (let r = 0; r < 4; r++) { let s = c * q[r]; for (let k = 0; k < 4; k++) s += N[r * 4 + k] * q[k]; nq[r] = s; }
    const l = Math.hypot(nq[0], nq[1], nq[2], nq[3]) || 1;
    let d = 0;
    for (let r = 0; r < 4; r++) { nq[r] /= l; d += Math.abs(nq[r] - q[r]); }
    q = nq;
    if (d < 1e-12) break;
  }
  const [w, x, y, z] = q;
  const R = Float64Array.from([
    w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z,
  ]);
  // s = Σ b·(R a) / Σ |a|²
  let bra = 0;
  for (let r = 0; r < 3; r++) for (let k = 0; k < 3; k++) bra += R[r * 3 + k] * S[k * 3 + r];
  const s = aa > 0 ? bra / aa : 1;
  const t: [number, number, number] = [0, 0, 0];
  for (let r = 0; r < 3; r++) t[r] = cb[r] - s * (R[r * 3] * ca[0] + R[r * 3 + 1] * ca[1] + R[r * 3 + 2] * ca[2]);
  return { R, s, t };
}

/**
 * The user's mesh in the template's head pose, projected to the template's image plane
 * (orthographic, as FaceMesh's own coordinates are): the user's shape, the template's pose.
 */
export function posedUserMesh(uMesh: Pts, uZ: ArrayLike<number>, tMesh: Pts, tZ: ArrayLike<number>): Pts {
  const { R, s, t } = similarity3d(uMesh, uZ, tMesh, tZ);
  const out = new Float64Array(MESH_POINTS * 2);
  for (let i = 0; i < MESH_POINTS; i++) {
    const x = uMesh[2 * i], y = uMesh[2 * i + 1], z = uZ[i];
    out[2 * i] = s * (R[0] * x + R[1] * y + R[2] * z) + t[0];
    out[2 * i + 1] = s * (R[3] * x + R[4] * y + R[5] * z) + t[1];
  }
  return out;
}
