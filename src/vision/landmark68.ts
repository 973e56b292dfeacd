// fr_landmark: 68 iBUG points from a 64x64 grey crop of the squared detector box, and the
// 5 points (eyes, nose tip, mouth corners) the aligner needs.
import type { Face, Point, RgbImage } from './types.ts';
import type { ModelSet } from './model-set.ts';
import type { TaskModel } from './task-model.ts';
import { createSession, run1, type Session } from './ort.ts';
import { rectToTensor } from './image-ops.ts';

export class Landmark68 implements TaskModel {
  readonly task = 'landmark68' as const;
  private session: Session | null = null;
  constructor(private readonly set: ModelSet) {}

  async prepare(): Promise<void> {
    this.session ??= await createSession(this.set.path('landmark68'));
  }

  async run(img: RgbImage, face: Face): Promise<void> {
    const spec = this.set.models.landmark68;
    const [, , h, w] = spec.input.shape;
    const b = face.box;
    // Square crop, side = box height, centred (as the model was fed in its package).
    const side = b.height;
    const cx = b.x + b.width / 2;
    const sx = cx - side / 2, sy = b.y;
    const t = rectToTensor(img, sx, sy, side, side, { width: w, height: h, channels: 'GRAY', mean: spec.input.mean ?? 0, std: spec.input.std ?? 256 });
    const out = await run1(this.session!, spec.input.name, t, spec.input.shape);
    const v = out[spec.outputs?.points ?? 'output'].data as Float32Array;
    const pts: Point[] = [];
    for (let i = 0; i < 68; i++) pts.push({ x: sx + v[2 * i] * side, y: sy + v[2 * i + 1] * side });
    face.landmarks68 = pts;
    face.kps = fivePointsFrom68(pts);
  }
}

const mean = (pts: Point[], idx: number[]): Point => ({
  x: idx.reduce((s, i) => s + pts[i].x, 0) / idx.length,
  y: idx.reduce((s, i) => s + pts[i].y, 0) / idx.length,
});

/** Image-left eye, image-right eye, nose tip, image-left and image-right mouth corners. */
export function fivePointsFrom68(p: Point[]): Point[] {
  return [
    mean(p, [36, 37, 38, 39, 40, 41]),
    mean(p, [42, 43, 44, 45, 46, 47]),
    p[30],
    mean(p, [48, 60]),
    mean(p, [54, 64]),
  ];
}
