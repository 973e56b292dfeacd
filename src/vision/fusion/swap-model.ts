// A slot for a learned face-swap model (inswapper/hyperswap family): an aligned template crop
// plus the user's identity embedding in, the swapped crop out. Nothing is shipped or downloaded:
// an operator who holds a licence installs one by configuration (FACEVAULT_SWAP_MODEL = a
// directory with manifest.json + model.onnx; docs/MODELS.md). The swapped crop then takes the
// user's place in the classical engine: it already has the template's pose and shape, and our
// mesh, occlusion masks, visibility, colour transfer and multi-band blend are applied around it.
import { createHash } from 'node:crypto';
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
  /**
   * The model's own identity encoder, when it was trained against one (inswapper_128: InsightFace's
   * w600k_r50 ArcFace, its embedding mapped through the `emap` matrix stored in the swap graph):
   * the user's photo is aligned to ArcFace's 5 points at `size`, encoded, mapped by `emap` when
   * given and L2-normalised; our recogniser's embedding is then not used.
   */
  identity?: SwapIdentityEncoder;
}

export interface SwapIdentityEncoder {
  /** ONNX file, relative to the directory: [1,3,size,size] in, [1,N] out. */
  file: string;
  /** Square aligned crop side (ArcFace: 112). */
  size: number;
  input: string;
  output: string;
  /** Pixel scaling: value = (rgb/255 - mean) / std (ArcFace: mean 0.5, std 0.5). */
  mean?: number; std?: number;
  /** Optional raw little-endian float32 matrix [N × embeddingLength], row-major, relative to the directory: embedding · emap. */
  emap?: string;
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
  if (m.identity !== undefined) {
    const e = m.identity as Partial<SwapIdentityEncoder>;
    need(typeof e.file === 'string' && fs.existsSync(path.join(dir, e.file!)), `identity.file names no file in ${dir}`);
    need(Number.isInteger(e.size) && e.size! >= 32 && e.size! <= 1024, 'identity.size must be an integer 32..1024');
    need(typeof e.input === 'string' && typeof e.output === 'string', 'identity.input and identity.output are required');
    if (e.emap !== undefined) {
      need(typeof e.emap === 'string' && fs.existsSync(path.join(dir, e.emap)), `identity.emap names no file in ${dir}`);
      const n = fs.statSync(path.join(dir, e.emap!)).size;
      need(n > 0 && n % (4 * m.embeddingLength!) === 0, `identity.emap must hold float32 rows of embeddingLength (${m.embeddingLength}) values`);
    }
  }
  return m as SwapManifest;
}

/** The five alignment points from a 468-point FaceMesh: eye centres, nose tip, mouth corners. */
export function fivePoints(mesh: ArrayLike<number>): Pts {
  const mean = (idx: number[]) => { let x = 0, y = 0; for (const i of idx) { x += mesh[2 * i]; y += mesh[2 * i + 1]; } return [x / idx.length, y / idx.length]; };
  return Float64Array.from([...mean([33, 133, 159, 145]), ...mean([263, 362, 386, 374]), ...mean([1]), ...mean([61]), ...mean([291])]);
}

/**
 * An RGB crop (CHW float, value = (rgb/255 - mean)/std) of `img` with the mesh's five points on
 * ArcFace's 112 layout scaled to `size`, bilinear; and the similarity from image to crop.
 */
export function alignedCrop(img: Raster, mesh: ArrayLike<number>, size: number, mean: number, std: number): { input: Float32Array; toCrop: ReturnType<typeof umeyama> } {
  const S = size;
  const dst = Float64Array.from(ARCFACE_112, (v) => (v * S) / 112);
  const toCrop = umeyama(fivePoints(mesh), dst);
  const toImg = invertSim(toCrop);
  const C = img.channels ?? 3, W = img.width, H = img.height;
  const px = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
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
  return { input, toCrop };
}

/** Users' identities kept per model (a video job's photo, a few jobs at once). */
const IDENTITY_CACHE = 8;

const unit = (v: Float32Array): Float32Array => { let n = 0; for (const x of v) n += x * x; n = Math.sqrt(n) || 1; return Float32Array.from(v, (x) => x / n); };

export class SwapModel {
  private constructor(readonly manifest: SwapManifest, private readonly session: Session, private readonly encoder: Session | null, private readonly emap: Float32Array | null) {}

  static async load(dir: string): Promise<SwapModel> {
    const m = readSwapManifest(dir);
    const encoder = m.identity ? await createSession(path.join(dir, m.identity.file)) : null;
    let emap: Float32Array | null = null;
    if (m.identity?.emap) { const b = fs.readFileSync(path.join(dir, m.identity.emap)); emap = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); }
    return new SwapModel(m, await createSession(path.join(dir, m.file)), encoder, emap);
  }

  private readonly identities = new Map<string, Float32Array>();

  /** Whether the model brings its own identity encoder (then the caller's embedding is not used). */
  get ownsIdentity(): boolean { return this.encoder !== null; }

  /**
   * The user's identity as the model's own encoder sees it: the user's photo aligned to ArcFace's
   * 5 points, encoded, mapped through emap when the manifest has one, L2-normalised.
   */
  async identityOf(user: Raster, userMesh: ArrayLike<number>): Promise<Float32Array> {
    const e = this.manifest.identity;
    if (!e || !this.encoder) throw new Error(`swap model ${this.manifest.name} has no identity encoder`);
    // A video fuses the same photo in every frame: encoded once (hashing it is far cheaper than the encoder).
    const key = createHash('sha1').update(`${user.width}x${user.height}|`).update(Float64Array.from(userMesh)).update(user.data).digest('hex');
    const known = this.identities.get(key);
    if (known) return known;
    const v = await this.encode(e, this.encoder, user, userMesh);
    if (this.identities.size >= IDENTITY_CACHE) this.identities.delete(this.identities.keys().next().value!);
    this.identities.set(key, v);
    return v;
  }

  private async encode(e: SwapIdentityEncoder, encoder: Session, user: Raster, userMesh: ArrayLike<number>): Promise<Float32Array> {
    const { input } = alignedCrop(user, userMesh, e.size, e.mean ?? 0, e.std ?? 1);
    const out = await encoder.run({ [e.input]: new Tensor('float32', input, [1, 3, e.size, e.size]) });
    const raw = out[e.output]?.data as Float32Array | undefined;
    if (!raw || raw.length === 0) throw new Error(`swap model ${this.manifest.name}: identity output ${e.output} is empty`);
    const v = unit(Float32Array.from(raw));
    const E = this.manifest.embeddingLength;
    if (!this.emap) {
      if (v.length !== E) throw new Error(`swap model ${this.manifest.name}: identity encoder gives ${v.length} values, the model takes ${E} (an emap would map them)`);
      return v;
    }
    if (this.emap.length !== v.length * E) throw new Error(`swap model ${this.manifest.name}: emap holds ${this.emap.length / E} rows, the identity encoder gives ${v.length} values`);
    const mapped = new Float32Array(E);
    for (let i = 0; i < v.length; i++) { const x = v[i], row = i * E; if (x !== 0) for (let j = 0; j < E; j++) mapped[j] += x * this.emap[row + j]; }
    return unit(mapped);
  }

  /**
   * Swaps the user's identity into the template face and returns a job whose "user" is the
   * swapped crop (with the template's mesh mapped into it), for the classical engine to blend.
   */
  async swapJob(template: Raster, job: FuseFaceJob, embedding: Float32Array): Promise<FuseFaceJob> {
    const { size: S, mean = 0, std = 1 } = this.manifest;
    // A model with its own identity encoder gets the user as that encoder sees them; otherwise our recogniser's embedding.
    const source = this.encoder ? await this.identityOf(job.user, job.userMesh) : unit(embedding);
    if (source.length !== this.manifest.embeddingLength) throw new Error(`swap model ${this.manifest.name} needs a ${this.manifest.embeddingLength}-d embedding, got ${source.length}`);
    const { input, toCrop } = alignedCrop(template, job.templateMesh, S, mean, std);
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
