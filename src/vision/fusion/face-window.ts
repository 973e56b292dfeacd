import type { RgbImage } from '../types.ts';
import { bounds, ring, type Pts } from './geometry.ts';

const clampInt = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(v)));

/**
 * The window around a user's face that the fusion engine needs (the mesh's 2.2 ring plus a
 * 4 px margin), copied out of the decoded photo so only that travels to a fusion worker; the
 * mesh is shifted into the window's coordinates in place. `shared` puts the copy in a
 * SharedArrayBuffer, for video jobs that hand the same user face to every frame's worker.
 */
export function cropFaceWindow(img: RgbImage, mesh: Pts, shared = false): { width: number; height: number; data: Uint8Array } {
  const b = bounds(ring(mesh, 2.2));
  const x0 = clampInt(b.x0 - 4, 0, img.width), y0 = clampInt(b.y0 - 4, 0, img.height);
  const x1 = clampInt(b.x1 + 4, 0, img.width), y1 = clampInt(b.y1 + 4, 0, img.height);
  const w = Math.max(1, x1 - x0), h = Math.max(1, y1 - y0);
  const data = shared ? new Uint8Array(new SharedArrayBuffer(w * h * 3)) : new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((y + y0) * img.width + x0) * 3, ((y + y0) * img.width + x0 + w) * 3), y * w * 3);
  for (let k = 0; k < mesh.length; k += 2) { mesh[k] -= x0; mesh[k + 1] -= y0; }
  return { width: w, height: h, data };
}
