// Head pose from the 3D face mesh (Human's calculateFaceAngle, src/face/angles.ts): axes from
// forehead→chin (10→152) and cheek→cheek (234→454), Euler angles of the resulting rotation.
// Used instead of fr_pose, whose yaw fails a mirror test (docs/MODELS.md).
import type { Point } from '../types.ts';

type V3 = [number, number, number];
const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (v: V3): V3 => { const l = Math.hypot(v[0], v[1], v[2]) || 1; return [v[0] / l, v[1] / l, v[2] / l]; };
const deg = (r: number) => (r * 180) / Math.PI;

/**
 * Degrees. yaw > 0: the face turns toward the image's right; pitch > 0: the face tilts up
 * (chin forward); roll > 0: the head leans so the image-right eye is lower (clockwise on screen).
 */
export function headPoseFromMesh(mesh: Point[], z: number[]): { yaw: number; pitch: number; roll: number } {
  const p = (i: number): V3 => [mesh[i].x, mesh[i].y, z[i]];
  const yAxis = norm(sub(p(152), p(10)));
  let xAxis = norm(sub(p(454), p(234)));
  const zAxis = norm(cross(xAxis, yAxis));
  xAxis = cross(yAxis, zAxis);
  const [r00, , , r10, r11, r12, r20] = [...xAxis, ...yAxis, ...zAxis];
  const thetaZ = Math.atan2(r10, Math.sqrt(r00 * r00 + r20 * r20));
  const thetaY = Math.atan2(-r20, r00);
  const thetaX = Math.atan2(-r12, r11);
  return { yaw: deg(-thetaY), pitch: deg(-thetaX), roll: deg(-thetaZ) };
}
