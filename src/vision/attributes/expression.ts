// fr_expression: 7 classes, 224×224 RGB/255. The crop is the package's (lib/fr_expression.js):
// anchored at the box's top-left corner, 1.2× its size (not centred — kept as shipped).
// Class order is not documented by the package; FER-2013's order (angry, disgust, fear, happy,
// sad, surprise, neutral) is the one consistent with the labelled photos (docs/MODELS.md).
import type { Box, RgbImage } from '../types.ts';
import type { Session } from '../ort.ts';
import { run1 } from '../ort.ts';
import { softmax, toPlanes } from '../sampling.ts';
import { intBox, resizeRect } from './faceplugin-crop.ts';

export const EXPRESSIONS = ['angry', 'disgusted', 'fearful', 'happy', 'sad', 'surprised', 'neutral'] as const;
export type Expression = (typeof EXPRESSIONS)[number];

export async function runExpression(session: Session, img: RgbImage, box: Box): Promise<Record<Expression, number>> {
  const b = intBox(img, box);
  const r = { x: b.x, y: b.y, w: Math.min(Math.trunc(b.w * 1.2), img.width - 1), h: Math.min(Math.trunc(b.h * 1.2), img.height - 1) };
  const t = toPlanes(resizeRect(img, r, 224), 224 * 224, (v) => v / 255);
  const out = await run1(session, 'input', t, [1, 3, 224, 224]);
  const p = softmax(out.output.data as Float32Array);
  return Object.fromEntries(EXPRESSIONS.map((e, i) => [e, p[i]])) as Record<Expression, number>;
}
