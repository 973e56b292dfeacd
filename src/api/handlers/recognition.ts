// iai DetectFace, CompareFace, CompareMaskFace, DetectFaceSimilarity: parameter validation with
// Tencent's codes, then services/recognition/recognition.ts.
import type { App } from '../../app.ts';
import type { ActionHandler, CallContext } from '../actions.ts';
import { Errors, TcError } from '../../domain/errors.ts';
import { FACE_MODEL_VERSION, intParam, RecognitionService, type CompareRequest } from '../../services/recognition/recognition.ts';

function checkModelVersion(params: Record<string, unknown>): void {
  const v = params.FaceModelVersion;
  if (v === undefined || v === null || v === '') return;
  if (v !== FACE_MODEL_VERSION) throw new TcError('InvalidParameterValue.FaceModelVersionIllegal', `FaceModelVersion: only "${FACE_MODEL_VERSION}" is served here, got ${JSON.stringify(v)}`);
}

function qualityControl(params: Record<string, unknown>): number {
  const v = params.QualityControl;
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 4) throw new TcError('InvalidParameterValue.QualityControlIllegal', 'QualityControl: must be an integer 0-4');
  return v;
}

/** No face found: Tencent does not bill the call; the error still goes back to the caller. */
function unbilledWhenNoFace(handler: ActionHandler): ActionHandler {
  return async (ctx: CallContext, params) => {
    try {
      return await handler(ctx, params);
    } catch (e) {
      if (e instanceof TcError && e.code === 'FailedOperation.ImageFacedetectFailed') ctx.record.billed = false;
      throw e;
    }
  };
}

function compareRequest(params: Record<string, unknown>, withStrategy: boolean): CompareRequest {
  checkModelVersion(params);
  let strategy: 0 | 1 = 0;
  if (withStrategy) {
    const s = intParam(params, 'FaceMatchingStrategy', 0);
    if (s !== 0 && s !== 1) throw Errors.invalidValue('FaceMatchingStrategy', 'must be 0 (highest confidence) or 1 (largest face)');
    strategy = s;
  }
  return { params, qualityControl: qualityControl(params), strategy, rotate: params.NeedRotateDetection === 1 };
}

export function registerRecognition(app: App): void {
  const svc = new RecognitionService(app.vision);

  app.registry.register('iai', 'DetectFace', unbilledWhenNoFace(async (ctx, params) => {
    checkModelVersion(params);
    const maxFaceNum = intParam(params, 'MaxFaceNum', 1);
    if (maxFaceNum < 1 || maxFaceNum > 120) throw Errors.invalidValue('MaxFaceNum', 'must be between 1 and 120');
    const minFaceSize = intParam(params, 'MinFaceSize', 34);
    if (minFaceSize !== 34 && minFaceSize !== 20) throw Errors.invalidValue('MinFaceSize', 'only 34 and 20 are supported');
    const res = await svc.detectFace(ctx.caller, {
      params, maxFaceNum, minFaceSize,
      // Tencent: any value other than 1 means "not needed".
      needAttributes: params.NeedFaceAttributes === 1,
      needQuality: params.NeedQualityDetection === 1,
      rotate: params.NeedRotateDetection === 1,
    });
    ctx.record.result = { faces: (res.FaceInfos as unknown[]).length };
    return res;
  }));

  app.registry.register('iai', 'CompareFace', unbilledWhenNoFace(async (ctx, params) => {
    const res = await svc.compare(ctx.caller, compareRequest(params, true));
    ctx.record.result = { score: res.Score };
    return res;
  }));

  app.registry.register('iai', 'CompareMaskFace', unbilledWhenNoFace(async (ctx, params) => {
    const res = await svc.compareMaskFace(ctx.caller, compareRequest(params, false));
    ctx.record.result = { score: res.Score };
    return res;
  }));

  app.registry.register('iai', 'DetectFaceSimilarity', unbilledWhenNoFace(async (ctx, params) => {
    const res = await svc.detectFaceSimilarity(ctx.caller, compareRequest(params, false));
    ctx.record.result = { score: res.Score };
    return res;
  }));
}
