// facefusion 2022-09-27: FuseFace, FuseFaceUltra, DescribeMaterialList (Tencent's wire
// shapes) and our activity/material extensions (docs/API.md).
import type { FusionModule } from '../../services/fusion/fusion-module.ts';
import { MATERIAL_STATUS_MACHINE_APPROVED, MIN_FACE, type ActivityRow, type MaterialFaceRow, type MaterialRow } from '../../services/fusion/fusion-materials.ts';
import { defineAction, type ActionDef } from '../actions/define.ts';
import { int, oneOf, optInt, optStr, str } from '../actions/fields.ts';
import { FUSION_PRIVACY_PARAMS, fuseParam, fusionUltraParam, logoParam, materialImage, mergeInfos, rspImgType } from './fusion-params.ts';
import { isSpooledPart } from '../protocol/multipart.ts';

function tencentTime(ms: number): string {
  // Tencent's console time: Beijing time, "YYYY-MM-DD HH:mm:ss".
  return new Date(ms + 8 * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
}

const mapActivity = (a: ActivityRow) => ({
  ActivityId: a.activity_id, ActivityName: a.name, Status: a.status === 'published' ? 'PUBLISHED' : 'DRAFT',
  FuseProfileDegree: a.profile_degree, FuseFaceDegree: a.face_degree, CreateTime: tencentTime(a.created_at), UpdateTime: tencentTime(a.updated_at),
});

type FaceBox = Pick<MaterialFaceRow, 'face_index' | 'x' | 'y' | 'width' | 'height'>;

export const mapMaterial = (m: MaterialRow, faces: FaceBox[]) => ({
  MaterialId: m.material_id,
  MaterialStatus: m.status,
  CreateTime: tencentTime(m.created_at),
  UpdateTime: tencentTime(m.updated_at),
  MaterialFaceList: faces.map((f) => ({ FaceId: String(f.face_index), FaceInfo: { X: f.x, Y: f.y, Width: f.width, Height: f.height } })),
  MaterialName: m.name,
  AuditResult: auditResult(m.status, faces.length),
});

/**
 * Tencent's AuditResult is the review's reason. facevault reviews by machine only, at
 * CreateMaterial (decodable JPG/PNG within the size limits, at least one face of 34x34 px or
 * more); a material failing that is refused, not stored, so every stored one is 21
 * (machine-approved) and this says what the check found.
 */
function auditResult(status: number, faceCount: number): string {
  if (status === MATERIAL_STATUS_MACHINE_APPROVED) return `machine review passed: ${faceCount} face(s) of at least ${MIN_FACE}x${MIN_FACE} px found`;
  if (status === 31) return `video material ready: ${faceCount} face track(s)`;
  if (status === 32) return 'video material failed: no usable face track, or the video could not be read';
  return `status ${status}`;
}

const ID = str({ max: 64 });
const PARAM_VALUE = 'InvalidParameterValue.ParameterValueError';
const status = oneOf(['DRAFT', 'PUBLISHED'] as const);
const degree = optInt({ min: 0, max: 100 });

// The privacy policy's age gate runs inside the fusion call (FusionDeps.policy), so the fusion
// module is all these handlers use.
export function fusionActions(d: { fusion: FusionModule }): ActionDef<any>[] {
  const calls = d.fusion.calls, mats = d.fusion.materials;
  return [
    defineAction({
      owner: 'facefusion', name: 'FuseFace',
      params: {
        ProjectId: ID, ModelId: ID, RspImgType: rspImgType(), MergeInfos: mergeInfos(false),
        FuseProfileDegree: optInt({ min: 0, max: 100, code: PARAM_VALUE }), FuseFaceDegree: optInt({ min: 0, max: 100, code: PARAM_VALUE }),
        // Tencent: any value other than 0 counts as 1.
        LogoAdd: int(1), LogoParam: logoParam(), FuseParam: fuseParam(),
        ...FUSION_PRIVACY_PARAMS,
      },
      async handle(ctx, req) {
        if (req.EndUserId) ctx.record.endUserId = req.EndUserId;
        const r = await calls.fuseFace(ctx, {
          activityId: req.ProjectId, materialId: req.ModelId, rspImgType: req.RspImgType, merges: req.MergeInfos,
          profileDegree: req.FuseProfileDegree, faceDegree: req.FuseFaceDegree,
          logoAdd: req.LogoAdd !== 0, logo: req.LogoParam, meta: req.FuseParam ?? [],
          endUserId: req.EndUserId, parentalConsent: req.ParentalConsent,
        });
        ctx.record.result = { faces: r.faces, rspImgType: req.RspImgType };
        return { FusedImage: r.fusedImage };
      },
    }),

    defineAction({
      owner: 'facefusion', name: 'FuseFaceUltra',
      params: {
        RspImgType: rspImgType(), MergeInfos: mergeInfos(true), ModelUrl: optStr(), ModelImage: optStr(),
        FusionUltraParam: fusionUltraParam(), LogoAdd: int(1), LogoParam: logoParam(),
        SwapModelType: int(1, { min: 1, max: 6, code: PARAM_VALUE }),
        ...FUSION_PRIVACY_PARAMS,
      },
      async handle(ctx, req) {
        if (req.EndUserId) ctx.record.endUserId = req.EndUserId;
        const r = await calls.fuseFaceUltra(ctx, {
          rspImgType: req.RspImgType, merges: req.MergeInfos, model: { url: req.ModelUrl, image: req.ModelImage },
          swapModelType: req.SwapModelType, ratios: req.FusionUltraParam,
          logoAdd: req.LogoAdd !== 0, logo: req.LogoParam, meta: [],
          endUserId: req.EndUserId, parentalConsent: req.ParentalConsent,
        });
        ctx.record.result = { faces: r.faces, rspImgType: req.RspImgType, swapModelType: req.SwapModelType };
        return { FusedImage: r.fusedImage };
      },
    }),

    defineAction({
      owner: 'facefusion', name: 'DescribeMaterialList',
      params: {
        ActivityId: ID, MaterialId: optStr({ max: 64 }),
        Limit: int(20, { min: 1, max: 20, code: PARAM_VALUE }), Offset: int(0, { min: 0, max: 1_000_000_000, code: PARAM_VALUE }),
      },
      async handle(ctx, req) {
        const { rows, total, faces } = await mats.listMaterials(ctx.caller, req.ActivityId, req.MaterialId ?? null, req.Offset, req.Limit);
        return { MaterialInfos: rows.map((m) => mapMaterial(m, faces.filter((f) => f.material_id === m.material_id))), Count: total };
      },
    }),

    // ---- extensions
    defineAction({
      owner: 'facefusion', name: 'CreateActivity',
      params: { ActivityName: str({ max: 64 }), Status: status, FuseProfileDegree: degree, FuseFaceDegree: degree },
      async handle(ctx, req) {
        const a = await mats.createActivity(ctx.caller, {
          name: req.ActivityName, published: req.Status === 'PUBLISHED', profileDegree: req.FuseProfileDegree ?? 0, faceDegree: req.FuseFaceDegree ?? 0,
        });
        return { ActivityId: a.activity_id, Activity: mapActivity(a) };
      },
    }),

    defineAction({
      owner: 'facefusion', name: 'DescribeActivities',
      params: { Limit: int(20, { min: 1, max: 100 }), Offset: int(0, { min: 0, max: 1_000_000_000 }) },
      async handle(ctx, req) {
        const { rows, total } = await mats.listActivities(ctx.caller, req.Offset, req.Limit);
        return { Activities: rows.map(mapActivity), Count: total };
      },
    }),

    defineAction({
      owner: 'facefusion', name: 'ModifyActivity',
      params: { ActivityId: ID, ActivityName: optStr({ max: 64 }), Status: status, FuseProfileDegree: degree, FuseFaceDegree: degree },
      async handle(ctx, req) {
        const a = await mats.modifyActivity(ctx.caller, req.ActivityId, {
          name: req.ActivityName, published: req.Status === undefined ? undefined : req.Status === 'PUBLISHED',
          profileDegree: req.FuseProfileDegree, faceDegree: req.FuseFaceDegree,
        });
        return { Activity: mapActivity(a) };
      },
    }),

    defineAction({
      owner: 'facefusion', name: 'DeleteActivity',
      params: { ActivityId: ID },
      async handle(ctx, req) {
        await mats.deleteActivity(ctx.caller, req.ActivityId);
        return {};
      },
    }),

    defineAction({
      owner: 'facefusion', name: 'CreateMaterial', upload: true,
      params: { ActivityId: ID, MaterialName: optStr({ max: 64 }), Image: materialImage(), Url: optStr() },
      async handle(ctx, req) {
        // A multipart upload (docs/API.md) hands the file part over as raw bytes, or a large one as its place in the spooled body.
        const source = Buffer.isBuffer(req.Image) || isSpooledPart(req.Image) ? req.Image : { image: req.Image, url: req.Url };
        const { row, faces } = await calls.createMaterial(ctx.caller, req.ActivityId, req.MaterialName ?? '', source);
        const boxes = faces.map((f) => ({ face_index: f.index, x: Math.round(f.box.x), y: Math.round(f.box.y), width: Math.round(f.box.width), height: Math.round(f.box.height) }));
        return { MaterialId: row.material_id, Material: mapMaterial(row, boxes) };
      },
    }),

    defineAction({
      owner: 'facefusion', name: 'DeleteMaterial',
      params: { MaterialId: ID },
      async handle(ctx, req) {
        await mats.deleteMaterial(ctx.caller, req.MaterialId);
        return {};
      },
    }),

    defineAction({
      owner: 'facefusion', name: 'DescribeMaterialImage',
      params: { MaterialId: ID },
      async handle(ctx, req) {
        ctx.record.billed = false; // showing one's own material is not a fusion
        const { row, bytes, contentType } = await mats.materialImage(ctx.caller, req.MaterialId);
        return { MaterialId: row.material_id, Image: bytes.toString('base64'), ContentType: contentType, Width: row.width, Height: row.height };
      },
    }),
  ];
}
