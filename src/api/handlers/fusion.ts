// facefusion 2022-09-27: FuseFace, FuseFaceUltra, DescribeMaterialList (Tencent's wire
// shapes) and our activity/material extensions (docs/API.md).
import type { App } from '../../app.ts';
import type { CallContext } from '../actions.ts';
import { TcError } from '../../domain/errors.ts';
import type { ActivityRow, MaterialFaceRow, MaterialRow } from '../../store/fusion/fusion-repo.ts';
import type { FuseOptions, ImageInput, MergeRequest, Rect } from '../../services/fusion/fusion.ts';
import { endUserId, FUSION_PRIVACY_FIELDS, parentalConsent } from './privacy-params.ts';
import { redactUrl } from '../../services/url-redact.ts';

type P = Record<string, unknown>;

function only(p: P, allowed: string[]) {
  for (const k of Object.keys(p)) if (!allowed.includes(k)) throw new TcError('UnknownParameter', `${k} is not a parameter of this action`);
}
function str(p: P, k: string, o: { required?: boolean; max?: number; field?: string } = {}): string | undefined {
  const f = o.field ?? k, v = p[k];
  if (v === undefined || v === null || v === '') {
    if (o.required) throw new TcError('MissingParameter', `${f} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new TcError('InvalidParameter', `${f} must be a string`);
  if (o.max !== undefined && v.length > o.max) throw new TcError('InvalidParameterValue', `${f} may be at most ${o.max} characters`);
  return v;
}
function int(p: P, k: string, o: { min: number; max: number; field?: string; code?: string }): number | undefined {
  const f = o.field ?? k, v = p[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TcError('InvalidParameter', `${f} must be an integer`);
  if (v < o.min || v > o.max) throw new TcError(o.code ?? 'InvalidParameterValue', `${f} must be between ${o.min} and ${o.max}, got ${v}`);
  return v;
}
function obj(p: P, k: string, field = k): P | undefined {
  const v = p[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new TcError('InvalidParameter', `${field} must be an object`);
  return v as P;
}
function rect(p: P | undefined, field: string, minSide: number, maxSide = 100_000, allowNegative = false): Rect | undefined {
  if (!p) return undefined;
  const r: number[] = [];
  for (const k of ['X', 'Y', 'Width', 'Height']) {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TcError('InvalidParameterValue.FaceRectParameterValueError', `${field}.${k} must be a number`);
    r.push(v);
  }
  const [x, y, width, height] = r;
  if ((!allowNegative && (x < 0 || y < 0)) || width < minSide || height < minSide || width > maxSide || height > maxSide) {
    throw new TcError('InvalidParameterValue.FaceRectParameterValueError', `${field}: X and Y must be${allowNegative ? '' : ' ≥ 0'} and Width/Height between ${minSide} and ${maxSide}`);
  }
  return { x, y, width, height };
}
function imageInput(p: P, imageKey: string, urlKey: string, field: string): ImageInput {
  const url = str(p, urlKey, { field: `${field}.${urlKey}` });
  const image = str(p, imageKey, { field: `${field}.${imageKey}` });
  if (!url && !image) throw new TcError('InvalidParameterValue', `${field}: one of ${imageKey} or ${urlKey} is required`);
  return url ? { url } : { image };
}

function tencentTime(ms: number): string {
  // Tencent's console time: Beijing time, "YYYY-MM-DD HH:mm:ss".
  return new Date(ms + 8 * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
}

const mapActivity = (a: ActivityRow) => ({
  ActivityId: a.activity_id, ActivityName: a.name, Status: a.status === 'published' ? 'PUBLISHED' : 'DRAFT',
  FuseProfileDegree: a.profile_degree, FuseFaceDegree: a.face_degree, CreateTime: tencentTime(a.created_at), UpdateTime: tencentTime(a.updated_at),
});

const mapMaterial = (m: MaterialRow, faces: MaterialFaceRow[]) => ({
  MaterialId: m.material_id,
  MaterialStatus: m.status,
  CreateTime: tencentTime(m.created_at),
  UpdateTime: tencentTime(m.updated_at),
  MaterialFaceList: faces.map((f) => ({ FaceId: String(f.face_index), FaceInfo: { X: f.x, Y: f.y, Width: f.width, Height: f.height } })),
  MaterialName: m.name,
  AuditResult: '',
});

function mergeInfos(p: P, ultra: boolean): MergeRequest[] {
  const v = p.MergeInfos;
  if (v === undefined || v === null) throw new TcError('MissingParameter', 'MergeInfos is required');
  if (!Array.isArray(v)) throw new TcError('InvalidParameter', 'MergeInfos must be an array');
  if (v.length < 1 || v.length > 6) throw new TcError('InvalidParameterValue', `MergeInfos must hold 1 to 6 entries, got ${v.length}`);
  return v.map((m, i) => {
    const field = `MergeInfos.${i}`;
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new TcError('InvalidParameter', `${field} must be an object`);
    only(m as P, ['Image', 'Url', 'InputImageFaceRect', 'TemplateFaceID', 'TemplateFaceRect']);
    const mp = m as P;
    return {
      input: imageInput(mp, 'Image', 'Url', field),
      faceRect: rect(obj(mp, 'InputImageFaceRect', `${field}.InputImageFaceRect`), `${field}.InputImageFaceRect`, 30),
      templateFaceId: str(mp, 'TemplateFaceID', { field: `${field}.TemplateFaceID`, max: 64 }),
      templateFaceRect: ultra ? rect(obj(mp, 'TemplateFaceRect', `${field}.TemplateFaceRect`), `${field}.TemplateFaceRect`, 30) : undefined,
    };
  });
}

function rspImgType(p: P): 'url' | 'base64' {
  const t = str(p, 'RspImgType', { required: true });
  if (t !== 'url' && t !== 'base64') throw new TcError('InvalidParameterValue', `RspImgType must be "url" or "base64", got "${t}"`);
  return t;
}

function logoAndMeta(p: P): Pick<FuseOptions, 'logoAdd' | 'logo' | 'meta'> {
  const la = p.LogoAdd;
  if (la !== undefined && la !== null && (typeof la !== 'number' || !Number.isInteger(la))) throw new TcError('InvalidParameter', 'LogoAdd must be an integer');
  const logoAdd = la !== 0; // Tencent: any value other than 0 counts as 1
  const lp = obj(p, 'LogoParam');
  let logo;
  if (lp) {
    only(lp, ['LogoRect', 'LogoUrl', 'LogoImage']);
    const r = obj(lp, 'LogoRect', 'LogoParam.LogoRect');
    if (!r) throw new TcError('MissingParameter', 'LogoParam.LogoRect is required');
    logo = { rect: rect(r, 'LogoParam.LogoRect', 1, 2160, true)!, input: imageInput(lp, 'LogoImage', 'LogoUrl', 'LogoParam') };
  }
  const meta: { key: string; value: string }[] = [];
  const fp = obj(p, 'FuseParam');
  if (fp) {
    only(fp, ['ImageCodecParam']);
    const icp = obj(fp, 'ImageCodecParam', 'FuseParam.ImageCodecParam');
    if (icp) {
      only(icp, ['MetaData']);
      const md = icp.MetaData;
      if (md !== undefined && md !== null) {
        if (!Array.isArray(md)) throw new TcError('InvalidParameter', 'FuseParam.ImageCodecParam.MetaData must be an array');
        if (md.length > 1) throw new TcError('InvalidParameterValue', 'FuseParam.ImageCodecParam.MetaData may hold at most 1 entry');
        for (const [i, e] of md.entries()) {
          const field = `FuseParam.ImageCodecParam.MetaData.${i}`;
          if (!e || typeof e !== 'object') throw new TcError('InvalidParameter', `${field} must be an object`);
          const key = str(e as P, 'MetaKey', { required: true, max: 32, field: `${field}.MetaKey` })!;
          const value = str(e as P, 'MetaValue', { required: true, max: 256, field: `${field}.MetaValue` })!;
          meta.push({ key, value });
        }
      }
    }
  }
  return { logoAdd, logo, meta };
}

export function registerFusion(app: App): void {
  const svc = app.fusion.service, mats = app.fusion.materials, repo = app.fusion.repo;

  /** Every fusion call leaves a fusion-log record, success or not. */
  const logged = (handler: (ctx: CallContext, p: P, urls: string[]) => Promise<{ resp: P; resultUrl: string | null; activityId: string | null; materialId: string | null }>) =>
    async (ctx: CallContext, p: P) => {
      const started = performance.now();
      const urls: string[] = [];
      let code = '', resultUrl: string | null = null;
      const activityId = typeof p.ProjectId === 'string' ? p.ProjectId : null, materialId = typeof p.ModelId === 'string' ? p.ModelId : null;
      try {
        const r = await handler(ctx, p, urls);
        resultUrl = r.resultUrl;
        return r.resp;
      } catch (e) {
        code = e instanceof TcError ? e.code : 'InternalError';
        throw e;
      } finally {
        const now = app.clock.now();
        await repo.appendLog({
          time: now, appId: ctx.caller.appId, uin: ctx.caller.uin, subUin: ctx.caller.subUin, requestId: ctx.requestId, clientIp: ctx.clientIp,
          latencyMs: performance.now() - started, region: ctx.region, action: ctx.action, activityId, materialId, imageUrls: urls.map(redactUrl),
          // The signature is a bearer credential; the log keeps the link without it.
          resultUrl: resultUrl ? resultUrl.replace(/&Signature=[0-9a-f]+/, '') : null, code, expiresAt: now + app.fusion.logRetainMs,
          endUserId: ctx.record.endUserId ?? null,
        }).catch(() => {});
      }
    };

  /** Privacy extension fields: EndUserId (recorded), ParentalConsent, and the AppId's minimum age. */
  const privacy = async (ctx: CallContext, p: P): Promise<Pick<FuseOptions, 'endUserId' | 'ageGate'>> => {
    const e = endUserId(p);
    const parental = parentalConsent(p);
    if (e) ctx.record.endUserId = e;
    const minAge = await app.privacy.policy.minAge(ctx.caller.appId);
    const extras = { parentalConsent: parental };
    return {
      ...(e ? { endUserId: e } : {}),
      ...(minAge > 0 && !parental ? { ageGate: (age: number | undefined, field: string) => app.privacy.policy.checkAge(age, minAge, extras, field) } : {}),
    };
  };

  const collectUrls = (p: P, urls: string[]) => {
    for (const m of Array.isArray(p.MergeInfos) ? p.MergeInfos : []) if (m && typeof (m as P).Url === 'string') urls.push((m as P).Url as string);
    if (typeof p.ModelUrl === 'string') urls.push(p.ModelUrl);
    const lp = p.LogoParam as P | undefined;
    if (lp && typeof lp.LogoUrl === 'string') urls.push(lp.LogoUrl);
  };

  app.registry.register('facefusion', 'FuseFace', logged(async (ctx, p, urls) => {
    only(p, ['ProjectId', 'ModelId', 'RspImgType', 'MergeInfos', 'FuseProfileDegree', 'FuseFaceDegree', 'LogoAdd', 'LogoParam', 'FuseParam', ...FUSION_PRIVACY_FIELDS]);
    const priv = await privacy(ctx, p);
    collectUrls(p, urls);
    const projectId = str(p, 'ProjectId', { required: true, max: 64 })!;
    const modelId = str(p, 'ModelId', { required: true, max: 64 })!;
    const type = rspImgType(p);
    const merges = mergeInfos(p, false);
    const profile = int(p, 'FuseProfileDegree', { min: 0, max: 100, code: 'InvalidParameterValue.ParameterValueError' });
    const face = int(p, 'FuseFaceDegree', { min: 0, max: 100, code: 'InvalidParameterValue.ParameterValueError' });
    const lm = logoAndMeta(p);
    const activity = await svc.admit(ctx.caller, projectId);
    const r = await svc.fuseFace(ctx.caller, ctx.requestId, activity.activity_id, modelId, {
      rspImgType: type, merges, profile: (profile ?? activity.profile_degree) / 100, appearance: (face ?? activity.face_degree) / 100, ...lm, ...priv,
    });
    ctx.record.result = { faces: r.faces, rspImgType: type };
    return { resp: { FusedImage: r.fusedImage }, resultUrl: r.resultUrl, activityId: projectId, materialId: modelId };
  }));

  app.registry.register('facefusion', 'FuseFaceUltra', logged(async (ctx, p, urls) => {
    only(p, ['RspImgType', 'MergeInfos', 'ModelUrl', 'ModelImage', 'FusionUltraParam', 'LogoAdd', 'LogoParam', 'SwapModelType', ...FUSION_PRIVACY_FIELDS]);
    const priv = await privacy(ctx, p);
    collectUrls(p, urls);
    const type = rspImgType(p);
    const merges = mergeInfos(p, true);
    const model = imageInput(p, 'ModelImage', 'ModelUrl', 'Model');
    const swap = int(p, 'SwapModelType', { min: 1, max: 6, code: 'InvalidParameterValue.ParameterValueError' }) ?? 1;
    const up = obj(p, 'FusionUltraParam') ?? {};
    only(up, ['WarpRadio', 'EnhanceRadio', 'MpRadio', 'BlurRadio', 'TeethEnhanceRadio', 'MakeupTransferRadio']);
    const ratio = (k: string, def: number) => {
      const v = up[k];
      if (v === undefined || v === null) return def;
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new TcError('InvalidParameterValue.ParameterValueError', `FusionUltraParam.${k} must be a number from 0 to 1`);
      return v;
    };
    const warp = ratio('WarpRadio', 0.7), enhance = ratio('EnhanceRadio', 0.5), mp = ratio('MpRadio', 0.5);
    ratio('BlurRadio', 0); ratio('TeethEnhanceRadio', 1);
    const makeup = ratio('MakeupTransferRadio', 0);
    const e = ultraEngine(swap, warp, enhance, mp, makeup);
    const r = await svc.fuseFaceUltra(ctx.caller, ctx.requestId, model, { rspImgType: type, merges, ...e, ...logoAndMeta(p), ...priv });
    ctx.record.result = { faces: r.faces, rspImgType: type, swapModelType: swap };
    return { resp: { FusedImage: r.fusedImage }, resultUrl: r.resultUrl, activityId: null, materialId: null };
  }));

  app.registry.register('facefusion', 'DescribeMaterialList', async (ctx, p) => {
    only(p, ['ActivityId', 'MaterialId', 'Limit', 'Offset']);
    const activityId = str(p, 'ActivityId', { required: true, max: 64 })!;
    const materialId = str(p, 'MaterialId', { max: 64 }) ?? null;
    const limit = int(p, 'Limit', { min: 1, max: 20, code: 'InvalidParameterValue.ParameterValueError' }) ?? 20;
    const offset = int(p, 'Offset', { min: 0, max: 1_000_000_000, code: 'InvalidParameterValue.ParameterValueError' }) ?? 0;
    const { rows, total, faces } = await mats.listMaterials(ctx.caller, activityId, materialId, offset, limit);
    return { MaterialInfos: rows.map((m) => mapMaterial(m, faces.filter((f) => f.material_id === m.material_id))), Count: total };
  });

  // ---- extensions
  const degreeDefaults = (p: P) => ({
    profileDegree: int(p, 'FuseProfileDegree', { min: 0, max: 100 }),
    faceDegree: int(p, 'FuseFaceDegree', { min: 0, max: 100 }),
  });
  const status = (p: P): boolean | undefined => {
    const s = str(p, 'Status');
    if (s === undefined) return undefined;
    if (s !== 'DRAFT' && s !== 'PUBLISHED') throw new TcError('InvalidParameterValue', `Status must be "DRAFT" or "PUBLISHED", got "${s}"`);
    return s === 'PUBLISHED';
  };

  app.registry.register('facefusion', 'CreateActivity', async (ctx, p) => {
    only(p, ['ActivityName', 'Status', 'FuseProfileDegree', 'FuseFaceDegree']);
    const name = str(p, 'ActivityName', { required: true, max: 64 })!;
    const d = degreeDefaults(p);
    const a = await mats.createActivity(ctx.caller, { name, published: status(p) ?? false, profileDegree: d.profileDegree ?? 0, faceDegree: d.faceDegree ?? 0 });
    return { ActivityId: a.activity_id, Activity: mapActivity(a) };
  });

  app.registry.register('facefusion', 'DescribeActivities', async (ctx, p) => {
    only(p, ['Limit', 'Offset']);
    const limit = int(p, 'Limit', { min: 1, max: 100 }) ?? 20;
    const offset = int(p, 'Offset', { min: 0, max: 1_000_000_000 }) ?? 0;
    const { rows, total } = await mats.listActivities(ctx.caller, offset, limit);
    return { Activities: rows.map(mapActivity), Count: total };
  });

  app.registry.register('facefusion', 'ModifyActivity', async (ctx, p) => {
    only(p, ['ActivityId', 'ActivityName', 'Status', 'FuseProfileDegree', 'FuseFaceDegree']);
    const id = str(p, 'ActivityId', { required: true, max: 64 })!;
    const a = await mats.modifyActivity(ctx.caller, id, { name: str(p, 'ActivityName', { max: 64 }), published: status(p), ...degreeDefaults(p) });
    return { Activity: mapActivity(a) };
  });

  app.registry.register('facefusion', 'DeleteActivity', async (ctx, p) => {
    only(p, ['ActivityId']);
    await mats.deleteActivity(ctx.caller, str(p, 'ActivityId', { required: true, max: 64 })!);
    return {};
  });

  app.registry.register('facefusion', 'CreateMaterial', async (ctx, p) => {
    only(p, ['ActivityId', 'MaterialName', 'Image', 'Url']);
    const activityId = str(p, 'ActivityId', { required: true, max: 64 })!;
    const name = str(p, 'MaterialName', { max: 64 }) ?? '';
    // A multipart upload (docs/API.md) hands the file part over as raw bytes.
    const upload = Buffer.isBuffer(p.Image) ? (p.Image as Buffer) : null;
    const input = upload ? null : imageInput(p, 'Image', 'Url', 'Material');
    await mats.activity(ctx.caller, activityId);
    const bytes = upload ?? await app.fusion.readImage(input!, input!.url ? 'Url' : 'Image', { maxBase64Bytes: 10 * 1024 * 1024, maxUrlBytes: 20 * 1024 * 1024 });
    const { row, faces } = await mats.createMaterial(ctx.caller, activityId, name, bytes);
    const faceRows = faces.map((f) => ({ face_index: f.index, x: Math.round(f.box.x), y: Math.round(f.box.y), width: Math.round(f.box.width), height: Math.round(f.box.height) })) as MaterialFaceRow[];
    return { MaterialId: row.material_id, Material: mapMaterial(row, faceRows) };
  });

  app.registry.register('facefusion', 'DeleteMaterial', async (ctx, p) => {
    only(p, ['MaterialId']);
    await mats.deleteMaterial(ctx.caller, str(p, 'MaterialId', { required: true, max: 64 })!);
    return {};
  });
}

/**
 * FuseFaceUltra's model types and FusionUltraParam mapped onto our engine (docs/API.md):
 * profile = 1 − WarpRadio (types 1–5; type 6 keeps the user's full shape), appearance =
 * template share of the inner features (0 for the high-similarity types 4 and 6),
 * detail = 0.6·EnhanceRadio − 0.6·MpRadio (+0.3 for the "sharp" type 1),
 * MakeupTransferRadio = 1 adds 0.2 template appearance.
 */
export function ultraEngine(swap: number, warp: number, enhance: number, mp: number, makeup: number): { profile: number; appearance: number; detail: number } {
  const appearanceByType: Record<number, number> = { 1: 0.1, 2: 0.15, 3: 0.15, 4: 0, 5: 0.1, 6: 0 };
  const usesParams = swap <= 5;
  const profile = usesParams ? 1 - warp : 0;
  const appearance = Math.min(1, appearanceByType[swap] + (usesParams && makeup >= 0.5 ? 0.2 : 0));
  const detail = usesParams ? Math.max(-1, Math.min(1, 0.6 * enhance - 0.6 * mp + (swap === 1 ? 0.3 : 0))) : 0;
  return { profile, appearance, detail };
}
