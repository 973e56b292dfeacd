// iai DetectFace, CompareFace, CompareMaskFace, DetectFaceSimilarity. Caller first (Immich
// shape); no storage is touched: these actions only look at the images they are given.
import type { Caller } from '../../domain/call.ts';
import { Errors, TcError } from '../../domain/errors.ts';
import type { Face } from '../../vision/types.ts';
import { cosine } from '../../vision/similarity.ts';
import { scoreScales, type ScoreScales } from '../../vision/calibration.ts';
import type { VisionEngine } from '../media/vision-engine.ts';
import { toFaceAttributesInfo, toFaceQualityInfo, unmeasuredFaceAttributesInfo } from './analysis.ts';

export const FACE_MODEL_VERSION = '3.0';
/** Tencent: attributes for the 5 largest faces, quality for the 30 largest. */
const ATTRIBUTE_FACES = 5;
const QUALITY_FACES = 30;
/** Tencent's QualityControl levels as minimum FaceQualityInfo.Score (bands 40 fair / 60 good / 80 very good). */
export const QUALITY_CONTROL_MIN: Record<number, number> = { 0: 0, 1: 25, 2: 40, 3: 60, 4: 80 };

const area = (f: Face) => f.box.width * f.box.height;
const round2 = (x: number) => Math.round(x * 100) / 100;

export interface DetectFaceRequest {
  params: Record<string, unknown>;
  maxFaceNum: number;
  minFaceSize: 20 | 34;
  needAttributes: boolean;
  needQuality: boolean;
  /** NeedRotateDetection = 1. */
  rotate: boolean;
}

export interface CompareRequest {
  params: Record<string, unknown>;
  qualityControl: number;
  /** 0: highest detector confidence, 1: largest face. */
  strategy: 0 | 1;
  /** NeedRotateDetection = 1. */
  rotate: boolean;
}

export class RecognitionService {
  /** `scales`: the active calibration (active-calibration.ts); the shipped one by default. */
  constructor(private readonly vision: VisionEngine, private readonly scales: ScoreScales = scoreScales()) {}

  async detectFace(_caller: Caller, req: DetectFaceRequest): Promise<Record<string, unknown>> {
    const r = await this.vision.analyzeInput(req.params, { image: 'Image', url: 'Url' }, {
      singleFace: req.maxFaceNum === 1, minFaceSize: req.minFaceSize, attributes: req.needAttributes, quality: req.needQuality, mesh: req.needAttributes, tryRotations: req.rotate,
      enrichLargest: Math.min(req.maxFaceNum, req.needQuality ? QUALITY_FACES : ATTRIBUTE_FACES),
    });
    // Tencent: MaxFaceNum 1 = the largest face; more = the largest N.
    const faces = r.faces.sort((a, b) => area(b) - area(a)).slice(0, req.maxFaceNum);
    if (!faces.length) throw new TcError('FailedOperation.ImageFacedetectFailed', 'no face was found in the image');
    return {
      ImageWidth: r.width,
      ImageHeight: r.height,
      FaceInfos: faces.map((f, i) => ({
        X: Math.round(f.box.x), Y: Math.round(f.box.y), Width: Math.round(f.box.width), Height: Math.round(f.box.height),
        // Past the 5th face, or unrequested, Tencent's values are documented as meaningless: its
        // not-requested values, never a made-up measurement (docs/API.md).
        FaceAttributesInfo: req.needAttributes && i < ATTRIBUTE_FACES ? toFaceAttributesInfo(f) : unmeasuredFaceAttributesInfo(),
        FaceQualityInfo: req.needQuality && i < QUALITY_FACES ? (toFaceQualityInfo(f) ?? null) : null,
      })),
      FaceModelVersion: FACE_MODEL_VERSION,
    };
  }

  /** The face each compare action uses, with its embedding; throws when none or quality fails. */
  private async compareFace(params: Record<string, unknown>, side: 'A' | 'B', req: CompareRequest): Promise<Face> {
    const fields = { image: `Image${side}`, url: `Url${side}` };
    const r = await this.vision.analyzeInput(params, fields, { embedding: true, singleFace: true, quality: req.qualityControl > 0, tryRotations: req.rotate });
    if (!r.faces.length) throw new TcError('FailedOperation.ImageFacedetectFailed', `${fields.image}/${fields.url}: no face was found in the image`);
    const face = [...r.faces].sort(req.strategy === 1 ? (a, b) => area(b) - area(a) : (a, b) => b.score - a.score)[0];
    if (req.qualityControl > 0) {
      if (!face.quality) throw new TcError('FailedOperation.ServerError', 'QualityControl: the quality model is not installed in this model set');
      const min = QUALITY_CONTROL_MIN[req.qualityControl];
      if (face.quality.score < min) {
        throw new TcError('FailedOperation.FaceQualityNotQualified', `${fields.image}/${fields.url}: the face quality score ${Math.round(face.quality.score)} is below ${min}, required by QualityControl ${req.qualityControl}`);
      }
    }
    return face;
  }

  private async pair(req: CompareRequest): Promise<number> {
    // Both images in parallel: they land on different workers.
    const [a, b] = await Promise.all([this.compareFace(req.params, 'A', req), this.compareFace(req.params, 'B', req)]);
    return cosine(a.embedding!, b.embedding!);
  }

  async compare(_caller: Caller, req: CompareRequest): Promise<Record<string, unknown>> {
    return { Score: round2(this.scales.compare(await this.pair(req))), FaceModelVersion: FACE_MODEL_VERSION };
  }

  /** Same embedding model: it was not trained for masks, so masked pairs score lower (docs/MODELS.md). */
  async compareMaskFace(_caller: Caller, req: CompareRequest): Promise<Record<string, unknown>> {
    return { Score: round2(this.scales.compare(await this.pair({ ...req, strategy: 1 }))), FaceModelVersion: FACE_MODEL_VERSION };
  }

  async detectFaceSimilarity(_caller: Caller, req: CompareRequest): Promise<Record<string, unknown>> {
    return { Score: round2(this.scales.similarity(await this.pair(req))) };
  }
}

/** Shared integer-parameter parsing with Tencent's behaviour for absent values. */
export function intParam(params: Record<string, unknown>, field: string, def: number): number {
  const v = params[field];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw Errors.invalidParameter(field, 'must be an integer');
  return v;
}
