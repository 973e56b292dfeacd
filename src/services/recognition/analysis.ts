// Face analysis actions (DetectFaceAttributes, AnalyzeFace, AnalyzeDenseLandmarks,
// DetectLiveFaceAccurate) and the FaceAttributesInfo / FaceQualityInfo maps DetectFace uses.
// Every field of Tencent's attribute types is present (typed clients dereference them), but only
// measured values are real: an attribute no shipped model measures, or one not requested, has
// the value Tencent itself returns for an attribute that was not requested (0, false, or
// {Type: 0, Probability: 0}), documented as meaningless; never a made-up measurement
// (docs/API.md "Face attributes: measured or not").
import type { Caller } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import type { AnalyzeOptions, AttributeKind, Face } from '../../vision/types.ts';
import type { VisionEngine } from '../media/vision-engine.ts';
import { DENSE_FACE_SHAPE, FACE_SHAPE_90, pick } from './face-shape-map.ts';

/** The action's parameters: `Image` (base64) or `Url`, read by services/media/image-input.ts. */
export type ImageParams = Record<string, unknown>;
const IMAGE_FIELDS = { image: 'Image', url: 'Url' };

export const FACE_MODEL_VERSION = '3.0';
/** Tencent: attributes only for the 5 largest faces. */
export const ATTRIBUTE_FACES = 5;

export const ATTRIBUTE_TYPES = ['none', 'age', 'beauty', 'emotion', 'eye', 'eyebrow', 'gender', 'hair', 'hat', 'headpose', 'mask', 'mouth', 'moustache', 'nose', 'shape', 'skin', 'smile'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

const area = (f: Face) => f.box.width * f.box.height;
const byAreaDesc = (a: Face, b: Face) => area(b) - area(a);
const r2 = (v: number) => Math.round(v * 100) / 100;
const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

function faceRect(f: Face) {
  return { X: Math.round(f.box.x), Y: Math.round(f.box.y), Width: Math.round(f.box.width), Height: Math.round(f.box.height) };
}

/** DetectFace's FaceAttributesInfo as Tencent returns it when NeedFaceAttributes is not 1. */
export const unmeasuredFaceAttributesInfo = (): Record<string, unknown> => ({
  Gender: 0, Age: 0, Expression: 0, Glass: false, Pitch: 0, Yaw: 0, Roll: 0, Beauty: 0, Hat: false, Mask: false,
  Hair: { Length: 0, Bang: 0, Color: 0 }, EyeOpen: false,
});

/** DetectFace's FaceAttributesInfo: measured fields over the not-requested values (Glass, Beauty, Hat, Mask, Hair are not measured). */
export function toFaceAttributesInfo(face: Face): Record<string, unknown> {
  const a = face.attributes ?? {};
  const out: Record<string, unknown> = unmeasuredFaceAttributesInfo();
  if (a.gender) out.Gender = Math.round(a.gender.male * 100); // 0-49 female, 50-100 male
  if (a.age !== undefined) out.Age = Math.round(clamp(a.age, 0, 100));
  if (a.expression) out.Expression = Math.round((a.expression.probabilities.happy ?? 0) * 100); // smile 0-100
  if (a.pose) {
    out.Pitch = Math.round(clamp(a.pose.pitch, -30, 30));
    out.Yaw = Math.round(clamp(a.pose.yaw, -30, 30));
    out.Roll = Math.round(clamp(a.pose.roll, -180, 180));
  }
  if (a.eyesOpen) out.EyeOpen = a.eyesOpen.left >= 0.5 && a.eyesOpen.right >= 0.5;
  return out;
}

export function toFaceQualityInfo(face: Face): Record<string, unknown> | undefined {
  const q = face.quality;
  if (!q) return undefined;
  const c = q.completeness;
  return {
    Score: q.score, Sharpness: q.sharpness, Brightness: q.brightness,
    Completeness: { Eyebrow: c.eyebrow, Eye: c.eye, Nose: c.nose, Cheek: c.cheek, Mouth: c.mouth, Chin: c.chin },
  };
}

/** Tencent's Emotion Type order: 0 natural, 1 happy, 2 surprised, 3 angry, 4 sad, 5 disgusted, 6 fearful. */
const EMOTION_TYPE = ['neutral', 'happy', 'surprised', 'angry', 'sad', 'disgusted', 'fearful'] as const;

const item = () => ({ Type: 0, Probability: 0 });
/** DetectFaceAttributes' FaceDetailAttributesInfo as Tencent returns it for types not in FaceAttributesType. */
export const unmeasuredFaceDetailAttributesInfo = (): Record<string, unknown> => ({
  Age: 0, Beauty: 0, Emotion: item(),
  Eye: { Glass: item(), EyeOpen: item(), EyelidType: item(), EyeSize: item() },
  Eyebrow: { EyebrowDensity: item(), EyebrowCurve: item(), EyebrowLength: item() },
  Gender: item(), Hair: { Length: item(), Bang: item(), Color: item() }, Hat: { Style: item(), Color: item() },
  HeadPose: { Pitch: 0, Yaw: 0, Roll: 0 }, Mask: item(), Mouth: { MouthOpen: item() }, Moustache: item(), Nose: item(),
  Shape: item(), Skin: item(), Smile: 0,
});

/** Measured: Age, Emotion, Eye.EyeOpen, Gender, HeadPose, Smile; the rest keep the not-requested values. */
export function toFaceDetailAttributesInfo(face: Face, types: Set<AttributeType>): Record<string, unknown> {
  const a = face.attributes ?? {};
  const out: Record<string, unknown> = unmeasuredFaceDetailAttributesInfo();
  if (types.has('age') && a.age !== undefined) out.Age = Math.round(clamp(a.age, 0, 65)); // 65 = "65 and over"
  if (types.has('emotion') && a.expression) {
    const p = a.expression.probabilities;
    const type = EMOTION_TYPE.indexOf(a.expression.label as (typeof EMOTION_TYPE)[number]);
    if (type >= 0) out.Emotion = { Type: type, Probability: r2(p[a.expression.label]) };
  }
  if (types.has('eye') && a.eyesOpen) {
    const open = Math.min(a.eyesOpen.left, a.eyesOpen.right); // closed if either eye is
    out.Eye = { ...(out.Eye as object), EyeOpen: open >= 0.5 ? { Type: 0, Probability: r2(open) } : { Type: 1, Probability: r2(1 - open) } };
  }
  if (types.has('gender') && a.gender) {
    const m = a.gender.male;
    out.Gender = m >= 0.5 ? { Type: 0, Probability: r2(m) } : { Type: 1, Probability: r2(1 - m) };
  }
  if (types.has('headpose') && a.pose) {
    out.HeadPose = { Pitch: Math.round(clamp(a.pose.pitch, -30, 30)), Yaw: Math.round(clamp(a.pose.yaw, -30, 30)), Roll: Math.round(clamp(a.pose.roll, -180, 180)) };
  }
  if (types.has('smile') && a.expression) out.Smile = Math.round((a.expression.probabilities.happy ?? 0) * 100);
  return out;
}

export function toFaceShape(face: Face): Record<string, unknown> {
  const m = face.mesh!;
  return Object.fromEntries(Object.entries(FACE_SHAPE_90).map(([k, idx]) => [k, pick(m, idx)]));
}

export function toDenseFaceShape(face: Face): Record<string, unknown> {
  const m = face.mesh!;
  return { ...faceRect(face), ...Object.fromEntries(Object.entries(DENSE_FACE_SHAPE).map(([k, idx]) => [k, pick(m, idx)])) };
}

/** The attribute models FaceAttributesType needs (head pose needs none: it comes from the mesh). */
function attributeKinds(types: Set<AttributeType>): AttributeKind[] {
  const k: AttributeKind[] = [];
  if (types.has('age')) k.push('age');
  if (types.has('gender')) k.push('gender');
  if (types.has('emotion') || types.has('smile')) k.push('expression');
  if (types.has('eye')) k.push('eye');
  return k;
}

export interface AttributesRequest { params: ImageParams; maxFaceNum: number; types: Set<AttributeType>; rotate?: boolean }

export class AnalysisService {
  constructor(private readonly vision: VisionEngine) {}

  /** Faces largest first; the optional tasks run only on the `enrich` largest. */
  private async faces(params: ImageParams, opts: AnalyzeOptions, enrich: number): Promise<{ img: { width: number; height: number }; faces: Face[] }> {
    const r = await this.vision.analyzeInput(params, IMAGE_FIELDS, { ...opts, enrichLargest: enrich });
    const faces = r.faces.sort(byAreaDesc);
    if (faces.length === 0) throw new TcError('FailedOperation.ImageFacedetectFailed', 'no face was found in the image');
    return { img: { width: r.width, height: r.height }, faces };
  }

  async detectFaceAttributes(_caller: Caller, req: AttributesRequest): Promise<Record<string, unknown>> {
    const wanted = [...req.types].filter((t) => t !== 'none');
    const needAttrs = wanted.length > 0;
    const enrich = Math.min(req.maxFaceNum, ATTRIBUTE_FACES);
    const { img, faces: all } = await this.faces(req.params, { attributes: needAttrs, attributeKinds: attributeKinds(req.types), mesh: req.types.has('headpose'), tryRotations: req.rotate }, enrich);
    const faces = all.slice(0, req.maxFaceNum);
    return {
      ImageWidth: img.width, ImageHeight: img.height,
      FaceDetailInfos: faces.map((f, i) => ({
        FaceRect: faceRect(f),
        FaceDetailAttributesInfo: i < ATTRIBUTE_FACES && needAttrs ? toFaceDetailAttributesInfo(f, req.types) : unmeasuredFaceDetailAttributesInfo(),
      })),
      FaceModelVersion: FACE_MODEL_VERSION,
    };
  }

  /** mode 0: every face (at most 10), 1: the largest; rotate = NeedRotateDetection. */
  async analyzeFace(_caller: Caller, params: ImageParams, mode: 0 | 1, rotate = false): Promise<Record<string, unknown>> {
    const max = mode === 1 ? 1 : 10;
    const { img, faces: all } = await this.faces(params, { mesh: true, tryRotations: rotate }, max);
    const faces = all.filter((f) => f.mesh).slice(0, max);
    if (faces.length === 0) throw new TcError('FailedOperation.ImageFacedetectFailed', 'no face landmarks could be fitted');
    return { ImageWidth: img.width, ImageHeight: img.height, FaceShapeSet: faces.map(toFaceShape), FaceModelVersion: FACE_MODEL_VERSION };
  }

  /** mode 0: every face (at most 5), 1: the largest; rotate = NeedRotateDetection. */
  async analyzeDenseLandmarks(_caller: Caller, params: ImageParams, mode: 0 | 1, rotate = false): Promise<Record<string, unknown>> {
    const max = mode === 1 ? 1 : 5;
    const { img, faces: all } = await this.faces(params, { mesh: true, tryRotations: rotate }, max);
    const faces = all.filter((f) => f.mesh).slice(0, max);
    if (faces.length === 0) throw new TcError('FailedOperation.ImageFacedetectFailed', 'no face landmarks could be fitted');
    return { ImageWidth: img.width, ImageHeight: img.height, DenseFaceShapeSet: faces.map(toDenseFaceShape), FaceModelVersion: FACE_MODEL_VERSION };
  }

  /**
   * Score 0-100 = 100 × P(live) of the largest face from the operator's anti-spoofing model
   * (FACEVAULT_LIVENESS_MODEL). Without one the action refuses: no shipped model has been shown
   * to tell a live face from a print or a screen, and a made-up "live" score is worse than no
   * answer for a service that gates access on it (docs/API.md).
   */
  async detectLiveFaceAccurate(_caller: Caller, params: ImageParams): Promise<Record<string, unknown>> {
    const { faces: [face] } = await this.faces(params, { liveness: true }, 1);
    const p = face.attributes?.antiSpoofLive;
    if (p === undefined) throw new TcError('UnsupportedOperation', 'DetectLiveFaceAccurate needs an anti-spoofing model: the operator has not configured FACEVAULT_LIVENESS_MODEL');
    return { Score: Math.round(p * 100), FaceModelVersion: FACE_MODEL_VERSION };
  }
}

/** FaceAttributesType: CSV, case-insensitive, of Tencent's names; unknown names are refused. */
export function parseAttributeTypes(csv: string | undefined): Set<AttributeType> {
  const out = new Set<AttributeType>();
  if (csv === undefined || csv.trim() === '') return out;
  for (const raw of csv.split(',')) {
    const t = raw.trim().toLowerCase();
    if (!t) continue;
    if (!(ATTRIBUTE_TYPES as readonly string[]).includes(t)) throw new TcError('InvalidParameterValue', `FaceAttributesType: "${raw.trim()}" is not one of None, Age, Beauty, Emotion, Eye, Eyebrow, Gender, Hair, Hat, Headpose, Mask, Mouth, Moustache, Nose, Shape, Skin, Smile`);
    out.add(t as AttributeType);
  }
  return out;
}
