// Validation of the privacy extension fields (docs/API.md "Privacy fields"): EndUserId on
// enrolment and fusion requests, Consent and ParentalConsent on enrolment, ParentalConsent on fusion.
import { TcError } from '../../domain/errors.ts';
import type { ConsentInput, EnrolmentExtras } from '../../services/library/library-deps.ts';

type P = Record<string, unknown>;
// Printable, no control characters: it is an identifier, stored and matched exactly.
const END_USER = /^[\x21-\x7e]{1,128}$/;

function text(o: P, k: string, field: string, max: number, required: boolean): string | undefined {
  const v = o[k];
  if (v === undefined || v === null || v === '') {
    if (required) throw new TcError('InvalidParameterValue', `${field} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new TcError('InvalidParameter', `${field} must be a string`);
  if ([...v].length > max) throw new TcError('InvalidParameterValue', `${field} may be at most ${max} characters`);
  return v;
}

export function endUserId(p: P): string | undefined {
  const v = text(p, 'EndUserId', 'EndUserId', 128, false);
  if (v !== undefined && !END_USER.test(v)) throw new TcError('InvalidParameterValue', 'EndUserId: 1-128 printable ASCII characters without spaces');
  return v;
}

function object(p: P, k: string): P | undefined {
  const v = p[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new TcError('InvalidParameter', `${k} must be an object`);
  for (const key of Object.keys(v)) {
    const allowed = k === 'Consent' ? ['Reference', 'Purpose', 'NoticeVersion', 'RetentionDays'] : ['Reference'];
    if (!allowed.includes(key)) throw new TcError('UnknownParameter', `${k}.${key} is not a field of ${k} (${allowed.join(', ')})`);
  }
  return v as P;
}

export function consent(p: P): ConsentInput | undefined {
  const c = object(p, 'Consent');
  if (!c) return undefined;
  const days = c.RetentionDays;
  if (days !== undefined && days !== null && (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 36500)) {
    throw new TcError('InvalidParameterValue', 'Consent.RetentionDays must be a whole number of days from 1 to 36500');
  }
  return {
    reference: text(c, 'Reference', 'Consent.Reference', 256, true)!,
    purpose: text(c, 'Purpose', 'Consent.Purpose', 512, true)!,
    noticeVersion: text(c, 'NoticeVersion', 'Consent.NoticeVersion', 64, true)!,
    ...(typeof days === 'number' ? { retentionDays: days } : {}),
  };
}

export function parentalConsent(p: P): string | undefined {
  const c = object(p, 'ParentalConsent');
  return c ? text(c, 'Reference', 'ParentalConsent.Reference', 256, true) : undefined;
}

/** All enrolment extension fields, validated before any work. */
export function enrolmentExtras(p: P): EnrolmentExtras {
  const out: EnrolmentExtras = {};
  const e = endUserId(p), c = consent(p), pc = parentalConsent(p);
  if (e !== undefined) out.endUserId = e;
  if (c) out.consent = c;
  if (pc !== undefined) out.parentalConsent = pc;
  return out;
}

/** The extension fields fusion accepts besides Tencent's. */
export const FUSION_PRIVACY_FIELDS = ['EndUserId', 'ParentalConsent'];
