// Parameters sent as a query string (GET) or an x-www-form-urlencoded body (v1): the SDKs
// flatten nested values as `A.0.B=x` (abstract_client.js mergeData) and every value arrives as
// a string. They are rebuilt into the object a JSON body would give, and their types come from
// the action's declaration: a leaf the declaration wants as a number (or boolean) is converted
// when, and only when, the declaration refuses the string — so an ID such as PersonId "123"
// stays a string, and "12" for MaxFaceNum becomes 12.
import { TcError } from '../../domain/errors.ts';

/** More keys than any action takes; a bound on the work a hostile query can cause. */
export const MAX_FORM_FIELDS = 2000;
const MAX_DEPTH = 8;
const MAX_INDEX = 10_000;

/** A leaf still in its wire (string) form; converted in place by parseFormParams. */
export type FormTree = { [k: string]: FormTree | string } | (FormTree | string)[];

export function formFields(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  let n = 0;
  for (const [k, v] of new URLSearchParams(text)) {
    if (++n > MAX_FORM_FIELDS) throw new TcError('InvalidParameter', `the request has more than ${MAX_FORM_FIELDS} parameters`);
    if (k in out) throw new TcError('InvalidParameter', `${k.slice(0, 64)}: given more than once`);
    out[k] = v;
  }
  return out;
}

/** `A.0.B=x` -> { A: [ { B: 'x' } ] }. Objects whose keys are all indexes 0..n-1 become arrays. */
export function unflatten(fields: Record<string, string>): Record<string, unknown> {
  const root: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(fields)) {
    const parts = key.split('.');
    if (parts.length > MAX_DEPTH || parts.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) {
      throw new TcError('InvalidParameter', `${key.slice(0, 64)}: not a valid parameter name`);
    }
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = node[parts[i]];
      if (typeof next === 'string') throw new TcError('InvalidParameter', `${parts.slice(0, i + 1).join('.')}: given both as a value and as a structure`);
      node = (next as Record<string, unknown>) ?? (node[parts[i]] = Object.create(null));
    }
    const last = parts[parts.length - 1];
    if (typeof node[last] === 'object') throw new TcError('InvalidParameter', `${key.slice(0, 64)}: given both as a value and as a structure`);
    node[last] = value;
  }
  return toArrays(root) as Record<string, unknown>;
}

function toArrays(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  for (const k of keys) o[k] = toArrays(o[k]);
  if (keys.length > 0 && keys.every((k) => /^(0|[1-9]\d*)$/.test(k) && Number(k) < MAX_INDEX)) {
    const arr: unknown[] = [];
    for (let i = 0; i < keys.length; i++) {
      if (!(String(i) in o)) throw new TcError('InvalidParameter', `list index ${i} is missing (indexes must run 0, 1, 2, …)`);
      arr.push(o[String(i)]);
    }
    return arr;
  }
  return { ...o }; // a plain object again (zod's strictObject wants Object's prototype)
}

/** Field paths as the declarations name them in messages: `MergeInfos[0].Url`. */
function leafAt(tree: unknown, path: string): { parent: Record<string, unknown> | unknown[]; key: string | number } | null {
  const parts = path.match(/[^.[\]]+|\[\d+\]/g);
  if (!parts) return null;
  let node: unknown = tree;
  let parent: Record<string, unknown> | unknown[] | null = null;
  let key: string | number = '';
  for (const p of parts) {
    if (typeof node !== 'object' || node === null) return null;
    parent = node as Record<string, unknown>;
    key = p.startsWith('[') ? Number(p.slice(1, -1)) : p;
    node = (node as Record<string | number, unknown>)[key];
  }
  return parent && typeof node === 'string' ? { parent, key } : null;
}

const NUMERIC = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * Parses form parameters with `parse` (the action's declaration), converting a string leaf to a
 * number or boolean each time the declaration refuses it for being a string where it wants one.
 * Bounded: at most one retry per leaf.
 */
export function parseFormParams<T>(params: Record<string, unknown>, parse: (p: Record<string, unknown>) => T): T {
  const converted = new Set<string>();
  for (let attempt = 0; attempt <= MAX_FORM_FIELDS; attempt++) {
    try {
      return parse(params);
    } catch (e) {
      if (!(e instanceof TcError)) throw e;
      const m = /^([A-Za-z0-9_.[\]]+): (.*)$/s.exec(e.message);
      if (!m || converted.has(m[1])) throw e;
      const at = leafAt(params, m[1]);
      if (!at) throw e;
      const text = (at.parent as Record<string | number, unknown>)[at.key] as string;
      let value: unknown;
      if (/\b(integer|number)\b/.test(m[2]) && NUMERIC.test(text)) value = Number(text);
      else if (/\b(boolean|true or false)\b/.test(m[2]) && (text === 'true' || text === 'false')) value = text === 'true';
      else throw e;
      converted.add(m[1]);
      (at.parent as Record<string | number, unknown>)[at.key] = value;
    }
  }
  throw new TcError('InvalidParameter', 'the parameters could not be read');
}
