// The crops faceplugin-face-recognition-js@0.0.1 (lib/fr_*.js) feeds its task models, as
// written there, so each model sees what it was shipped with. The box they start from is the
// package detector's square box (side = height, centred, clipped): see faceplugSquare.
import type { Box, RgbImage } from '../types.ts';
import { faceplugSquare, rectAffine, sampleRgb } from '../sampling.ts';

export interface Rect { x: number; y: number; w: number; h: number }

/** alignAgeImage / alignGenderImage / alignLivenessImage: the box scaled about its centre by
 *  min(scale, what fits), shifted back inside the image, truncated to integers (cv.Rect). */
export function scaledRect(img: RgbImage, box: Box, scaleValue: number): Rect {
  const W = img.width, H = img.height;
  const b = intBox(img, box);
  const scale = Math.min((H - 1) / b.h, (W - 1) / b.w, scaleValue);
  const nw = b.w * scale, nh = b.h * scale, cx = b.w / 2 + b.x, cy = b.h / 2 + b.y;
  let l = cx - nw / 2, t = cy - nh / 2, r = cx + nw / 2, btm = cy + nh / 2;
  if (l < 0) { r -= l; l = 0; }
  if (t < 0) { btm -= t; t = 0; }
  if (r > W - 1) { l -= r - W + 1; r = W - 1; }
  if (btm > H - 1) { t -= btm - H + 1; btm = H - 1; }
  return { x: Math.max(Math.trunc(l), 0), y: Math.max(Math.trunc(t), 0), w: Math.min(Math.trunc(r - l), W - 1), h: Math.min(Math.trunc(btm - t), H - 1) };
}

/** The package's parseInt'ed x1,y1,width,height of the square detector box. */
export function intBox(img: RgbImage, box: Box): Rect {
  const s = faceplugSquare(img, box);
  const x1 = Math.trunc(s.x), y1 = Math.trunc(s.y), x2 = Math.trunc(s.x + s.width), y2 = Math.trunc(s.y + s.height);
  return { x: x1, y: y1, w: Math.max(1, x2 - x1), h: Math.max(1, y2 - y1) };
}

/** cv.resize of an ROI to out×out (bilinear); HWC RGB 0..255. Clamped at the image edge like an ROI. */
export function resizeRect(img: RgbImage, r: Rect, outW: number, outH = outW): Float32Array {
  return sampleRgb(img, rectAffine(r.x, r.y, r.w, r.h, outW, outH), outW, outH, 'clamp');
}
