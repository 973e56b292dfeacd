// The 468-point MediaPipe face mesh (+ 10 iris points) as shipped by @vladmandic/human 3.3.6,
// run directly on a crop around *our* detector's face (not Human's blazeface), so the mesh
// always belongs to the face the rest of the pipeline talks about. Follows Human's recipe
// (src/face/facemesh.ts, iris.ts): square crop, 192×192 RGB/255 NHWC; iris on 64×64 eye
// crops (2.3× the eye-corner span), the image-right eye mirrored as MediaPipe expects.
// Differences from Human: the crop is rotated by the eye line of our 5 keypoints (Human
// rotates by blazeface's), and iris results are appended, not merged into the eye contours.
import path from 'node:path';
import type { TaskModel } from '../task-model.ts';
import type { AnalyzeOptions, Face, Point, RgbImage } from '../types.ts';
import { eyeLineAngle, sampleRgb, squareAffine, squareToImage } from '../sampling.ts';
import { HUMAN_MODELS_DIR, loadLocalGraphModel, tf } from './tf-wasm.ts';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { Tensor } from '@tensorflow/tfjs-core';

const MESH_SIZE = 192;
const IRIS_SIZE = 64;
/** Crop side relative to the detector box side. Human enlarges blazeface's box ×1.4; fr_detect's
 *  square box (side = face height) is of similar extent, and 1.5 leaves margin for the jaw when
 *  the box is tight. Chosen by inspecting overlays on the test photos (face flag ≈ 1.0 there). */
export const MESH_CROP_SCALE = 1.5;
const IRIS_SCALE = 2.3;

/** The mesh's input crop: the face's box side ×MESH_CROP_SCALE, turned upright by the eye line,
 *  RGB scaled to 0..1, `size` pixels square. Human's faceres reads the same crop (its recipe). */
export function uprightFaceCrop(img: RgbImage, face: Face, size = MESH_SIZE): { pixels: Float32Array; center: Point; side: number; angle: number } {
  const box = face.box;
  const center = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const side = Math.max(box.width, box.height) * MESH_CROP_SCALE;
  const angle = face.kps?.length >= 2 ? eyeLineAngle(face.kps) : 0;
  const pixels = sampleRgb(img, squareAffine(center, side, angle, size), size, size, 'zero');
  for (let i = 0; i < pixels.length; i++) pixels[i] /= 255;
  return { pixels, center, side, angle };
}
/** Eye corners (mesh indices): image-left eye 33 (outer) / 133 (inner); image-right eye 263 / 362. */
const EYE_CORNERS = { imageLeft: [33, 133], imageRight: [263, 362] } as const;
/** Below this face-flag confidence the crop held no face the mesh could fit; no mesh is set. */
export const MIN_MESH_CONFIDENCE = 0.5;

export interface MeshResult {
  /** 468 mesh points then 5 image-left iris points then 5 image-right iris points (centre, then 4 around). */
  points: Point[];
  /** Per-point depth, same units as x/y (pixels), relative to the face centre; larger = further. */
  z: number[];
  confidence: number;
}

export class FaceMeshModel implements TaskModel {
  readonly task = 'mesh' as const;
  private mesh: GraphModel | null = null;
  private iris: GraphModel | null = null;

  constructor(private readonly opts: { modelsDir?: string; iris?: boolean } = {}) {}

  async prepare(): Promise<void> {
    const dir = this.opts.modelsDir ?? HUMAN_MODELS_DIR;
    this.mesh ??= await loadLocalGraphModel(path.join(dir, 'facemesh.json'));
    if (this.opts.iris !== false) this.iris ??= await loadLocalGraphModel(path.join(dir, 'iris.json'));
  }

  async run(img: RgbImage, face: Face, opts?: AnalyzeOptions): Promise<void> {
    const r = await this.predict(img, face, opts?.meshIris !== false);
    if (!r) return;
    face.mesh = r.points;
    face.meshZ = r.z;
  }

  async predict(img: RgbImage, face: Face, withIris = true): Promise<MeshResult | null> {
    if (!this.mesh) await this.prepare();
    const { pixels, center, side, angle } = uprightFaceCrop(img, face);
    const input = tf.tensor4d(pixels, [1, MESH_SIZE, MESH_SIZE, 3]);
    let raw: Float32Array, confidence: number;
    try {
      const outs = this.mesh!.execute(input) as Tensor[];
      try {
        raw = (await outs.find((t) => t.shape[t.shape.length - 1] === 1404)!.data()) as Float32Array;
        confidence = (await outs.find((t) => t.shape[t.shape.length - 1] === 1)!.data())[0];
      } finally {
        tf.dispose(outs);
      }
    } finally {
      input.dispose();
    }
    if (!(confidence >= MIN_MESH_CONFIDENCE)) return null;
    const toImage = squareToImage(center, side, angle, MESH_SIZE);
    const scale = side / MESH_SIZE;
    const crop: Point[] = [];
    const points: Point[] = [];
    const z: number[] = [];
    for (let i = 0; i < 468; i++) {
      const u = raw[i * 3], v = raw[i * 3 + 1];
      crop.push({ x: u, y: v });
      points.push(toImage(u, v));
      z.push(raw[i * 3 + 2] * scale);
    }
    if (this.iris && withIris) {
      for (const [which, [a, b]] of [['imageLeft', EYE_CORNERS.imageLeft], ['imageRight', EYE_CORNERS.imageRight]] as const) {
        const iris = await this.predictIris(img, crop, a, b, which === 'imageRight', center, side, angle);
        for (const p of iris) { points.push(p); z.push((z[a] + z[b]) / 2); }
      }
    }
    return { points, z, confidence };
  }

  /** Five iris points (centre, then around) for the eye spanning mesh points a..b (crop coordinates). */
  private async predictIris(img: RgbImage, crop: Point[], a: number, b: number, mirror: boolean, center: Point, side: number, angle: number): Promise<Point[]> {
    const cx = (crop[a].x + crop[b].x) / 2, cy = (crop[a].y + crop[b].y) / 2;
    const eyeSide = Math.max(Math.abs(crop[a].x - crop[b].x), Math.abs(crop[a].y - crop[b].y)) * IRIS_SCALE;
    // Eye square in crop coordinates -> image: compose with the face crop's map.
    const faceToImage = squareToImage(center, side, angle, MESH_SIZE);
    const eyeCenter = faceToImage(cx, cy);
    const eyeSideImg = eyeSide * side / MESH_SIZE;
    const m = squareAffine(eyeCenter, eyeSideImg, angle, IRIS_SIZE);
    if (mirror) { // sample u' = N-1-u: flip the crop horizontally
      m.c = m.c + m.a * (IRIS_SIZE - 1);
      m.f = m.f + m.d * (IRIS_SIZE - 1);
      m.a = -m.a;
      m.d = -m.d;
    }
    const pixels = sampleRgb(img, m, IRIS_SIZE, IRIS_SIZE, 'zero');
    for (let i = 0; i < pixels.length; i++) pixels[i] /= 255;
    const input = tf.tensor4d(pixels, [1, IRIS_SIZE, IRIS_SIZE, 3]);
    let data: Float32Array;
    try {
      const out = this.iris!.execute(input) as Tensor;
      try { data = (await out.data()) as Float32Array; } finally { out.dispose(); }
    } finally {
      input.dispose();
    }
    const toImage = squareToImage(eyeCenter, eyeSideImg, angle, IRIS_SIZE);
    const pts: Point[] = [];
    for (let i = 71; i < 76; i++) {
      const u = data[i * 3], v = data[i * 3 + 1];
      pts.push(toImage(mirror ? IRIS_SIZE - u : u, v));
    }
    return pts;
  }
}
