// Field types of the face-library actions, with Tencent's limits and error codes
// (iai_models.d.ts; reference notes §1.1).
import { Errors, TcError } from '../../domain/errors.ts';
import type { ImageInput } from '../../services/library/library-deps.ts';
import type { Field } from '../actions/define.ts';
import { displayText, field, int, num, optStr } from '../actions/fields.ts';

const ID_CHARS = /^[A-Za-z0-9\-%@#&_]+$/;
const absent = (v: unknown) => v === undefined || v === null;

function checkId(v: unknown, f: string, kind: 'GroupId' | 'PersonId'): string {
  if (absent(v) || v === '') throw Errors.missing(f);
  if (typeof v !== 'string') throw Errors.invalidParameter(f, 'must be a string');
  if (Buffer.byteLength(v) > 64) throw new TcError(`InvalidParameterValue.${kind}TooLong`, `${f}: at most 64 characters`);
  if (!ID_CHARS.test(v)) throw new TcError(`InvalidParameterValue.${kind}Illegal`, `${f}: only letters, digits and - % @ # & _ are allowed`);
  return v;
}

/** GroupId / PersonId (required): [A-Za-z0-9-%@#&_], at most 64 bytes. */
export const id = (kind: 'GroupId' | 'PersonId'): Field<string> => field((v, f) => checkId(v, f, kind));

/** GroupIds: 1..max group ids. */
export const groupIds = (max: number): Field<string[]> =>
  field((v, f) => {
    if (absent(v)) throw Errors.missing(f);
    if (!Array.isArray(v)) throw Errors.invalidParameter(f, 'must be an array of strings');
    if (v.length === 0) throw Errors.missing(f);
    if (v.length > max) throw new TcError('InvalidParameterValue.GroupIdsExceed', `${f}: at most ${max} groups, got ${v.length}`);
    return v.map((x, i) => {
      if (typeof x !== 'string') throw Errors.invalidParameter(`${f}[${i}]`, 'must be a string');
      return checkId(x, `${f}[${i}]`, 'GroupId');
    });
  });

/** GroupName / PersonName: display text of 1..max characters with Tencent's TooLong/Illegal codes. */
export function name(code: 'GroupName' | 'PersonName', max: number, required: true): Field<string>;
export function name(code: 'GroupName' | 'PersonName', max: number, required: false): Field<string | undefined>;
export function name(code: 'GroupName' | 'PersonName', max: number, required: boolean): Field<string | undefined> {
  return field((v, f) => {
    if (absent(v)) {
      if (required) throw Errors.missing(f);
      return undefined;
    }
    if (typeof v !== 'string') throw Errors.invalidParameter(f, 'must be a string');
    if (v.length === 0) throw new TcError(`InvalidParameterValue.${code}Illegal`, `${f}: must not be empty`);
    if ([...v].length > max) throw new TcError(`InvalidParameterValue.${code}TooLong`, `${f}: at most ${max} characters`);
    return displayText(v, f, `InvalidParameterValue.${code}Illegal`);
  });
}

export const tag = (): Field<string | undefined> => optStr({ max: 40, tooLong: 'InvalidParameterValue.GroupTagTooLong', illegal: 'InvalidParameterValue.GroupTagIllegal', display: true, allowEmpty: true });

function exName(x: unknown, f: string): string {
  if (typeof x !== 'string') throw Errors.invalidParameter(f, 'must be a string');
  if (x.length === 0) throw new TcError('InvalidParameterValue.GroupExDescriptionsNameIllegal', `${f}: must not be empty`);
  if ([...x].length > 30) throw new TcError('InvalidParameterValue.GroupExDescriptionsNameTooLong', `${f}: at most 30 characters`);
  return displayText(x, f, 'InvalidParameterValue.GroupExDescriptionsNameIllegal');
}


export const groupExDescriptions = (): Field<string[]> =>
  field((v, f) => {
    if (absent(v)) return [];
    if (!Array.isArray(v)) throw Errors.invalidParameter(f, 'must be an array of strings');
    if (v.length > 5) throw new TcError('InvalidParameterValue.GroupExDescriptionsExceed', `${f}: at most 5 fields`);
    const out = v.map((x, i) => exName(x, `${f}[${i}]`));
    if (new Set(out).size !== out.length) throw new TcError('InvalidParameterValue.GroupExDescriptionsNameIdentical', `${f}: field names must be unique`);
    return out;
  });

interface ExDescriptionShape {
  index: string; // ...ExDescriptionIndex
  value: string; // ...ExDescription
  exceedCode: string;
  identicalCode: string;
  readValue(x: unknown, field: string): string;
}

/** Both description lists: at most 5 entries, indices 0-4 each at most once, Tencent's codes per kind. */
function exDescriptionInfos(v: unknown, list: string, s: ExDescriptionShape): { index: number; value: string }[] | undefined {
  if (absent(v)) return undefined;
  if (!Array.isArray(v)) throw Errors.invalidParameter(list, 'must be an array');
  if (v.length > 5) throw new TcError(s.exceedCode, `${list}: at most 5 entries`);
  const seen = new Set<number>();
  return v.map((x, i) => {
    const f = `${list}[${i}]`;
    if (!x || typeof x !== 'object') throw Errors.invalidParameter(f, 'must be an object');
    const o = x as Record<string, unknown>;
    const index = o[s.index];
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 4) throw Errors.invalidValue(`${f}.${s.index}`, 'must be an integer in [0, 4]');
    if (seen.has(index)) throw new TcError(s.identicalCode, `${f}.${s.index}: ${index} appears twice`);
    seen.add(index);
    return { index, value: s.readValue(o[s.value], `${f}.${s.value}`) };
  });
}

export const groupExDescriptionInfos = (): Field<{ index: number; value: string }[] | undefined> =>
  field((v, f) => exDescriptionInfos(v, f, {
    index: 'GroupExDescriptionIndex', value: 'GroupExDescription',
    exceedCode: 'InvalidParameterValue.GroupExDescriptionsExceed', identicalCode: 'InvalidParameterValue.GroupExDescriptionsNameIdentical',
    readValue: exName,
  }));

export const personExDescriptionInfos = (): Field<{ index: number; value: string }[]> =>
  field((v, f) => exDescriptionInfos(v, f, {
    index: 'PersonExDescriptionIndex', value: 'PersonExDescription',
    exceedCode: 'InvalidParameterValue.PersonExDescriptionInfosExceed', identicalCode: 'InvalidParameterValue.PersonExDescriptionsNameIdentical',
    readValue: (value, vf) => {
      if (typeof value !== 'string') throw Errors.invalidParameter(vf, 'must be a string');
      if ([...value].length > 60) throw new TcError('InvalidParameterValue.PersonExDescriptionsNameTooLong', `${vf}: at most 60 characters`);
      return displayText(value, vf, 'InvalidParameterValue.PersonExDescriptionsNameIllegal');
    },
  }) ?? []);

export const gender = (): Field<number | undefined> =>
  field((v, f) => {
    if (absent(v)) return undefined;
    if (v !== 0 && v !== 1 && v !== 2) throw new TcError('InvalidParameterValue.PersonGenderIllegal', `${f}: 0 (unset), 1 (male) or 2 (female)`);
    return v;
  });

export const offset = () => int(0, { min: 0, code: 'InvalidParameterValue.OffsetExceed' });
export const limit = (def: number, max: number) => int(def, { min: 1, max, code: 'InvalidParameterValue.LimitExceed' });
export const qualityControl = () => int(0, { min: 0, max: 4, code: 'InvalidParameterValue.QualityControlIllegal' });
export const threshold = (def: number, maxExclusive = false) => num(def, { min: 0, max: 100, maxExclusive, code: 'InvalidParameterValue.FaceMatchThresholdIllegal' });

/** Image and Url of one request as the library's ImageInput; one of them is required. */
export function imageInput(r: { Image?: string; Url?: string }): ImageInput {
  if (!r.Image && !r.Url) throw new TcError('InvalidParameterValue.ImageEmpty', 'Image or Url is required');
  return { Image: r.Image || undefined, Url: r.Url || undefined };
}

/** Images/Urls of CreateFace (Url wins over Image throughout Tencent's API). */
export const imageList = (): Field<string[]> =>
  field((v, f) => {
    if (absent(v)) return [];
    if (!Array.isArray(v)) throw Errors.invalidParameter(f, 'must be an array of strings');
    return v.map((x, i) => {
      if (typeof x !== 'string' || !x) throw Errors.invalidParameter(`${f}[${i}]`, 'must be a non-empty string');
      return x;
    });
  });

export function imageInputs(r: { Images: string[]; Urls: string[] }): ImageInput[] {
  if (r.Urls.length) return r.Urls.map((Url) => ({ Url }));
  if (r.Images.length) return r.Images.map((Image) => ({ Image }));
  throw new TcError('InvalidParameterValue.ImageEmpty', 'Images or Urls is required');
}

/** FaceModelVersion as given ('' or absent = the action's default). */
export const faceModelVersion = (def: string): Field<string> =>
  field((v, f) => {
    if (absent(v) || v === '') return def;
    if (typeof v !== 'string') throw Errors.invalidParameter(f, 'must be a string');
    return v;
  });

/** FaceIds of DeleteFace: a non-empty list of strings. */
export const faceIds = (): Field<string[]> =>
  field((v, f) => {
    if (absent(v) || (Array.isArray(v) && !v.length)) throw new TcError('MissingParameter', `${f} is required (an array of FaceId strings)`);
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new TcError('InvalidParameter', `${f}: must be an array of strings`);
    return v as string[];
  });
