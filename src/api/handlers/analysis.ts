// iai DetectFaceAttributes, AnalyzeFace, AnalyzeDenseLandmarks, DetectLiveFaceAccurate.
// Image input here covers the base64 `Image` parameter with Tencent's size limits; the `Url`
// path belongs to services/image-input.ts and is refused until that service is wired in.
import type { App } from '../../app.ts';
import type { ActionHandler, CallContext } from '../actions.ts';
import { Errors, TcError } from '../errors.ts';
import { AnalysisService, parseAttributeTypes, type FaceEngine } from '../../services/analysis.ts';
import type { AnalysisResult, AnalyzeOptions, RgbImage } from '../../vision/types.ts';
import type { DecodeLimits } from '../../vision/image-decode.ts';

const MAX_BASE64 = 5 * 1024 * 1024;
const LIMITS: DecodeLimits = { maxLongEdgeJpeg: 4000, maxLongEdge: 2000, minShortEdge: 64 };
const IMAGE_ERROR_CODES: Record<string, string> = {
  decode: 'FailedOperation.ImageDecodeFailed',
  format: 'FailedOperation.ImageDecodeFailed',
  too_large_bytes: 'FailedOperation.ImageSizeExceed',
  too_large_pixels: 'FailedOperation.ImageResolutionExceed',
  too_small: 'FailedOperation.ImageResolutionTooSmall',
};

/** In-process analyzer with every task, loaded on first use (the worker pool replaces it once wired into the app). */
function inProcessEngine(): FaceEngine {
  let ready: Promise<{ analyze(img: RgbImage, o: AnalyzeOptions): Promise<AnalysisResult> }> | null = null;
  return {
    async analyze(input, opts) {
      ready ??= import('../../vision/face-analyzer.ts').then((m) => m.FaceAnalyzer.load());
      const analyzer = await ready;
      const { limits, ...o } = opts;
      let img: RgbImage;
      if (input instanceof Uint8Array) {
        const { decodeImage } = await import('../../vision/image-decode.ts');
        img = await decodeImage(input, limits);
      } else img = input;
      return analyzer.analyze(img, o);
    },
  };
}

function imageBytes(params: Record<string, unknown>): Uint8Array {
  if (params.Url !== undefined && params.Url !== '') {
    throw new TcError('FailedOperation.ImageDownloadError', 'Url: image download is not available for this action yet; send the image as base64 in Image');
  }
  const b64 = params.Image;
  if (b64 === undefined || b64 === '') throw new TcError('FailedOperation.ImageEmpty', 'Image or Url is required');
  if (typeof b64 !== 'string') throw Errors.invalidParameter('Image', 'must be a base64 string');
  if (b64.length > MAX_BASE64) throw new TcError('FailedOperation.ImageSizeExceed', 'Image: base64 data exceeds 5 MB');
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 0) throw new TcError('FailedOperation.ImageDecodeFailed', 'Image: not valid base64 image data');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkVersion(params: Record<string, unknown>, allowed: string[]): void {
  const v = params.FaceModelVersion;
  if (v === undefined || v === '') return;
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new TcError('InvalidParameterValue.FaceModelVersionIllegal', `FaceModelVersion: must be ${allowed.map((a) => `"${a}"`).join(' or ')}`);
  }
}

function mode(params: Record<string, unknown>): 0 | 1 {
  const m = params.Mode ?? 0;
  if (m !== 0 && m !== 1) throw Errors.invalidValue('Mode', 'must be 0 (all faces) or 1 (the largest face)');
  return m;
}

function int(params: Record<string, unknown>, name: string, def: number, min: number, max: number): number {
  const v = params[name] ?? def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw Errors.invalidValue(name, `must be an integer in [${min}, ${max}]`);
  return v;
}

/** Runs a service call, mapping image errors to Tencent's codes and unbilling "no face". */
function wrap(fn: (ctx: CallContext, params: Record<string, unknown>) => Promise<Record<string, unknown>>): ActionHandler {
  return async (ctx, params) => {
    try {
      return await fn(ctx, params);
    } catch (e) {
      const kind = (e as { kind?: string }).kind;
      if (e instanceof Error && e.name === 'ImageError' && kind && IMAGE_ERROR_CODES[kind]) throw new TcError(IMAGE_ERROR_CODES[kind], e.message);
      if (e instanceof TcError && e.code === 'FailedOperation.ImageFacedetectFailed') ctx.record.billed = false;
      throw e;
    }
  };
}

export function registerAnalysis(app: App, engine: FaceEngine = inProcessEngine()): void {
  const svc = new AnalysisService(engine, LIMITS);
  app.registry.register('iai', 'DetectFaceAttributes', wrap(async (ctx, p) => {
    checkVersion(p, ['3.0']);
    const maxFaceNum = int(p, 'MaxFaceNum', 1, 1, 120);
    const types = p.FaceAttributesType;
    if (types !== undefined && typeof types !== 'string') throw Errors.invalidParameter('FaceAttributesType', 'must be a comma-separated string');
    return svc.detectFaceAttributes(ctx.caller, { image: imageBytes(p), maxFaceNum, types: parseAttributeTypes(types) });
  }));
  app.registry.register('iai', 'AnalyzeFace', wrap(async (ctx, p) => {
    checkVersion(p, ['2.0', '3.0']);
    return svc.analyzeFace(ctx.caller, imageBytes(p), mode(p));
  }));
  app.registry.register('iai', 'AnalyzeDenseLandmarks', wrap(async (ctx, p) => {
    checkVersion(p, ['3.0']);
    return svc.analyzeDenseLandmarks(ctx.caller, imageBytes(p), mode(p));
  }));
  app.registry.register('iai', 'DetectLiveFaceAccurate', wrap(async (ctx, p) => {
    checkVersion(p, ['3.0']);
    return svc.detectLiveFaceAccurate(ctx.caller, imageBytes(p));
  }));
}
