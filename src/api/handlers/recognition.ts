// iai DetectFace, CompareFace, CompareMaskFace, DetectFaceSimilarity.
import { RecognitionService, FACE_MODEL_VERSION } from '../../services/recognition/recognition.ts';
import type { VisionEngine } from '../../services/media/vision-engine.ts';
import type { ScoreScales } from '../../services/recognition/active-calibration.ts';
import { defineAction, type ActionDef } from '../actions/define.ts';
import { flag, int } from '../actions/fields.ts';
import { imageFields, modelVersion, pick, unbilledWhenNoFace } from './common.ts';

const PAIR_FIELDS = ['ImageA', 'ImageB', 'UrlA', 'UrlB'] as const;

export const PAIR_FIELDS_A_B = PAIR_FIELDS;
/** The fields every two-image comparison takes (CompareFace of both versions, CompareMaskFace, DetectFaceSimilarity). */
export const pairParams = () => ({
  ...imageFields('ImageA', 'UrlA'), ...imageFields('ImageB', 'UrlB'),
  FaceModelVersion: modelVersion([FACE_MODEL_VERSION]),
  QualityControl: int(0, { min: 0, max: 4, code: 'InvalidParameterValue.QualityControlIllegal' }),
  NeedRotateDetection: flag(),
});

export function recognitionActions(d: { vision: VisionEngine; scales?: ScoreScales }): ActionDef<any>[] {
  const svc = new RecognitionService(d.vision, d.scales);
  const pair = pairParams();
  return [
    defineAction({
      owner: 'iai', name: 'DetectFace',
      params: {
        ...imageFields(), FaceModelVersion: modelVersion([FACE_MODEL_VERSION]),
        MaxFaceNum: int(1, { min: 1, max: 120 }), MinFaceSize: int(34, { values: [20, 34] }),
        NeedFaceAttributes: flag(), NeedQualityDetection: flag(), NeedRotateDetection: flag(),
      },
      handle: unbilledWhenNoFace(async (ctx, r) => {
        const res = await svc.detectFace(ctx.caller, {
          params: pick(r, ['Image', 'Url']), maxFaceNum: r.MaxFaceNum, minFaceSize: r.MinFaceSize as 20 | 34,
          needAttributes: r.NeedFaceAttributes, needQuality: r.NeedQualityDetection, rotate: r.NeedRotateDetection,
        });
        ctx.record.result = { faces: (res.FaceInfos as unknown[]).length };
        return res;
      }),
    }),
    defineAction({
      owner: 'iai', name: 'CompareFace',
      params: { ...pair, FaceMatchingStrategy: int(0, { values: [0, 1] }) },
      handle: unbilledWhenNoFace(async (ctx, r) => {
        const res = await svc.compare(ctx.caller, { params: pick(r, PAIR_FIELDS), qualityControl: r.QualityControl, strategy: r.FaceMatchingStrategy as 0 | 1, rotate: r.NeedRotateDetection });
        ctx.record.result = { score: res.Score };
        return res;
      }),
    }),
    defineAction({
      owner: 'iai', name: 'CompareMaskFace',
      params: pair,
      handle: unbilledWhenNoFace(async (ctx, r) => {
        const res = await svc.compareMaskFace(ctx.caller, { params: pick(r, PAIR_FIELDS), qualityControl: r.QualityControl, strategy: 0, rotate: r.NeedRotateDetection });
        ctx.record.result = { score: res.Score };
        return res;
      }),
    }),
    defineAction({
      owner: 'iai', name: 'DetectFaceSimilarity',
      params: pair,
      handle: unbilledWhenNoFace(async (ctx, r) => {
        const res = await svc.detectFaceSimilarity(ctx.caller, { params: pick(r, PAIR_FIELDS), qualityControl: r.QualityControl, strategy: 0, rotate: r.NeedRotateDetection });
        ctx.record.result = { score: res.Score };
        return res;
      }),
    }),
  ];
}
