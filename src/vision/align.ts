// 5-point similarity alignment (Umeyama 1991, no reflection), as InsightFace's norm_crop.
import type { Point, RgbImage } from './types.ts';
import { warpAffine, type Affine } from './image-ops.ts';

export const ARCFACE_112: [number, number][] = [
  [38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041],
];

/** Least-squares similarity transform taking src points onto dst points. */
export function similarityTransform(src: Point[], dst: [number, number][]): Affine {
  const n = src.length;
  let mxs = 0, mys = 0, mxd = 0, myd = 0;
  for (let i = 0; i < n; i++) { mxs += src[i].x; mys += src[i].y; mxd += dst[i][0]; myd += dst[i][1]; }
  mxs /= n; mys /= n; mxd /= n; myd /= n;
  // For 2-D similarity the Umeyama solution reduces to a closed form in complex numbers:
  // (a + ib) = sum(conj(s) * d) / sum(|s|^2) with centred s, d.
  let num_a = 0, num_b = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i].x - mxs, sy = src[i].y - mys;
    const dx = dst[i][0] - mxd, dy = dst[i][1] - myd;
    num_a += sx * dx + sy * dy;
    num_b += sx * dy - sy * dx;
    den += sx * sx + sy * sy;
  }
  const a = den > 0 ? num_a / den : 1;
  const b = den > 0 ? num_b / den : 0;
  return [a, -b, mxd - (a * mxs - b * mys), b, a, myd - (b * mxs + a * mys)];
}

export function alignFace(img: RgbImage, kps: Point[], template = ARCFACE_112, size = 112): RgbImage {
  const scale = size / 112;
  const dst = template.map(([x, y]) => [x * scale, y * scale] as [number, number]);
  return warpAffine(img, similarityTransform(kps, dst), size, size);
}
