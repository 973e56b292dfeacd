// iai face analysis: DetectFaceAttributes, AnalyzeFace, AnalyzeDenseLandmarks, DetectLiveFaceAccurate.
import { AnalysisService, parseAttributeTypes } from '../../services/recognition/analysis.ts';
import type { VisionEngine } from '../../services/media/vision-engine.ts';
import { defineAction, type ActionDef } from '../actions/define.ts';
import { flag, int, optStr } from '../actions/fields.ts';
import { imageFields, modelVersion, pick, unbilledWhenNoFace } from './common.ts';

const IMAGE = ['Image', 'Url'] as const;
/** Mode 0: every face; 1: the largest. */
const mode = () => int(0, { values: [0, 1] });

export function analysisActions(d: { vision: VisionEngine }): ActionDef<any>[] {
  const svc = new AnalysisService(d.vision);
  return [
    defineAction({
      owner: 'iai', name: 'DetectFaceAttributes',
      params: { ...imageFields(), MaxFaceNum: int(1, { min: 1, max: 120 }), FaceAttributesType: optStr(), NeedRotateDetection: flag(), FaceModelVersion: modelVersion(['3.0']) },
      handle: unbilledWhenNoFace(async (ctx, r) => {
        const res = await svc.detectFaceAttributes(ctx.caller, { params: pick(r, IMAGE), maxFaceNum: r.MaxFaceNum, types: parseAttributeTypes(r.FaceAttributesType), rotate: r.NeedRotateDetection });
        ctx.record.result = { faces: (res.FaceDetailInfos as unknown[]).length };
        return res;
      }),
    }),
    defineAction({
      owner: 'iai', name: 'AnalyzeFace',
      params: { ...imageFields(), Mode: mode(), FaceModelVersion: modelVersion(['2.0', '3.0']), NeedRotateDetection: flag() },
      handle: unbilledWhenNoFace((ctx, r) => svc.analyzeFace(ctx.caller, pick(r, IMAGE), r.Mode as 0 | 1, r.NeedRotateDetection)),
    }),
    defineAction({
      owner: 'iai', name: 'AnalyzeDenseLandmarks',
      params: { ...imageFields(), Mode: mode(), FaceModelVersion: modelVersion(['3.0']), NeedRotateDetection: flag() },
      handle: unbilledWhenNoFace((ctx, r) => svc.analyzeDenseLandmarks(ctx.caller, pick(r, IMAGE), r.Mode as 0 | 1, r.NeedRotateDetection)),
    }),
    defineAction({
      owner: 'iai', name: 'DetectLiveFaceAccurate',
      params: { ...imageFields(), FaceModelVersion: modelVersion(['3.0']) },
      handle: unbilledWhenNoFace(async (ctx, r) => {
        const res = await svc.detectLiveFaceAccurate(ctx.caller, pick(r, IMAGE));
        ctx.record.result = { score: res.Score };
        return res;
      }),
    }),
  ];
}
