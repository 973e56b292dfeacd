// One declaration per action: its owner, its parameters (a zod schema built from the field
// types in fields.ts, which carry Tencent's error codes), the SDK request fields it deliberately
// does not take, and the handler that receives the typed request. Parsing happens here once,
// before the handler runs, so a bad request changes nothing.
import { z } from 'zod';
import type { ActionOwner, CallContext } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';

/** A field type: given its wire name (for messages), the zod schema that parses it. */
export type Field<T> = (name: string) => z.ZodType<T, unknown>;
type Shape = Record<string, Field<unknown>>;
export type Params<S extends Shape> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export interface ActionDef<S extends Shape = Shape> {
  owner: ActionOwner;
  name: string;
  /**
   * An older API version this declaration is for (its own fields, limits and codes). Absent: the
   * owner's current version, and also every older version that has the action but no declaration
   * of its own there (test/action-declarations.test.ts checks those SDK models match).
   */
  version?: string;
  params: S;
  /**
   * SDK request fields we accept on the wire but do not act on, each with the reason
   * (docs/API.md); anything the SDK has that is neither here nor in `params` fails
   * test/action-declarations.test.ts.
   */
  ignored?: Record<string, string>;
  /** Multipart/form-data uploads up to FACEVAULT_UPLOAD_LIMIT (CreateMaterial). */
  upload?: boolean;
  handle(ctx: CallContext, req: Params<S>): Promise<Record<string, unknown>>;
}

export interface CompiledAction extends ActionDef {
  parse(raw: Record<string, unknown>): Record<string, unknown>;
}

export function defineAction<S extends Shape>(def: ActionDef<S>): ActionDef<S> {
  return def;
}

export function compile(def: ActionDef): CompiledAction {
  const shape: Record<string, z.ZodType> = {};
  for (const [k, f] of Object.entries(def.params)) shape[k] = f(k);
  for (const k of Object.keys(def.ignored ?? {})) shape[k] ??= z.unknown().optional();
  const schema = z.strictObject(shape);
  return {
    ...def,
    parse(raw) {
      // Tencent treats an explicit null like an absent field.
      const input: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) if (v !== null) input[k] = v;
      const r = schema.safeParse(input, { reportInput: true });
      if (r.success) {
        for (const k of Object.keys(def.ignored ?? {})) delete (r.data as Record<string, unknown>)[k];
        return r.data as Record<string, unknown>;
      }
      throw toTcError(r.error.issues);
    },
  };
}

/** The first problem as Tencent reports it: unknown fields first, then in declaration order. */
function toTcError(issues: z.core.$ZodIssue[]): TcError {
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') {
    return new TcError('UnknownParameter', `${unknown.keys.join(', ')}: not a parameter of this action`);
  }
  const i = issues[0];
  const field = i.path.map(String).join('.') || 'request';
  if (i.code === 'custom' && typeof i.params?.tc === 'string') return new TcError(i.params.tc, i.message);
  if (i.code === 'invalid_type' && (!('input' in i) || i.input === undefined)) return new TcError('MissingParameter', `${field} is required`);
  if (i.code === 'invalid_type') return new TcError('InvalidParameter', `${field}: must be ${article(i.expected)}`);
  return new TcError('InvalidParameterValue', `${field}: ${i.message}`);
}

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
