// fr_feature: 512-d identity embedding of the 5-point-aligned 112x112 crop, L2-normalised.
import type { Face, RgbImage } from './types.ts';
import type { ModelSet } from './model-set.ts';
import type { TaskModel } from './task-model.ts';
import { createSession, run1, type Session } from './ort.ts';
import { rectToTensor } from './image-ops.ts';
import { alignFace, ARCFACE_112 } from './align.ts';

export class Embedder implements TaskModel {
  readonly task = 'embedding' as const;
  private session: Session | null = null;
  constructor(private readonly set: ModelSet) {}

  async prepare(): Promise<void> {
    this.session ??= await createSession(this.set.path('embedding'));
  }

  get dim(): number {
    return Number(this.set.models.embedding.dim ?? 512);
  }

  async run(img: RgbImage, face: Face): Promise<void> {
    if (face.kps.length !== 5) throw new Error('embedding needs the 5 landmark points; run landmark68 first');
    const spec = this.set.models.embedding;
    const [, , h, w] = spec.input.shape;
    const al = spec.alignment as { template?: [number, number][] } | undefined;
    const crop = alignFace(img, face.kps, al?.template ?? ARCFACE_112, w);
    const t = rectToTensor(crop, 0, 0, w, h, { width: w, height: h, channels: spec.input.channels ?? 'RGB', mean: spec.input.mean ?? 127, std: spec.input.std ?? 128 } as never);
    const out = await run1(this.session!, spec.input.name, t, spec.input.shape);
    face.embedding = l2normalize(Float32Array.from(out[spec.outputs?.embedding ?? 'output'].data as Float32Array));
  }
}

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

export { cosine } from './similarity.ts';
