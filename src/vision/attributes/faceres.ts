// Age and gender from @vladmandic/human@3.3.6's `faceres` (HSE-FaceRes, tfjs graph model, on the
// same tfjs-wasm backend as the face mesh). Human's recipe (src/face/faceres.ts, facemesh.ts):
// the face tensor is the mesh's input crop (192×192 RGB/255, upright), resized bilinearly
// (alignCorners false) to the model's 224×224 and multiplied by 255; gender = sigmoid output
// (> 0.5 male), age from the 100-bin softmax by Human's neighbour interpolation. As for the
// mesh, the crop is around *our* detector's box (side ×1.5, rotated by the eye line), not
// blazeface's (docs/MODELS.md "Face mesh").
import path from 'node:path';
import type { Face, RgbImage } from '../types.ts';
import { HUMAN_MODELS_DIR, loadLocalGraphModel, tf } from '../mesh/tf-wasm.ts';
import { uprightFaceCrop } from '../mesh/face-mesh.ts';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { Tensor } from '@tensorflow/tfjs-core';

const CROP = 192;

export interface FaceResResult {
  /** Sigmoid output: Human calls the face male above 0.5. */
  male: number;
  /** Years. */
  age: number;
}

/** Human's age read-out: the arg-max bin, moved towards the larger neighbour by 10× its probability / 10. */
export function faceresAge(p: ArrayLike<number>): number {
  let idx = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[idx]) idx = i;
  // A missing neighbour (bin 0 or 99) counts as 0; Human would produce NaN at bin 99.
  const prev = p[idx - 1] ?? 0, next = p[idx + 1] ?? 0;
  const v = prev > next ? 10 * idx - 100 * prev : 10 * idx + 100 * next;
  return Math.round(v) / 10;
}

export class FaceResModel {
  private model: GraphModel | null = null;
  constructor(private readonly file = path.join(HUMAN_MODELS_DIR, 'faceres.json')) {}

  async prepare(): Promise<void> {
    this.model ??= await loadLocalGraphModel(this.file);
  }

  async predict(img: RgbImage, face: Face): Promise<FaceResResult> {
    if (!this.model) await this.prepare();
    const { pixels } = uprightFaceCrop(img, face, CROP);
    const [h, w] = [this.model!.inputs[0].shape![1], this.model!.inputs[0].shape![2]];
    const input = tf.tidy(() => tf.mul(tf.image.resizeBilinear(tf.tensor4d(pixels, [1, CROP, CROP, 3]), [h, w], false), 255));
    try {
      const outs = this.model!.execute(input) as Tensor[];
      try {
        const male = (await outs.find((t) => t.shape[1] === 1)!.data())[0];
        const ages = await outs.find((t) => t.shape[1] === 100)!.data();
        return { male, age: faceresAge(ages) };
      } finally {
        tf.dispose(outs);
      }
    } finally {
      input.dispose();
    }
  }
}
