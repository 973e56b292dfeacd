// fr_age / fr_gender: SSR-Net (three-stage soft regression), 64×64 RGB, ImageNet mean/std,
// crop = detector box ×1.4 (lib/fr_age.js, fr_gender.js). Both heads share the preprocessing
// and the stage-merge formula; age is scaled by 101 (years), gender by 1 (≈ P(male)).
import type { RgbImage, Box } from '../types.ts';
import type { Session } from '../ort.ts';
import { run1 } from '../ort.ts';
import { toPlanes } from '../sampling.ts';
import { resizeRect, scaledRect } from './faceplugin-crop.ts';

const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];
const OUTPUTS = ['prob_stage_1', 'prob_stage_2', 'prob_stage_3', 'stage1_delta_k', 'stage2_delta_k', 'stage3_delta_k',
  'index_offset_stage1', 'index_offset_stage2', 'index_offset_stage3'];

export function ssrInput(img: RgbImage, box: Box): Float32Array {
  const hwc = resizeRect(img, scaledRect(img, box, 1.4), 64);
  return toPlanes(hwc, 64 * 64, (v, c) => (v / 255 - MEAN[c]) / STD[c]);
}

/** mergeAge/mergeGender of the package with s1 = s2 = s3 = 3, lambda_local = lambda_d = 1. */
export async function runSsr(session: Session, input: Float32Array): Promise<number> {
  const out = await run1(session, 'input', input, [1, 3, 64, 64]);
  const x: number[] = [];
  for (const k of OUTPUTS) x.push(...(out[k].data as Float32Array));
  let a = 0, b = 0, c = 0;
  for (let i = 0; i < 3; i++) {
    a += (i + x[12 + i]) * x[i];
    b += (i + x[15 + i]) * x[3 + i];
    c += (i + x[18 + i]) * x[6 + i];
  }
  const k1 = 3 * (1 + x[9]), k2 = 3 * (1 + x[10]), k3 = 3 * (1 + x[11]);
  return a / k1 + b / k1 / k2 + c / k1 / k2 / k3;
}
