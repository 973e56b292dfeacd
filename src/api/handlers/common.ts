// Field groups and wrappers shared by the image actions of iai.
import { TcError } from '../../domain/errors.ts';
import type { CallContext } from '../../domain/call.ts';
import { field, optStr } from '../actions/fields.ts';
import type { Field } from '../actions/define.ts';

/** Image (base64) and Url; Url wins when both are sent. The service checks that one is there. */
export function imageFields<I extends string = 'Image', U extends string = 'Url'>(image: I = 'Image' as I, url: U = 'Url' as U) {
  return { [image]: optStr(), [url]: optStr() } as { [K in I | U]: Field<string | undefined> };
}

/** FaceModelVersion: one of the versions this action serves (absent or '' = the default). */
export const modelVersion = (allowed: readonly string[]): Field<string | undefined> =>
  field((v, name) => {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' || !allowed.includes(v)) {
      throw new TcError('InvalidParameterValue.FaceModelVersionIllegal', `${name}: must be ${allowed.map((a) => `"${a}"`).join(' or ')}, got ${JSON.stringify(v)}`);
    }
    return v;
  });

/** No face found: Tencent does not bill the call; the error still goes back to the caller. */
export function unbilledWhenNoFace<R>(handle: (ctx: CallContext, req: R) => Promise<Record<string, unknown>>) {
  return async (ctx: CallContext, req: R) => {
    try {
      return await handle(ctx, req);
    } catch (e) {
      if (e instanceof TcError && e.code === 'FailedOperation.ImageFacedetectFailed') ctx.record.billed = false;
      throw e;
    }
  };
}

/** Picks the given keys of a parsed request (the image fields a service reads). */
export function pick(req: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, req[k]]));
}
