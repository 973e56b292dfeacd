// FuseFace / FuseFaceUltra: resolve the template (stored material or inline image), find and
// mesh each user face, fuse in the worker pool, mark the result (visible label + XMP), and
// return it as base64 or as a signed, expiring URL. User photos are never stored.
import sharp, { type OverlayOptions } from 'sharp';
import type { Caller } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import type { Face, RgbImage } from '../../vision/types.ts';
import { jobProblem, type FuseFaceJob } from '../../vision/fusion/fuse.ts';
import type { FusionPool } from '../../vision/fusion/pool.ts';
import { drawLabel } from '../../vision/fusion/label.ts';
import { fusionXmp } from '../../vision/fusion/xmp.ts';
import { cropFaceWindow } from '../../vision/fusion/face-window.ts';
import { bestOverlap, pickFace } from '../../vision/face-pick.ts';
import { mapImageError, meshArray, MIN_FACE, type FusionMaterials } from './fusion-materials.ts';
import type { FusionResults } from './fusion-results.ts';
import type { FaceFinder } from './fusion-vision.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface ImageInput { image?: string; url?: string }
export interface Rect { x: number; y: number; width: number; height: number }

export interface MergeRequest { input: ImageInput; faceRect?: Rect; templateFaceId?: string; templateFaceRect?: Rect }

export interface LogoRequest { rect: Rect; input: ImageInput }

export interface FuseOptions {
  rspImgType: 'url' | 'base64';
  merges: MergeRequest[];
  profile: number; // 0-1
  appearance: number; // 0-1
  detail?: number; // -1..1, Ultra's enhance/smoothing
  logoAdd: boolean;
  logo?: LogoRequest;
  meta: { key: string; value: string }[];
  /** Privacy (docs/PRIVACY.md): the caller's EndUserId, recorded on a stored result. */
  endUserId?: string;
  /** Privacy: refuses a user face by its estimated age (minimum-age policy); faces get an age estimate only when set. */
  ageGate?: (age: number | undefined, field: string) => void;
}

/** Reads an Image/Url input into bytes; Url fetching is SSRF-guarded by the implementation. */
export type ImageReader = (input: ImageInput, field: string, limits: { maxBase64Bytes: number; maxUrlBytes: number }) => Promise<Buffer>;

export interface FuseOutcome { fusedImage: string; resultUrl: string | null; faces: number }

const FUSE_LIMITS = { maxBase64Bytes: 5 * 1024 * 1024, maxUrlBytes: 10 * 1024 * 1024, maxSide: 4096 };
// Tencent: an Ultra template may be up to 8000x8000 (8K output); the decoder's default 40 MP cap
// would refuse the documented size, so the template's area cap is its side cap squared.
const ULTRA_LIMITS = { maxBase64Bytes: 10 * 1024 * 1024, maxUrlBytes: 20 * 1024 * 1024, maxSide: 8000 };
const ULTRA_MAX_PIXELS = ULTRA_LIMITS.maxSide * ULTRA_LIMITS.maxSide;

export class FusionService {
  constructor(
    private readonly materials: FusionMaterials,
    private readonly finder: FaceFinder,
    private readonly pool: FusionPool,
    private readonly results: FusionResults,
    private readonly limiter: RateLimiter,
    private readonly readImage: ImageReader,
    private readonly retention: { fusedMs: number; ultraMs: number },
  ) {}

  /** Checks the activity and its request rate before any image work. */
  async admit(caller: Caller, activityId: string) {
    const a = await this.materials.activity(caller, activityId);
    const qps = a.status === 'published' ? this.materials.limits.publishedQps : this.materials.limits.draftQps;
    if (!(await this.limiter.take(`${caller.appId}:${a.activity_id}`, qps))) {
      throw new TcError('RequestLimitExceeded', `activity ${activityId} allows ${qps} request(s) per second while it is ${a.status === 'published' ? 'published' : 'a draft (publish it with ModifyActivity for a higher rate)'}`);
    }
    return a;
  }

  async fuseFace(caller: Caller, requestId: string, activityId: string, materialId: string, o: FuseOptions): Promise<FuseOutcome> {
    const material = await this.materials.load(caller, activityId, materialId);
    // Template faces for each merge: by TemplateFaceID, else the one TemplateFaceRect covers, else the largest not yet taken.
    const bySize = [...material.faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    const taken = new Set<number>();
    const picks = o.merges.map((m, i) => {
      if (m.templateFaceId === undefined && !m.templateFaceRect) return null;
      const f = m.templateFaceId !== undefined ? material.faces.find((x) => String(x.index) === m.templateFaceId) : bestOverlap(material.faces, m.templateFaceRect!);
      if (!f && m.templateFaceId === undefined) throw new TcError('InvalidParameterValue.FaceRectParameterValueError', `MergeInfos.${i}.TemplateFaceRect: no face of material ${materialId} lies in this rectangle`);
      if (!f) throw new TcError('FailedOperation.TemplateFaceIDNotExist', `MergeInfos.${i}.TemplateFaceID: face "${m.templateFaceId}" does not exist in material ${materialId} (it has ${material.faces.map((x) => `"${x.index}"`).join(', ')})`);
      if (taken.has(f.index)) throw new TcError('InvalidParameterValue.ParameterValueError', `MergeInfos.${i}: template face "${f.index}" is chosen by more than one merge info`);
      taken.add(f.index);
      return f;
    }).map((f, i) => {
      if (f) return f;
      const free = bySize.find((x) => !taken.has(x.index));
      if (!free) throw new TcError('FailedOperation.TemplateFaceIDNotExist', `MergeInfos.${i}: material ${materialId} has no further face to fuse into (it has ${material.faces.length})`);
      taken.add(free.index);
      return free;
    });
    const users = await Promise.all(o.merges.map((m, i) => this.userFace(m, i, FUSE_LIMITS, o.ageGate)));
    const jobs: FuseFaceJob[] = users.map((u, i) => ({ templateMesh: picks[i].mesh, templateMeshZ: picks[i].meshZ, user: u.img, userMesh: u.mesh, userMeshZ: u.meshZ, userEmbedding: u.embedding, profile: o.profile, appearance: o.appearance, detail: o.detail }));
    checkPoses(jobs, (i) => `MergeInfos.${i}.TemplateFaceID`, (i) => `MergeInfos.${i}.Image`);
    const jpeg = await this.render(material.image, jobs, o, FUSE_LIMITS);
    return this.respond(caller, requestId, activityId, materialId, jpeg, o.rspImgType, this.retention.fusedMs, 'fused_result', jobs.length, o.endUserId);
  }

  async fuseFaceUltra(caller: Caller, requestId: string, model: ImageInput, o: FuseOptions): Promise<FuseOutcome> {
    const bytes = await this.readImage(model, 'ModelImage', ULTRA_LIMITS);
    let analysed;
    try {
      analysed = await this.finder.analyze(bytes, { limits: { maxLongEdgeJpeg: ULTRA_LIMITS.maxSide, maxLongEdge: ULTRA_LIMITS.maxSide, maxPixels: ULTRA_MAX_PIXELS, minShortEdge: 64 }, returnImage: true, mesh: true });
    } catch (e) { mapImageError(e, model.url ? 'ModelUrl' : 'ModelImage'); }
    const tpl: RgbImage = analysed.image!;
    const found = analysed.faces;
    if (!found.length) throw new TcError('FailedOperation.NoFaceDetected', `${model.url ? 'ModelUrl' : 'ModelImage'}: no face was found in the template`);
    const taken = new Set<Face>();
    const tFaces = o.merges.map((m, i) => {
      let f: Face | undefined;
      if (m.templateFaceRect) {
        f = bestOverlap(found, m.templateFaceRect);
        if (!f) throw new TcError('InvalidParameterValue.FaceRectParameterValueError', `MergeInfos.${i}.TemplateFaceRect: no template face lies in this rectangle`);
      } else f = [...found].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height).find((x) => !taken.has(x));
      if (!f) throw new TcError('FailedOperation.TemplateFaceIDNotExist', `MergeInfos.${i}: the template has no further face to fuse into (it has ${found.length})`);
      if (f.box.width < MIN_FACE || f.box.height < MIN_FACE) throw new TcError('FailedOperation.FaceSizeTooSmall', `ModelImage: the template face is smaller than ${MIN_FACE}x${MIN_FACE} pixels`);
      taken.add(f);
      return f;
    });
    tFaces.forEach((f, i) => { if (!f.mesh) throw new TcError('FailedOperation.NoFaceDetected', `MergeInfos.${i}: the template face could not be measured`); });
    const users = await Promise.all(o.merges.map((m, i) => this.userFace(m, i, FUSE_LIMITS, o.ageGate)));
    const jobs: FuseFaceJob[] = users.map((u, i) => ({ templateMesh: meshArray(tFaces[i].mesh!), templateMeshZ: tFaces[i].meshZ?.slice(0, 468), user: u.img, userMesh: u.mesh, userMeshZ: u.meshZ, userEmbedding: u.embedding, profile: o.profile, appearance: o.appearance, detail: o.detail }));
    checkPoses(jobs, (i) => `MergeInfos.${i}.TemplateFaceRect`, (i) => `MergeInfos.${i}.Image`);
    const jpeg = await this.render(tpl, jobs, o, ULTRA_LIMITS);
    return this.respond(caller, requestId, null, null, jpeg, o.rspImgType, this.retention.ultraMs, 'fused_result_ultra', jobs.length, o.endUserId);
  }

  /** Decodes the user photo, picks the face (InputImageFaceRect or largest), meshes it, crops around it. */
  private async userFace(m: MergeRequest, i: number, limits: typeof FUSE_LIMITS, ageGate?: FuseOptions['ageGate']): Promise<{ img: RgbImage; mesh: Float64Array; meshZ?: number[]; embedding?: Float32Array }> {
    const field = `MergeInfos.${i}.${m.input.url ? 'Url' : 'Image'}`;
    const bytes = await this.readImage(m.input, field, limits);
    // The face is picked before the task models run, so only it is meshed (and aged); fusion uses
    // the 468 mesh points, not the iris ones.
    const pick = { rect: m.faceRect };
    let analysed;
    try {
      analysed = await this.finder.analyze(bytes, { limits: { maxLongEdgeJpeg: limits.maxSide, maxLongEdge: limits.maxSide, minShortEdge: 64 }, returnImage: true, mesh: true, meshIris: false, enrichPick: pick, singleFace: !m.faceRect, ...(ageGate ? { attributes: true, attributeKinds: ['age' as const] } : {}), ...(this.pool.swapping ? { embedding: true } : {}) });
    } catch (e) { mapImageError(e, field); }
    const img: RgbImage = analysed.image!;
    const faces = analysed.faces;
    if (!faces.length) throw new TcError('FailedOperation.NoFaceDetected', `${field}: no face was found in the image`);
    const face = pickFace(faces, pick);
    if (!face) throw new TcError('FailedOperation.NoFaceDetected', `MergeInfos.${i}.InputImageFaceRect: no face lies in this rectangle`);
    ageGate?.(face.attributes?.age, field);
    if (face.box.width < MIN_FACE || face.box.height < MIN_FACE) {
      throw new TcError('FailedOperation.FaceSizeTooSmall', `${field}: the face is ${Math.round(face.box.width)}x${Math.round(face.box.height)} pixels; it must be at least ${MIN_FACE}x${MIN_FACE}`);
    }
    if (!face.mesh || face.mesh.length < 468) throw new TcError('FailedOperation.NoFaceDetected', `${field}: the face could not be measured (too turned, covered or blurred)`);
    const mesh = meshArray(face.mesh);
    // Only the window around the face travels to the worker.
    const win = cropFaceWindow(img, mesh);
    return { img: { width: win.width, height: win.height, data: win.data as unknown as Buffer }, mesh, meshZ: face.meshZ?.slice(0, 468), embedding: this.pool.swapping ? face.embedding : undefined };
  }

  private async render(template: RgbImage, jobs: FuseFaceJob[], o: FuseOptions, limits: typeof FUSE_LIMITS): Promise<Buffer> {
    let patches;
    try {
      patches = await this.pool.run(template, jobs);
    } catch (e) { mapImageError(e, 'MergeInfos'); }
    const out = Buffer.allocUnsafe(template.width * template.height * 3);
    out.set(template.data);
    for (const patch of patches) {
      for (let y = 0; y < patch.height; y++) {
        out.set(patch.data.subarray(y * patch.width * 3, (y + 1) * patch.width * 3), ((y + patch.y) * template.width + patch.x) * 3);
      }
    }
    const frame: RgbImage = { width: template.width, height: template.height, data: out };
    const composites: OverlayOptions[] = [];
    if (o.logoAdd) {
      if (o.logo) composites.push(await this.logoOverlay(o.logo, frame.width, frame.height, limits));
      else drawLabel(frame);
    }
    let s = sharp(out, { raw: { width: frame.width, height: frame.height, channels: 3 } });
    if (composites.length) s = s.composite(composites);
    // Huffman-table optimisation would cost 2-3× the encode time (1080p: ≈30 ms vs ≈11) for ≈3% fewer bytes.
    return s.jpeg({ quality: 90, optimiseCoding: false }).withXmp(fusionXmp(o.meta)).toBuffer();
  }

  private async logoOverlay(logo: LogoRequest, W: number, H: number, limits: typeof FUSE_LIMITS): Promise<OverlayOptions> {
    const field = logo.input.url ? 'LogoParam.LogoUrl' : 'LogoParam.LogoImage';
    const bytes = await this.readImage(logo.input, field, limits);
    let meta;
    try {
      meta = await sharp(bytes, { limitInputPixels: 40_000_000 }).metadata();
    } catch { throw new TcError('FailedOperation.ImageDecodeFailed', `${field}: the logo is not a JPG or PNG image`); }
    if (meta.format !== 'jpeg' && meta.format !== 'png') throw new TcError('FailedOperation.ImageDecodeFailed', `${field}: the logo must be a JPG or PNG image`);
    // Negative X/Y count from the right/bottom edge, as Tencent's LogoRect does.
    const r = logo.rect;
    let left = r.x < 0 ? W + r.x - r.width : r.x, top = r.y < 0 ? H + r.y - r.height : r.y;
    let width = r.width, height = r.height;
    // Clip to the frame; a rect entirely outside is refused.
    const cx0 = Math.max(0, left), cy0 = Math.max(0, top), cx1 = Math.min(W, left + width), cy1 = Math.min(H, top + height);
    if (cx1 - cx0 < 1 || cy1 - cy0 < 1) throw new TcError('InvalidParameterValue.FaceRectParameterValueError', `LogoParam.LogoRect: the rectangle lies outside the ${W}x${H} result`);
    const resized = await sharp(bytes).rotate().resize(width, height, { fit: 'fill' }).ensureAlpha().png().toBuffer();
    let input = resized;
    if (cx0 !== left || cy0 !== top || cx1 !== left + width || cy1 !== top + height) {
      input = await sharp(resized).extract({ left: cx0 - left, top: cy0 - top, width: cx1 - cx0, height: cy1 - cy0 }).png().toBuffer();
      left = cx0; top = cy0; width = cx1 - cx0; height = cy1 - cy0;
    }
    return { input, left, top };
  }

  private async respond(caller: Caller, requestId: string, activityId: string | null, materialId: string | null, jpeg: Buffer, type: 'url' | 'base64', retainMs: number, dataClass: string, faces: number, endUserId?: string): Promise<FuseOutcome> {
    if (type === 'base64') return { fusedImage: jpeg.toString('base64'), resultUrl: null, faces };
    const r = await this.results.store({ appId: caller.appId, requestId, activityId, materialId, jpeg, dataClass, retainMs, endUserId });
    return { fusedImage: r.url, resultUrl: r.url, faces };
  }
}


/**
 * The pose rule (docs/API.md): a template or user head turned more than 45° sideways or tilted
 * more than 25° is refused with FailedOperation.FaceFusionError ("fusion failed, please use
 * another image"), naming the field, rather than returning a torn face. The engine itself
 * passes such a face through untouched (video uses that).
 */
function checkPoses(jobs: FuseFaceJob[], templateField: (i: number) => string, userField: (i: number) => string): void {
  jobs.forEach((j, i) => {
    const p = jobProblem(j);
    if (p) throw new TcError('FailedOperation.FaceFusionError', `${p.startsWith('template') ? templateField(i) : userField(i)}: ${p}`);
  });
}

