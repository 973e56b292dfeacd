// facefusion 2018-12-01 (tencentcloud/services/facefusion/v20181201): FaceFusion (one user
// image), FuseFace (MergeInfos without TemplateFaceRect) and DescribeMaterialList (numeric
// ActivityId, per-material fusion parameters), on the same fusion service as 2022-09-27.
// Differences from 2022 as the 2018 models give them: the result field of FaceFusion is
// `Image`; both fusions return ReviewResultSet; there is no LogoAdd/LogoParam (the default
// "AI-synthesised" mark is applied, as 2022 does by default).
import { TcError } from '../../domain/errors.ts';
import type { FusionModule } from '../../services/fusion/fusion-module.ts';
import { requireImage } from '../../services/fusion/fusion-calls.ts';
import { defineAction, type ActionDef } from '../actions/define.ts';
import { field, int, optInt, optStr, str } from '../actions/fields.ts';
import { FUSION_PRIVACY_PARAMS, fuseParam, mergeInfos, rspImgType } from './fusion-params.ts';
import { mapMaterial } from './fusion.ts';

export const FACEFUSION_2018 = '2018-12-01';
const ID = str({ max: 64 });
const PARAM_VALUE = 'InvalidParameterValue.ParameterValueError';

/** CelebrityIdentify: content review. None runs here, so 1 is refused rather than answered with an empty review. */
const celebrityIdentify = () => field((v, name) => {
  if (v === undefined || v === null || v === 0) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TcError('InvalidParameter', `${name}: must be an integer (0 or 1)`);
  if (v !== 1) throw new TcError(PARAM_VALUE, `${name}: must be 0 or 1, got ${v}`);
  throw new TcError('UnsupportedOperation', `${name}=1: content review is not available on this server (nothing would be reviewed); send 0`);
});

/** 2018's ActivityId is typed a number; facevault's activity IDs are `at_<digits>`: both forms are taken. */
const activityId = () => field((v, name) => {
  if (v === undefined || v === null || v === '') throw new TcError('MissingParameter', `${name} is required`);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return `at_${v}`;
  if (typeof v === 'string' && /^(at_)?\d{1,24}$/.test(v)) return v.startsWith('at_') ? v : `at_${v}`;
  throw new TcError('InvalidParameter', `${name}: must be the activity ID (a number, or the at_… string facevault shows; IDs above 2^53 must be sent as strings)`);
});

export function facefusion2018Actions(d: { fusion: FusionModule }): ActionDef<any>[] {
  const calls = d.fusion.calls, mats = d.fusion.materials;
  const common = {
    ProjectId: ID, ModelId: ID, RspImgType: rspImgType(),
    CelebrityIdentify: celebrityIdentify(), FuseParam: fuseParam(),
    ...FUSION_PRIVACY_PARAMS,
  };
  return [
    defineAction({
      owner: 'facefusion', version: FACEFUSION_2018, name: 'FaceFusion',
      params: { ...common, Image: optStr(), Url: optStr() },
      ignored: { PornDetect: 'a legacy field the SDK documents as "no need to fill"' },
      async handle(ctx, req) {
        if (req.EndUserId) ctx.record.endUserId = req.EndUserId;
        const r = await calls.fuseFace(ctx, {
          activityId: req.ProjectId, materialId: req.ModelId, rspImgType: req.RspImgType,
          merges: [{ input: requireImage({ url: req.Url, image: req.Image }, 'request', 'Image', 'Url') }],
          logoAdd: true, logo: undefined, meta: req.FuseParam ?? [], endUserId: req.EndUserId, parentalConsent: req.ParentalConsent,
        });
        ctx.record.result = { faces: r.faces, rspImgType: req.RspImgType };
        return { Image: r.fusedImage, ReviewResultSet: [] };
      },
    }),
    defineAction({
      owner: 'facefusion', version: FACEFUSION_2018, name: 'FuseFace',
      params: {
        ...common, MergeInfos: mergeInfos(false, false),
        FuseProfileDegree: optInt({ min: 0, max: 100, code: PARAM_VALUE }), FuseFaceDegree: optInt({ min: 0, max: 100, code: PARAM_VALUE }),
      },
      async handle(ctx, req) {
        if (req.EndUserId) ctx.record.endUserId = req.EndUserId;
        const r = await calls.fuseFace(ctx, {
          activityId: req.ProjectId, materialId: req.ModelId, rspImgType: req.RspImgType, merges: req.MergeInfos,
          profileDegree: req.FuseProfileDegree, faceDegree: req.FuseFaceDegree,
          logoAdd: true, logo: undefined, meta: req.FuseParam ?? [], endUserId: req.EndUserId, parentalConsent: req.ParentalConsent,
        });
        ctx.record.result = { faces: r.faces, rspImgType: req.RspImgType };
        return { FusedImage: r.fusedImage, ReviewResultSet: [] };
      },
    }),
    defineAction({
      owner: 'facefusion', version: FACEFUSION_2018, name: 'DescribeMaterialList',
      params: {
        ActivityId: activityId(), MaterialId: optStr({ max: 64 }),
        Limit: int(20, { min: 1, max: 20, code: PARAM_VALUE }), Offset: int(0, { min: 0, max: 1_000_000_000, code: PARAM_VALUE }),
      },
      async handle(ctx, req) {
        const { activity, rows, total, faces } = await mats.listMaterialsWithActivity(ctx.caller, req.ActivityId, req.MaterialId ?? null, req.Offset, req.Limit);
        return {
          MaterialInfos: rows.map((m) => {
            const { MaterialName: _n, AuditResult: _a, ...base } = mapMaterial(m, faces.filter((f) => f.material_id === m.material_id));
            // One fusion algorithm here: its degrees are the activity's, reported for both of 2018's algorithm slots.
            return {
              ...base, BlendParamPtu: activity.profile_degree, PositionParamPtu: activity.face_degree,
              BlendParamYoutu: activity.profile_degree, PositionParamYoutu: activity.face_degree,
              Url: '', // templates are not served back (docs/API.md)
            };
          }),
          Count: total,
        };
      },
    }),
  ];
}
