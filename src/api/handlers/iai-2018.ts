// iai 2018-03-01. Its SDK models (tencentcloud/services/iai/v20180301) have the same 32 actions
// as 2020-03-03 less CompareMaskFace, DetectFaceSimilarity and the liveness actions, with the
// same fields, limits, codes and Score semantics (the same FAR tables, FaceModelVersion
// defaulting to 3.0 since 2020-04-02), except CompareFace, which has no FaceMatchingStrategy:
// it is declared here; every other 2018 action is served by its 2020 declaration
// (registry.ts; test/action-declarations.test.ts checks the two SDK models agree on each).
import { RecognitionService } from '../../services/recognition/recognition.ts';
import type { ScoreScales } from '../../services/recognition/active-calibration.ts';
import type { VisionEngine } from '../../services/media/vision-engine.ts';
import { defineAction, type ActionDef } from '../actions/define.ts';
import { pick, unbilledWhenNoFace } from './common.ts';
import { PAIR_FIELDS_A_B, pairParams } from './recognition.ts';

export const IAI_2018 = '2018-03-01';

export function iai2018Actions(d: { vision: VisionEngine; scales?: ScoreScales }): ActionDef<any>[] {
  const svc = new RecognitionService(d.vision, d.scales);
  return [
    defineAction({
      owner: 'iai', version: IAI_2018, name: 'CompareFace',
      params: pairParams(),
      handle: unbilledWhenNoFace(async (ctx, r) => {
        // 2018 has no strategy field; it compares the highest-confidence faces, 2020's default (0).
        const res = await svc.compare(ctx.caller, { params: pick(r, PAIR_FIELDS_A_B), qualityControl: r.QualityControl, strategy: 0, rotate: r.NeedRotateDetection });
        ctx.record.result = { score: res.Score };
        return res;
      }),
    }),
  ];
}
