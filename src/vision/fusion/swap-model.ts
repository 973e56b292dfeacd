// A slot for a learned face-swap model (inswapper/hyperswap family): an aligned template crop
// plus the user's identity embedding in, the swapped crop out. Nothing is shipped or downloaded:
// an operator who holds a licence installs one by configuration (FACEVAULT_SWAP_MODEL = a
// directory with manifest.json + model.onnx; docs/MODELS.md). The swapped crop then takes the
// user's place in the classical engine: it already has the template's pose and shape, and our
// mesh, occlusion masks, visibility, colour transfer and multi-band blend are applied around it.
import fs from 'node:fs';
import path from 'node:path';
import { createSession, Tensor, type Session } from '../ort.ts';
import { applySim, invertSim, umeyama, type Pts } from './geometry.ts';
import type { Raster } from './warp.ts';
import type { FuseFaceJob } from './fuse.ts';

export interface SwapManifest {
  name: string;
  /** ONNX file, relative to the directory. */
  file: string;
  /** Square crop side the model takes and returns (inswapper_128: 128). */
  size: number;
  inputs: { target: string; source: string };
  output: string;
  /** Identity embedding length (512 for ArcFace-family encoders). */
  embeddingLength: number;
  /** Pixel scaling of target and output: value = (rgb/255 - mean) / std (inswapper: mean 0, std 1). */
  mean?: number; std?: number;
  /** Licence as the operator recorded it (shown in logs/docs; not checked). */
  licence?: string;
}

/** ArcFace's 5-point template for a 112 crop (eyes, nose tip, mouth corners); scaled to the model's size. */
const ARCFACE_112 = [38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041];

export function readSwapManifest(dir: string): SwapManifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) throw new Error(`swap model: ${file} is missing`);
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<SwapManifest>;
  const need = (ok: boolean, what: string) => { if (!ok) throw new Error(`swap model manifest ${file}: ${what}`); };
  need(typeof m.name === 'string', 'name is required');
  need(typeof m.file === 'string' && fs.existsSync(path.join(dir, m.file!)), `file names no file in ${dir}`);
  need(Number.isInteger(m.size) && m.size! >= 32 && m.size! <= 1024, 'size must be an integer 32..1024');
  need(!!m.inputs && typeof m.inputs.target === 'string' && typeof m.inputs.source === 'string', 'inputs.target and inputs.source are required');
  need(typeof m.output === 'string', 'output is required');
  need(Number.isInteger(m.embeddingLength) && m.embeddingLength! > 0, 'embeddingLength is required');
  return m as SwapManifest;
}

/** The five alignment points from a 468-point FaceMesh: eye centres, nose tip, mouth corners. */
export function fivePoints(mesh: ArrayLike<number>): Pts {
  const mean = (idx: number[]) => { let x = 0, y = 0; for (const i of idx) { x += mesh[2 * i]; y += mesh[2 * i + 1]; } return [x / idx.length, y / idx.length]; };
  return Float64Array.from([...mean([33, 133, 159, 145]), ...mean([263, 362, 386, 374]), ...mean([1]), ...mean([61]), ...mean([291])]);
}

export class SwapModel {
  private constructor(readonly manifest: SwapManifest, private readonly session: Session) {}

  static async load(dir: string): Promise<SwapModel> {
    const m = readSwapManifest(dir);
    return new SwapModel(m, await createSession(path.join(dir, m.file)));
  }

  /**
   * Swaps the user's identity into the template face and returns a job whose "user" is the
   * swapped crop (with the template's mesh mapped into it), for the classical engine to blend.
   */
  async swapJob(template: Raster, job: FuseFaceJob, embedding: Float32Array): Promise<FuseFaceJob> {
    const { size: S, mean = 0, std = 1 } = this.manifest;
    if (embedding.length !== this.manifest.embeddingLength) throw new Error(`swap model ${this.manifest.name} needs a ${this.manifest.embeddingLength}-d embedding, got ${embedding.length}`);
    const dst = Float64Array.from(ARCFACE_112, (v) => (v * S) / 112);
    const toCrop = umeyama(fivePoints(job.templateMesh), dst);
    const toImg = invertSim(toCrop);
    const C = template.channels ?? 3, W = template.width, H = template.height;
    const px = new Uint8Array(template.data.buffer, template.data.byteOffset, template.data.byteLength);
    const input = new Float32Array(3 * S * S);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
      const sx = toImg.a * (x + 0.5) - toImg.b * (y + 0.5) + toImg.tx - 0.5, sy = toImg.b * (x + 0.5) + toImg.a * (y + 0.5) + toImg.ty - 0.5;
      const x0 = Math.max(0, Math.min(W - 1, Math.floor(sx))), y0 = Math.max(0, Math.min(H - 1, Math.floor(sy)));
      const x1 = Math.min(W - 1, x0 + 1), y1 = Math.min(H - 1, y0 + 1), fx = Math.max(0, Math.min(1, sx - x0)), fy = Math.max(0, Math.min(1, sy - y0));
      for (let c = 0; c < 3; c++) {
        const v = (px[(y0 * W + x0) * C + c] * (1 - fx) + px[(y0 * W + x1) * C + c] * fx) * (1 - fy) + (px[(y1 * W + x0) * C + c] * (1 - fx) + px[(y1 * W + x1) * C + c] * fx) * fy;
        input[c * S * S + y * S + x] = (v / 255 - mean) / std;
      }
    }
    let norm = 0;
    for (const v of embedding) norm += v * v;
    const source = Float32Array.from(embedding, (v) => v / (Math.sqrt(norm) || 1));
    const out = await this.session.run({
      [this.manifest.inputs.target]: new Tensor('float32', input, [1, 3, S, S]),
      [this.manifest.inputs.source]: new Tensor('float32', source, [1, this.manifest.embeddingLength]),
    });
    const o = out[this.manifest.output]?.data as Float32Array | undefined;
    if (!o || o.length !== 3 * S * S) throw new Error(`swap model ${this.manifest.name}: output ${this.manifest.output} is not [1,3,${S},${S}]`);
    const data = new Uint8Array(S * S * 3);
    for (let p = 0; p < S * S; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.max(0, Math.min(255, Math.round((o[c * S * S + p] * std + mean) * 255)));
    const userMesh = applySim(toCrop, Float64Array.from(job.templateMesh));
    // The crop has the template's pose and shape: profile is moot; depth scales with the crop.
    const s = Math.hypot(toCrop.a, toCrop.b);
    const userMeshZ = job.templateMeshZ ? Float64Array.from(job.templateMeshZ, (z) => z * s) : undefined;
    return { ...job, user: { width: S, height: S, data }, userMesh, userMeshZ, userEmbedding: undefined };
  }
}
