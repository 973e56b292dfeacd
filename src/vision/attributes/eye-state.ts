// fr_eye: one eye at a time, 24×24 grey/255. Eye square from the 68 landmarks as in
// lib/fr_eye.js: centre = mean of the 4 lid points, side = 1.6 × corner distance. The package
// converts its RGBA canvas with COLOR_BGR2GRAY, i.e. weights 0.114 R + 0.587 G + 0.299 B; kept.
// Output class 0 = closed, class 1 = open (the disgusted test photo, eyes shut, scores class 0).
import type { Point, RgbImage } from '../types.ts';
import type { Session } from '../ort.ts';
import { run1 } from '../ort.ts';
import { softmax } from '../sampling.ts';
import { resizeRect } from './faceplugin-crop.ts';

const EYES = [
  { lids: [37, 38, 40, 41], corners: [36, 39] }, // image-left eye
  { lids: [43, 44, 46, 47], corners: [42, 45] }, // image-right eye
];

/** P(open) for the image-left and image-right eye; null when an eye crop is degenerate. */
export async function runEyes(session: Session, img: RgbImage, lm: Point[]): Promise<{ left: number; right: number } | null> {
  const p: number[] = [];
  for (const { lids, corners } of EYES) {
    const cx = Math.trunc(lids.reduce((s, i) => s + lm[i].x, 0) / 4), cy = Math.trunc(lids.reduce((s, i) => s + lm[i].y, 0) / 4);
    let size = Math.trunc((lm[corners[1]].x - lm[corners[0]].x) * 1.6);
    const x = Math.max(0, Math.trunc(cx - size / 2)), y = Math.max(0, Math.trunc(cy - size / 2));
    if (x + size >= img.width) size = img.width - x - 1;
    if (y + size >= img.height) size = img.height - y - 1;
    if (size < 2) return null;
    const hwc = resizeRect(img, { x, y, w: size, h: size }, 24);
    const g = new Float32Array(576);
    for (let i = 0; i < 576; i++) g[i] = Math.round(0.114 * hwc[i * 3] + 0.587 * hwc[i * 3 + 1] + 0.299 * hwc[i * 3 + 2]) / 255;
    const out = await run1(session, 'input', g, [1, 1, 24, 24]);
    p.push(softmax(out.output.data as Float32Array)[1]);
  }
  return { left: p[0], right: p[1] };
}
