// Face quality (Tencent's FaceQualityInfo), computed from pixels and landmarks, no model:
// - Sharpness: variance of the Laplacian on a 112×112 face aligned by the eye line, mapped
//   log-linearly to 0-100 (calibrated on the test photos and blurred copies, docs/MODELS.md).
// - Brightness: mean luma of the aligned face, 0-255 -> 0-100 (Tencent: [30,70] normal).
// - Completeness per part: share of the part's landmarks inside the image, times a texture
//   check for parts that always have texture (brows, eyes, nose, mouth): a flat patch there
//   (hand, sticker, overexposure) has almost no grey-level spread.
// - Score: 100 × (worst part completeness) × sharpness factor × brightness factor, so each
//   failure alone can pull an image out of "enrol" (>70) territory.
// Landmarks come from the face mesh when it ran (it extrapolates past image edges, which is
// what makes a cut-off face measurable), else from the 68 points.
import type { ModelSet } from './model-set.ts';
import type { TaskModel } from './task-model.ts';
import type { Face, FaceQuality, Point, RgbImage } from './types.ts';
import { eyeLineAngle, sampleRgb, squareAffine } from './sampling.ts';

type Part = keyof FaceQuality['completeness'];

const MESH_PARTS: Record<Part, number[]> = {
  eyebrow: [156, 70, 63, 105, 66, 107, 55, 193, 35, 124, 46, 53, 52, 65, 383, 300, 293, 334, 296, 336, 285, 417, 265, 353, 276, 283, 282, 295],
  eye: [246, 161, 160, 159, 158, 157, 173, 33, 7, 163, 144, 145, 153, 154, 155, 133, 466, 388, 387, 386, 385, 384, 398, 263, 249, 390, 373, 374, 380, 381, 382, 362],
  nose: [168, 6, 197, 195, 5, 4, 1, 2, 98, 327, 129, 358],
  cheek: [205, 425, 50, 280, 187, 411, 123, 352, 147, 376],
  mouth: [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 146, 91, 181, 84, 17, 314, 405, 321, 375],
  chin: [152, 148, 176, 377, 400, 199, 175, 171, 396, 149, 378],
};
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const L68_PARTS: Record<Part, number[]> = {
  eyebrow: range(17, 26), eye: range(36, 47), nose: range(27, 35), cheek: [1, 2, 3, 13, 14, 15], mouth: range(48, 67), chin: range(6, 10),
};
/** Parts whose texture is checked, and the grey-level standard deviation counted as "fully visible". */
const TEXTURED: Partial<Record<Part, number>> = { eyebrow: 10, eye: 12, nose: 6, mouth: 8 };

/** log10(Laplacian variance) of the aligned 112 face mapped linearly: LAP_LO -> 0, LAP_HI -> 100. */
export const LAP_LO = 0.8;
export const LAP_HI = 2.6;
const ALIGNED = 112;

export function computeQuality(img: RgbImage, face: Face): FaceQuality | null {
  const useMesh = !!face.mesh && face.mesh.length >= 468;
  const pts = useMesh ? face.mesh! : face.landmarks68;
  if (!pts || (!useMesh && pts.length !== 68) || face.kps.length < 5) return null;
  const parts = useMesh ? MESH_PARTS : L68_PARTS;

  // Aligned face: square around eyes+mouth, side = 2.2 × eye-to-mouth distance, eye line level.
  const [le, re, , lm, rm] = face.kps;
  const eyeMid = { x: (le.x + re.x) / 2, y: (le.y + re.y) / 2 };
  const mouthMid = { x: (lm.x + rm.x) / 2, y: (lm.y + rm.y) / 2 };
  const center = { x: (eyeMid.x + mouthMid.x) / 2, y: (eyeMid.y + mouthMid.y) / 2 };
  const side = Math.max(8, 2.2 * Math.hypot(mouthMid.x - eyeMid.x, mouthMid.y - eyeMid.y));
  const rgb = sampleRgb(img, squareAffine(center, side, eyeLineAngle(face.kps), ALIGNED), ALIGNED, ALIGNED, 'clamp');
  const grey = new Float32Array(ALIGNED * ALIGNED);
  for (let i = 0; i < grey.length; i++) grey[i] = 0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2];

  const lapLog = Math.log10(laplacianVariance(grey, ALIGNED) + 1e-6);
  const sharpness = clamp100(((lapLog - LAP_LO) / (LAP_HI - LAP_LO)) * 100);
  let sum = 0;
  for (const v of grey) sum += v;
  const brightness = clamp100((sum / grey.length / 255) * 100);

  const completeness = {} as FaceQuality['completeness'];
  for (const part of Object.keys(parts) as Part[]) {
    const p = parts[part].map((i) => pts[i]);
    const inside = p.filter((q) => q.x >= 0 && q.y >= 0 && q.x <= img.width - 1 && q.y <= img.height - 1);
    let c = inside.length / p.length;
    const ref = TEXTURED[part];
    if (ref && inside.length >= 2) c *= Math.min(1, greyStd(img, inside) / ref);
    completeness[part] = Math.round(clamp100(c * 100));
  }
  const worst = Math.min(...Object.values(completeness)) / 100;
  const sharpF = Math.min(1, sharpness / 50); // 50+ is "not blurred" for the score
  const brightF = brightness < 15 ? brightness / 15 : brightness > 85 ? (100 - brightness) / 15 : 1;
  const score = clamp100(100 * worst * sharpF * Math.max(0, brightF));
  return { score: Math.round(score), sharpness: Math.round(sharpness), brightness: Math.round(brightness), completeness };
}

function laplacianVariance(g: Float32Array, n: number): number {
  let s = 0, s2 = 0, k = 0;
  for (let y = 1; y < n - 1; y++) {
    for (let x = 1; x < n - 1; x++) {
      const i = y * n + x;
      const l = g[i - 1] + g[i + 1] + g[i - n] + g[i + n] - 4 * g[i];
      s += l; s2 += l * l; k++;
    }
  }
  const m = s / k;
  return s2 / k - m * m;
}

/** Grey-level standard deviation inside the bounding box of `pts` (clipped to the image). */
function greyStd(img: RgbImage, pts: Point[]): number {
  const x0 = Math.max(0, Math.floor(Math.min(...pts.map((p) => p.x)))), x1 = Math.min(img.width - 1, Math.ceil(Math.max(...pts.map((p) => p.x))));
  const y0 = Math.max(0, Math.floor(Math.min(...pts.map((p) => p.y)))), y1 = Math.min(img.height - 1, Math.ceil(Math.max(...pts.map((p) => p.y))));
  const step = Math.max(1, Math.floor(Math.max(x1 - x0, y1 - y0) / 48));
  let s = 0, s2 = 0, k = 0;
  for (let y = y0; y <= y1; y += step) {
    for (let x = x0; x <= x1; x += step) {
      const i = (y * img.width + x) * 3;
      const v = 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
      s += v; s2 += v * v; k++;
    }
  }
  if (k < 2) return 0;
  const m = s / k;
  return Math.sqrt(Math.max(0, s2 / k - m * m));
}

const clamp100 = (v: number) => Math.max(0, Math.min(100, v));

export class QualityModel implements TaskModel {
  readonly task = 'quality' as const;
  async prepare(): Promise<void> {}
  async run(img: RgbImage, face: Face): Promise<void> {
    const q = computeQuality(img, face);
    if (q) face.quality = q;
  }
}

export function createTaskModel(_set: ModelSet): TaskModel | null {
  return new QualityModel();
}
