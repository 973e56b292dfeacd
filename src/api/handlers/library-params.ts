// Request validation for the face-library actions, with Tencent's limits and error codes
// (iai_models.d.ts; reference notes §1.1). Validation happens before any write, so a bad
// request changes nothing.
import { Errors, TcError } from '../../domain/errors.ts';
import type { ImageInput } from '../../services/library/library-deps.ts';

type P = Record<string, unknown>;
const ID_CHARS = /^[A-Za-z0-9\-%@#&_]+$/;

function present(p: P, f: string): boolean {
  return p[f] !== undefined && p[f] !== null;
}

function text(p: P, f: string): string | undefined {
  if (!present(p, f)) return undefined;
  if (typeof p[f] !== 'string') throw Errors.invalidParameter(f, 'must be a string');
  return p[f] as string;
}

/** GroupId / PersonId: [A-Za-z0-9-%@#&_], at most 64 bytes. */
export function id(p: P, f: 'GroupId' | 'PersonId', required = true): string {
  const v = text(p, f);
  if (v === undefined || v === '') {
    if (required) throw Errors.missing(f);
    return '';
  }
  if (Buffer.byteLength(v) > 64) throw new TcError(`InvalidParameterValue.${f}TooLong`, `${f}: at most 64 characters`);
  if (!ID_CHARS.test(v)) throw new TcError(`InvalidParameterValue.${f}Illegal`, `${f}: only letters, digits and - % @ # & _ are allowed`);
  return v;
}

export function idList(p: P, f: 'GroupIds', max: number): string[] {
  const v = p[f];
  if (v === undefined || v === null) throw Errors.missing(f);
  if (!Array.isArray(v)) throw Errors.invalidParameter(f, 'must be an array of strings');
  if (v.length === 0) throw Errors.missing(f);
  if (v.length > max) throw new TcError('InvalidParameterValue.GroupIdsExceed', `${f}: at most ${max} groups, got ${v.length}`);
  return v.map((x, i) => id({ GroupId: x }, 'GroupId') && checkElem(x, `${f}[${i}]`));
}

function checkElem(x: unknown, name: string): string {
  if (typeof x !== 'string') throw Errors.invalidParameter(name, 'must be a string');
  return x;
}

/** A name of 1..max characters, with Tencent's TooLong/Illegal codes. */
export function name(p: P, f: string, code: string, max: number, required: boolean): string | undefined {
  const v = text(p, f);
  if (v === undefined) {
    if (required) throw Errors.missing(f);
    return undefined;
  }
  if (v.length === 0) throw new TcError(`InvalidParameterValue.${code}Illegal`, `${f}: must not be empty`);
  if ([...v].length > max) throw new TcError(`InvalidParameterValue.${code}TooLong`, `${f}: at most ${max} characters`);
  return v;
}

export function tag(p: P): string | undefined {
  const v = text(p, 'Tag');
  if (v !== undefined && [...v].length > 40) throw new TcError('InvalidParameterValue.GroupTagTooLong', 'Tag: at most 40 characters');
  return v;
}

export function groupExDescriptions(p: P): string[] {
  const v = p.GroupExDescriptions;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw Errors.invalidParameter('GroupExDescriptions', 'must be an array of strings');
  if (v.length > 5) throw new TcError('InvalidParameterValue.GroupExDescriptionsExceed', 'GroupExDescriptions: at most 5 fields');
  const out = v.map((x, i) => exName(x, `GroupExDescriptions[${i}]`));
  if (new Set(out).size !== out.length) throw new TcError('InvalidParameterValue.GroupExDescriptionsNameIdentical', 'GroupExDescriptions: field names must be unique');
  return out;
}

function exName(x: unknown, f: string): string {
  if (typeof x !== 'string') throw Errors.invalidParameter(f, 'must be a string');
  if (x.length === 0) throw new TcError('InvalidParameterValue.GroupExDescriptionsNameIllegal', `${f}: must not be empty`);
  if ([...x].length > 30) throw new TcError('InvalidParameterValue.GroupExDescriptionsNameTooLong', `${f}: at most 30 characters`);
  return x;
}

interface ExDescriptionShape {
  list: string; // GroupExDescriptionInfos / PersonExDescriptionInfos
  index: string; // ...ExDescriptionIndex
  value: string; // ...ExDescription
  exceedCode: string;
  identicalCode: string;
  readValue(x: unknown, field: string): string;
}

/** Both description lists: at most 5 entries, indices 0-4 each at most once, Tencent's codes per kind. */
function exDescriptionInfos(p: P, s: ExDescriptionShape): { index: number; value: string }[] | undefined {
  const v = p[s.list];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw Errors.invalidParameter(s.list, 'must be an array');
  if (v.length > 5) throw new TcError(s.exceedCode, `${s.list}: at most 5 entries`);
  const seen = new Set<number>();
  return v.map((x, i) => {
    const f = `${s.list}[${i}]`;
    if (!x || typeof x !== 'object') throw Errors.invalidParameter(f, 'must be an object');
    const o = x as P;
    const index = o[s.index];
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 4) throw Errors.invalidValue(`${f}.${s.index}`, 'must be an integer in [0, 4]');
    if (seen.has(index)) throw new TcError(s.identicalCode, `${f}.${s.index}: ${index} appears twice`);
    seen.add(index);
    return { index, value: s.readValue(o[s.value], `${f}.${s.value}`) };
  });
}

export function groupExDescriptionInfos(p: P): { index: number; value: string }[] | undefined {
  return exDescriptionInfos(p, {
    list: 'GroupExDescriptionInfos', index: 'GroupExDescriptionIndex', value: 'GroupExDescription',
    exceedCode: 'InvalidParameterValue.GroupExDescriptionsExceed', identicalCode: 'InvalidParameterValue.GroupExDescriptionsNameIdentical',
    readValue: exName,
  });
}

export function personExDescriptionInfos(p: P): { index: number; value: string }[] {
  return exDescriptionInfos(p, {
    list: 'PersonExDescriptionInfos', index: 'PersonExDescriptionIndex', value: 'PersonExDescription',
    exceedCode: 'InvalidParameterValue.PersonExDescriptionInfosExceed', identicalCode: 'InvalidParameterValue.PersonExDescriptionsNameIdentical',
    readValue: (value, f) => {
      if (typeof value !== 'string') throw Errors.invalidParameter(f, 'must be a string');
      if ([...value].length > 60) throw new TcError('InvalidParameterValue.PersonExDescriptionsNameTooLong', `${f}: at most 60 characters`);
      return value;
    },
  }) ?? [];
}

/** An integer field with a default, a range and the code for out-of-range values. */
export function int(p: P, f: string, def: number, min: number, max: number, code = 'InvalidParameterValue'): number {
  if (!present(p, f)) return def;
  const v = p[f];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw Errors.invalidParameter(f, 'must be an integer');
  if (v < min || v > max) throw new TcError(code, `${f}: must be in [${min}, ${max}], got ${v}`);
  return v;
}

export function gender(p: P): number | undefined {
  if (!present(p, 'Gender')) return undefined;
  const v = p.Gender;
  if (v !== 0 && v !== 1 && v !== 2) throw new TcError('InvalidParameterValue.PersonGenderIllegal', 'Gender: 0 (unset), 1 (male) or 2 (female)');
  return v;
}

export function offsetLimit(p: P, defLimit: number, maxLimit: number): { offset: number; limit: number } {
  const offset = int(p, 'Offset', 0, 0, Number.MAX_SAFE_INTEGER, 'InvalidParameterValue.OffsetExceed');
  const limit = int(p, 'Limit', defLimit, 1, maxLimit, 'InvalidParameterValue.LimitExceed');
  return { offset, limit };
}

export function qualityControl(p: P): number {
  return int(p, 'QualityControl', 0, 0, 4, 'InvalidParameterValue.QualityControlIllegal');
}

export function threshold(p: P, def: number, maxExclusive = false): number {
  if (!present(p, 'FaceMatchThreshold')) return def;
  const v = p.FaceMatchThreshold;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100 || (maxExclusive && v === 100)) {
    throw new TcError('InvalidParameterValue.FaceMatchThresholdIllegal', `FaceMatchThreshold: must be a number in [0, 100${maxExclusive ? ')' : ']'}`);
  }
  return v;
}

/** 0/1 flags: Tencent treats values other than 0 and 1 as 0. */
export function flag(p: P, f: string): boolean {
  return p[f] === 1;
}

export function image(p: P): ImageInput {
  const img = p.Image, url = p.Url;
  if ((img === undefined || img === '' || img === null) && (url === undefined || url === '' || url === null)) throw new TcError('InvalidParameterValue.ImageEmpty', 'Image or Url is required');
  if (img !== undefined && img !== null && typeof img !== 'string') throw Errors.invalidParameter('Image', 'must be a base64 string');
  if (url !== undefined && url !== null && typeof url !== 'string') throw Errors.invalidParameter('Url', 'must be a string');
  return { Image: img || undefined, Url: url || undefined };
}

export function images(p: P): ImageInput[] {
  const urls = p.Urls, imgs = p.Images;
  // Url wins over Image throughout Tencent's API.
  const pick = Array.isArray(urls) && urls.length ? { f: 'Urls', list: urls, url: true } : Array.isArray(imgs) && imgs.length ? { f: 'Images', list: imgs, url: false } : null;
  if (urls !== undefined && urls !== null && !Array.isArray(urls)) throw Errors.invalidParameter('Urls', 'must be an array of strings');
  if (imgs !== undefined && imgs !== null && !Array.isArray(imgs)) throw Errors.invalidParameter('Images', 'must be an array of strings');
  if (!pick) throw new TcError('InvalidParameterValue.ImageEmpty', 'Images or Urls is required');
  return pick.list.map((x, i) => {
    if (typeof x !== 'string' || !x) throw Errors.invalidParameter(`${pick.f}[${i}]`, 'must be a non-empty string');
    return pick.url ? { Url: x } : { Image: x };
  });
}

export function faceModelVersion(p: P, def: string): string {
  const v = text(p, 'FaceModelVersion');
  return v === undefined || v === '' ? def : v;
}
