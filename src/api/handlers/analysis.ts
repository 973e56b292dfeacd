// iai DetectFaceAttributes, AnalyzeFace, AnalyzeDenseLandmarks, DetectLiveFaceAccurate: parameter
// validation with Tencent's codes, then services/recognition/analysis.ts on app.vision (the worker pool).
// Image/Url input, limits and image error codes are shared with recognition (services/media/image-input.ts).
import type { App } from '../../app.ts';
import type { ActionHandler, CallContext } from '../actions.ts';
import { Errors, TcError } from '../../domain/errors.ts';
import { AnalysisService, parseAttributeTypes } from '../../services/recognition/analysis.ts';

function checkVersion(params: Record<string, unknown>, allowed: string[]): void {
  const v = params.FaceModelVersion;
  if (v === undefined || v === null || v === '') return;
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new TcError('InvalidParameterValue.FaceModelVersionIllegal', `FaceModelVersion: must be ${allowed.map((a) => `"${a}"`).join(' or ')}`);
  }
}

function mode(params: Record<string, unknown>): 0 | 1 {
  const m = params.Mode ?? 0;
  if (m !== 0 && m !== 1) throw Errors.invalidValue('Mode', 'must be 0 (all faces) or 1 (the largest face)');
  return m;
}

/** Tencent: any value other than 1 means "not needed". */
const rotate = (params: Record<string, unknown>) => params.NeedRotateDetection === 1;

function int(params: Record<string, unknown>, name: string, def: number, min: number, max: number): number {
  const v = params[name] ?? def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw Errors.invalidValue(name, `must be an integer in [${min}, ${max}]`);
  return v;
}

/** No face found: Tencent does not bill the call; the error still goes back to the caller. */
function unbilledWhenNoFace(fn: (ctx: CallContext, params: Record<string, unknown>) => Promise<Record<string, unknown>>): ActionHandler {
  return async (ctx, params) => {
    try {
      return await fn(ctx, params);
    } catch (e) {
      if (e instanceof TcError && e.code === 'FailedOperation.ImageFacedetectFailed') ctx.record.billed = false;
      throw e;
    }
  };
}

export function registerAnalysis(app: App): void {
  const svc = new AnalysisService(app.vision);
  app.registry.register('iai', 'DetectFaceAttributes', unbilledWhenNoFace(async (ctx, p) => {
    checkVersion(p, ['3.0']);
    const maxFaceNum = int(p, 'MaxFaceNum', 1, 1, 120);
    const types = p.FaceAttributesType;
    if (types !== undefined && types !== null && typeof types !== 'string') throw Errors.invalidParameter('FaceAttributesType', 'must be a comma-separated string');
    const res = await svc.detectFaceAttributes(ctx.caller, { params: p, maxFaceNum, types: parseAttributeTypes(types ?? undefined), rotate: rotate(p) });
    ctx.record.result = { faces: (res.FaceDetailInfos as unknown[]).length };
    return res;
  }));
  app.registry.register('iai', 'AnalyzeFace', unbilledWhenNoFace(async (ctx, p) => {
    checkVersion(p, ['2.0', '3.0']);
    return svc.analyzeFace(ctx.caller, p, mode(p), rotate(p));
  }));
  app.registry.register('iai', 'AnalyzeDenseLandmarks', unbilledWhenNoFace(async (ctx, p) => {
    checkVersion(p, ['3.0']);
    return svc.analyzeDenseLandmarks(ctx.caller, p, mode(p), rotate(p));
  }));
  app.registry.register('iai', 'DetectLiveFaceAccurate', unbilledWhenNoFace(async (ctx, p) => {
    checkVersion(p, ['3.0']);
    const res = await svc.detectLiveFaceAccurate(ctx.caller, p);
    ctx.record.result = { score: res.Score };
    return res;
  }));
}
