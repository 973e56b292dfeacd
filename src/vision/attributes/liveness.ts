// fr_liveness: single-image anti-spoofing, 3 classes, 128×128 RGB with raw 0..255 values, crop =
// detector box ×2.7 (lib/fr_liveness.js; the scale and input match MiniFASNet's "2.7_80x80"
// recipe). The package reports softmax class 0 as its liveness score; on every real photo in the
// test set class 0 dominates, consistent with 0 = live. Spoof rejection is unmeasured here (no
// spoof images): see docs/MODELS.md.
import type { TaskModel } from '../task-model.ts';
import type { Box, Face, RgbImage } from '../types.ts';
import type { ModelSet } from '../model-set.ts';
import { createSession, run1, type Session } from '../ort.ts';
import { softmax, toPlanes } from '../sampling.ts';
import { resizeRect, scaledRect } from './faceplugin-crop.ts';

export async function runLiveness(session: Session, img: RgbImage, box: Box): Promise<number[]> {
  const t = toPlanes(resizeRect(img, scaledRect(img, box, 2.7), 128), 128 * 128, (v) => v);
  const out = await run1(session, 'input', t, [1, 3, 128, 128]);
  return softmax(out.output.data as Float32Array);
}

export class LivenessModel implements TaskModel {
  readonly task = 'liveness' as const;
  private session: Session | null = null;
  constructor(private readonly file: string) {}

  async prepare(): Promise<void> {
    this.session ??= await createSession(this.file);
  }

  async run(img: RgbImage, face: Face): Promise<void> {
    if (!this.session) await this.prepare();
    const p = await runLiveness(this.session!, img, face.box);
    (face.attributes ??= {}).liveness = p[0];
  }
}

export function createTaskModel(set: ModelSet): TaskModel | null {
  return set.has('liveness') ? new LivenessModel(set.path('liveness')) : null;
}
