// facefusion's nested request structures (MergeInfos, FaceRect, LogoParam, FuseParam,
// FusionUltraParam) and the privacy and upload fields of its actions, as field types with
// Tencent's codes. Nested names are dotted (`MergeInfos.0.Image`), as the service's own
// messages name them (docs/API.md).
import { Errors, TcError } from '../../domain/errors.ts';
import { requireImage, type UltraRatios } from '../../services/fusion/fusion-calls.ts';
import type { ImageInput, LogoRequest, MergeRequest, Rect } from '../../services/fusion/fusion.ts';
import type { Field } from '../actions/define.ts';
import { field, obj, onlyKeys } from '../actions/fields.ts';
import { endUserId, parentalConsent } from './privacy-fields.ts';
import { isSpooledPart, type SpooledPart } from '../protocol/multipart.ts';

type P = Record<string, unknown>;
const absent = (v: unknown) => v === undefined || v === null;

/** A string member of a nested object; '' counts as absent. */
export function text(o: P, k: string, field: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
  const v = o[k];
  if (absent(v) || v === '') {
    if (opts.required) throw Errors.missing(field);
    return undefined;
  }
  if (typeof v !== 'string') throw Errors.invalidParameter(field, 'must be a string');
  if (opts.max !== undefined && [...v].length > opts.max) throw Errors.invalidValue(field, `at most ${opts.max} characters`);
  return v;
}

export function object(v: unknown, field: string): P | undefined {
  if (absent(v)) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw Errors.invalidParameter(field, 'must be an object');
  return v as P;
}

export function array(v: unknown, field: string): unknown[] | undefined {
  if (absent(v)) return undefined;
  if (!Array.isArray(v)) throw Errors.invalidParameter(field, 'must be an array');
  return v;
}

const RECT_CODE = 'InvalidParameterValue.FaceRectParameterValueError';

/** A FaceRect (X, Y, Width, Height); LogoRect allows negative X/Y (from the right/bottom edge). */
export function rect(v: unknown, field: string, minSide: number, maxSide = 100_000, allowNegative = false): Rect | undefined {
  const p = object(v, field);
  if (!p) return undefined;
  onlyKeys(p, field, ['X', 'Y', 'Width', 'Height']);
  const r: number[] = [];
  for (const k of ['X', 'Y', 'Width', 'Height']) {
    const n = p[k];
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new TcError(RECT_CODE, `${field}.${k}: must be a number`);
    r.push(n);
  }
  const [x, y, width, height] = r;
  if ((!allowNegative && (x < 0 || y < 0)) || width < minSide || height < minSide || width > maxSide || height > maxSide) {
    throw new TcError(RECT_CODE, `${field}: X and Y must be${allowNegative ? '' : ' ≥ 0'} and Width/Height between ${minSide} and ${maxSide}`);
  }
  return { x, y, width, height };
}

/** A nested Image/Url pair: one is required, the URL wins. */
export function image(o: P, imageKey: string, urlKey: string, field: string): ImageInput {
  return requireImage({ url: text(o, urlKey, `${field}.${urlKey}`), image: text(o, imageKey, `${field}.${imageKey}`) }, field, imageKey, urlKey);
}

/**
 * MergeInfos: 1 to 6 user faces. TemplateFaceRect picks the template face it covers (FuseFace:
 * in the material, when no TemplateFaceID is given; FuseFaceUltra: in ModelImage). facefusion
 * 2018-12-01's MergeInfo has no TemplateFaceRect at all (`withTemplateRect` false: UnknownParameter).
 */
export const mergeInfos = (_ultra: boolean, withTemplateRect = true): Field<MergeRequest[]> =>
  field((v, name) => {
    if (absent(v)) throw Errors.missing(name);
    const list = array(v, name)!;
    if (list.length < 1 || list.length > 6) throw Errors.invalidValue(name, `must hold 1 to 6 entries, got ${list.length}`);
    return list.map((entry, i) => {
      const f = `${name}.${i}`;
      const m = object(entry, f);
      if (!m) throw Errors.invalidParameter(f, 'must be an object');
      onlyKeys(m, f, withTemplateRect ? ['Image', 'Url', 'InputImageFaceRect', 'TemplateFaceID', 'TemplateFaceRect'] : ['Image', 'Url', 'InputImageFaceRect', 'TemplateFaceID']);
      return {
        input: image(m, 'Image', 'Url', f),
        faceRect: rect(m.InputImageFaceRect, `${f}.InputImageFaceRect`, 30),
        templateFaceId: text(m, 'TemplateFaceID', `${f}.TemplateFaceID`, { max: 64 }),
        templateFaceRect: withTemplateRect ? rect(m.TemplateFaceRect, `${f}.TemplateFaceRect`, 30) : undefined,
      };
    });
  });

/** RspImgType: required, "url" or "base64". */
export const rspImgType = (): Field<'url' | 'base64'> =>
  field((v, name) => {
    if (absent(v) || v === '') throw Errors.missing(name);
    if (typeof v !== 'string') throw Errors.invalidParameter(name, 'must be a string');
    if (v !== 'url' && v !== 'base64') throw Errors.invalidValue(name, `must be "url" or "base64", got "${v}"`);
    return v;
  });

/** LogoParam: where the logo goes (LogoRect, required) and the logo image. */
export const logoParam = (): Field<LogoRequest | undefined> =>
  obj((lp, name) => {
    onlyKeys(lp, name, ['LogoRect', 'LogoUrl', 'LogoImage']);
    if (absent(lp.LogoRect)) throw Errors.missing(`${name}.LogoRect`);
    return { rect: rect(lp.LogoRect, `${name}.LogoRect`, 1, 2160, true)!, input: image(lp, 'LogoImage', 'LogoUrl', name) };
  });

/** FuseParam.ImageCodecParam.MetaData: at most one key/value written into the result's XMP. */
export const fuseParam = (): Field<{ key: string; value: string }[] | undefined> =>
  obj((fp, name) => {
    onlyKeys(fp, name, ['ImageCodecParam']);
    const icpName = `${name}.ImageCodecParam`;
    const icp = object(fp.ImageCodecParam, icpName);
    if (!icp) return [];
    onlyKeys(icp, icpName, ['MetaData']);
    const mdName = `${icpName}.MetaData`;
    const md = array(icp.MetaData, mdName) ?? [];
    if (md.length > 1) throw Errors.invalidValue(mdName, 'may hold at most 1 entry');
    return md.map((e, i) => {
      const f = `${mdName}.${i}`;
      const o = object(e, f);
      if (!o) throw Errors.invalidParameter(f, 'must be an object');
      onlyKeys(o, f, ['MetaKey', 'MetaValue']);
      return { key: text(o, 'MetaKey', `${f}.MetaKey`, { required: true, max: 32 })!, value: text(o, 'MetaValue', `${f}.MetaValue`, { required: true, max: 256 })! };
    });
  });

const RATIOS = { WarpRadio: 0.7, EnhanceRadio: 0.5, MpRadio: 0.5, BlurRadio: 0, TeethEnhanceRadio: 1, MakeupTransferRadio: 0 };

/** FusionUltraParam's ratios, each from 0 to 1; absent ones take Tencent's defaults. */
export function ultraRatios(up: P, name = 'FusionUltraParam'): UltraRatios {
  onlyKeys(up, name, Object.keys(RATIOS));
  const ratio = (k: keyof typeof RATIOS) => {
    const v = up[k];
    if (absent(v)) return RATIOS[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new TcError('InvalidParameterValue.ParameterValueError', `${name}.${k}: must be a number from 0 to 1`);
    return v;
  };
  const warp = ratio('WarpRadio'), enhance = ratio('EnhanceRadio'), mp = ratio('MpRadio');
  // No blur or teeth-enhancement stage exists here: a value asking for one is refused rather than
  // silently ignored; the values meaning "none" (BlurRadio 0 — Tencent: "not supported yet" — and
  // TeethEnhanceRadio 0) and absent ones pass (docs/API.md).
  if (ratio('BlurRadio') !== 0) throw new TcError('UnsupportedOperation', `${name}.BlurRadio: blurring is not supported (Tencent documents it as not supported yet either); omit it or send 0`);
  if (up.TeethEnhanceRadio !== undefined && up.TeethEnhanceRadio !== null && ratio('TeethEnhanceRadio') !== 0) {
    throw new TcError('UnsupportedOperation', `${name}.TeethEnhanceRadio: teeth enhancement is not available on this server; omit it or send 0`);
  }
  return { warp, enhance, mp, makeup: ratio('MakeupTransferRadio') };
}

export const fusionUltraParam = (): Field<UltraRatios> => field((v, name) => ultraRatios(object(v, name) ?? {}, name));

/** The privacy extension fields fusion takes (docs/API.md "Privacy fields"). */
export const FUSION_PRIVACY_PARAMS = {
  EndUserId: endUserId(),
  ParentalConsent: parentalConsent(),
};

/** CreateMaterial's Image: base64 text, or the bytes of a multipart file part. */
export const materialImage = (): Field<Buffer | SpooledPart | string | undefined> =>
  field((v, name) => {
    if (absent(v) || v === '') return undefined;
    if (Buffer.isBuffer(v) || isSpooledPart(v)) return v;
    if (typeof v !== 'string') throw Errors.invalidParameter(name, 'must be a string (base64) or a multipart file part');
    return v;
  });
