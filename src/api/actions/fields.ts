// The field types every action declaration is built from. Each one parses one wire field and
// throws Tencent's code for it, so the same mistake gets the same code in every action: an
// absent required field is MissingParameter, a wrong JSON type InvalidParameter, a value out
// of range InvalidParameterValue (or the action's own sub-code where Tencent has one).
import { z } from 'zod';
import { Errors, TcError } from '../../domain/errors.ts';
import type { Field } from './define.ts';

/** Wraps a parse function (undefined = absent) as a zod field; TcErrors become issues carrying the code. */
export function field<T>(fn: (v: unknown, name: string) => T): Field<T> {
  return (name) =>
    z.unknown().optional().transform((v, ctx) => {
      try {
        return fn(v, name);
      } catch (e) {
        if (!(e instanceof TcError)) throw e;
        ctx.addIssue({ code: 'custom', message: e.message, params: { tc: e.code } });
        return z.NEVER;
      }
    }) as unknown as z.ZodType<T, unknown>;
}

const absent = (v: unknown) => v === undefined || v === null;

// Bidi overrides/isolates and marks, zero-width and BOM characters, C0/C1 controls and DEL:
// names are shown in consoles and lists, where these spoof what a reader sees.
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;

export interface StrOpts {
  max?: number; // in characters (code points), as Tencent counts
  maxBytes?: number;
  /** Code for a value that is too long (default InvalidParameterValue). */
  tooLong?: string;
  /** Code for an empty or malformed value. */
  illegal?: string;
  pattern?: RegExp;
  patternText?: string;
  allowEmpty?: boolean;
  /** Display text (names, tags, descriptions): refuses control and bidi characters. */
  display?: boolean;
}

/** Refuses control and bidi characters in display text. */
export function displayText(v: string, name: string, code = 'InvalidParameterValue'): string {
  if (UNSAFE_TEXT.test(v)) throw new TcError(code, `${name}: control, bidirectional-override and zero-width characters are not allowed`);
  return v;
}

function checkStr(v: string, name: string, o: StrOpts): string {
  const illegal = o.illegal ?? 'InvalidParameterValue';
  if (!o.allowEmpty && v === '') throw new TcError(illegal, `${name}: must not be empty`);
  if (o.max !== undefined && [...v].length > o.max) throw new TcError(o.tooLong ?? 'InvalidParameterValue', `${name}: at most ${o.max} characters`);
  if (o.maxBytes !== undefined && Buffer.byteLength(v) > o.maxBytes) throw new TcError(o.tooLong ?? 'InvalidParameterValue', `${name}: at most ${o.maxBytes} bytes`);
  if (o.pattern && v !== '' && !o.pattern.test(v)) throw new TcError(illegal, `${name}: ${o.patternText ?? 'has characters that are not allowed'}`);
  return o.display ? displayText(v, name, illegal) : v;
}

/** A required string. */
export const str = (o: StrOpts = {}): Field<string> =>
  field((v, name) => {
    if (absent(v)) throw Errors.missing(name);
    if (typeof v !== 'string') throw Errors.invalidParameter(name, 'must be a string');
    return checkStr(v, name, o);
  });

/** An optional string; '' counts as absent unless allowEmpty. */
export const optStr = (o: StrOpts = {}): Field<string | undefined> =>
  field((v, name) => {
    if (absent(v)) return undefined;
    if (typeof v !== 'string') throw Errors.invalidParameter(name, 'must be a string');
    if (v === '' && !o.allowEmpty) return undefined;
    return checkStr(v, name, o);
  });

export interface IntOpts { min?: number; max?: number; code?: string; values?: readonly number[] }

function checkInt(v: unknown, name: string, o: IntOpts): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw Errors.invalidParameter(name, 'must be an integer');
  if (o.values && !o.values.includes(v)) throw new TcError(o.code ?? 'InvalidParameterValue', `${name}: must be one of ${o.values.join(', ')}, got ${v}`);
  const min = o.min ?? Number.MIN_SAFE_INTEGER, max = o.max ?? Number.MAX_SAFE_INTEGER;
  if (v < min || v > max) throw new TcError(o.code ?? 'InvalidParameterValue', `${name}: must be in [${min}, ${max}], got ${v}`);
  return v;
}

/** An integer with a default when absent. */
export const int = (def: number, o: IntOpts = {}): Field<number> => field((v, name) => (absent(v) ? def : checkInt(v, name, o)));
/** A required integer. */
export const reqInt = (o: IntOpts = {}): Field<number> =>
  field((v, name) => {
    if (absent(v)) throw Errors.missing(name);
    return checkInt(v, name, o);
  });
/** An optional integer (undefined when absent). */
export const optInt = (o: IntOpts = {}): Field<number | undefined> => field((v, name) => (absent(v) ? undefined : checkInt(v, name, o)));

/** A finite number with a default and an inclusive (or upper-exclusive) range. */
export const num = (def: number, o: { min: number; max: number; maxExclusive?: boolean; code?: string }): Field<number> =>
  field((v, name) => {
    if (absent(v)) return def;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw Errors.invalidParameter(name, 'must be a number');
    if (v < o.min || v > o.max || (o.maxExclusive && v === o.max)) {
      throw new TcError(o.code ?? 'InvalidParameterValue', `${name}: must be a number in [${o.min}, ${o.max}${o.maxExclusive ? ')' : ']'}`);
    }
    return v;
  });

/**
 * Tencent's 0/1 `Need*` flags: an integer, where 1 means yes and any other integer no (its
 * documented rule); other JSON types are refused rather than guessed at.
 */
export const flag = (): Field<boolean> =>
  field((v, name) => {
    if (absent(v)) return false;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw Errors.invalidParameter(name, 'must be an integer (1 = yes, 0 = no)');
    return v === 1;
  });

/** One of a set of strings (enums such as Granularity). */
export const oneOf = <T extends string>(values: readonly T[], def?: T): Field<T | undefined> =>
  field((v, name) => {
    if (absent(v) || v === '') return def;
    if (typeof v !== 'string') throw Errors.invalidParameter(name, 'must be a string');
    if (!values.includes(v as T)) throw Errors.invalidValue(name, `must be one of ${values.map((x) => `"${x}"`).join(', ')}, got "${v}"`);
    return v as T;
  });

/** A list of items parsed by `item` (its name is Field[i]); optional unless min > 0. */
export function list<T>(item: (v: unknown, name: string) => T, o: { min?: number; max?: number; tooMany?: string; empty?: string } = {}): Field<T[]> {
  return field((v, name) => {
    if (absent(v)) {
      if (o.min) throw Errors.missing(name);
      return [];
    }
    if (!Array.isArray(v)) throw Errors.invalidParameter(name, 'must be an array');
    if (o.min && v.length < o.min) throw o.empty ? new TcError(o.empty, `${name}: must not be empty`) : Errors.missing(name);
    if (o.max !== undefined && v.length > o.max) throw new TcError(o.tooMany ?? 'InvalidParameterValue', `${name}: at most ${o.max} entries, got ${v.length}`);
    return v.map((x, i) => item(x, `${name}[${i}]`));
  });
}

/** A JSON object field parsed as a whole by `fn` (nested structures with their own codes). */
export const obj = <T>(fn: (o: Record<string, unknown>, name: string) => T): Field<T | undefined> =>
  field((v, name) => {
    if (absent(v)) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw Errors.invalidParameter(name, 'must be an object');
    return fn(v as Record<string, unknown>, name);
  });

/** Rejects keys of a nested object that are not listed (Tencent: UnknownParameter). */
export function onlyKeys(o: Record<string, unknown>, name: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new TcError('UnknownParameter', `${name}.${k} is not a field of ${name} (${allowed.join(', ')})`);
}

/** A value of any JSON type, handed to the handler as is (the service validates it). */
export const raw = (): Field<unknown> => field((v) => v);
