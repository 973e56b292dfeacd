// Field types of the privacy extension fields (docs/API.md "Privacy fields"): EndUserId on
// enrolment and fusion requests, Consent and ParentalConsent on enrolment, ParentalConsent on fusion.
import { TcError } from '../../domain/errors.ts';
import type { ConsentInput, EnrolmentExtras } from '../../services/library/library-deps.ts';
import type { Field } from '../actions/define.ts';
import { field, obj, onlyKeys } from '../actions/fields.ts';

type P = Record<string, unknown>;
// Printable, no control characters: it is an identifier, stored and matched exactly.
const END_USER = /^[\x21-\x7e]{1,128}$/;

function text(o: P, k: string, field: string, max: number, required: boolean): string | undefined {
  const v = o[k];
  if (v === undefined || v === null || v === '') {
    if (required) throw new TcError('MissingParameter', `${field} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new TcError('InvalidParameter', `${field}: must be a string`);
  if ([...v].length > max) throw new TcError('InvalidParameterValue', `${field}: at most ${max} characters`);
  return v;
}

export const endUserId = (): Field<string | undefined> =>
  field((v, f) => {
    const s = text({ v }, 'v', f, 128, false);
    if (s !== undefined && !END_USER.test(s)) throw new TcError('InvalidParameterValue', `${f}: 1-128 printable ASCII characters without spaces`);
    return s;
  });

export const consent = (): Field<ConsentInput | undefined> =>
  obj((c, f) => {
    onlyKeys(c, f, ['Reference', 'Purpose', 'NoticeVersion', 'RetentionDays']);
    const days = c.RetentionDays;
    if (days !== undefined && days !== null && (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 36500)) {
      throw new TcError('InvalidParameterValue', `${f}.RetentionDays: a whole number of days from 1 to 36500`);
    }
    return {
      reference: text(c, 'Reference', `${f}.Reference`, 256, true)!,
      purpose: text(c, 'Purpose', `${f}.Purpose`, 512, true)!,
      noticeVersion: text(c, 'NoticeVersion', `${f}.NoticeVersion`, 64, true)!,
      ...(typeof days === 'number' ? { retentionDays: days } : {}),
    };
  });

export const parentalConsent = (): Field<string | undefined> =>
  obj((c, f) => {
    onlyKeys(c, f, ['Reference']);
    return text(c, 'Reference', `${f}.Reference`, 256, true);
  });

/** The enrolment extension fields, to spread into an enrolment action's params. */
export const enrolmentFields = () => ({ EndUserId: endUserId(), Consent: consent(), ParentalConsent: parentalConsent() });

export function enrolmentExtras(r: { EndUserId?: string; Consent?: ConsentInput; ParentalConsent?: string }): EnrolmentExtras {
  const out: EnrolmentExtras = {};
  if (r.EndUserId !== undefined) out.endUserId = r.EndUserId;
  if (r.Consent) out.consent = r.Consent;
  if (r.ParentalConsent !== undefined) out.parentalConsent = r.ParentalConsent;
  return out;
}
