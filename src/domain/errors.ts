// One error type for the whole service; the API maps it to Tencent's wire format once
// (src/api/server.ts, sendEnvelope: {Response: {Error: {Code, Message}, RequestId}}).
export class TcError extends Error {
  constructor(readonly code: string, message: string, readonly cause_?: unknown) {
    super(message);
    this.name = 'TcError';
  }
}

/** Shorthands for the codes used all over, so their spelling lives in one place. */
export const Errors = {
  invalidParameter: (field: string, why: string) => new TcError('InvalidParameter', `${field}: ${why}`),
  invalidValue: (field: string, why: string, sub?: string) =>
    new TcError(sub ? `InvalidParameterValue.${sub}` : 'InvalidParameterValue', `${field}: ${why}`),
  missing: (field: string) => new TcError('MissingParameter', `${field} is required`),
  unknownParameter: (field: string) => new TcError('UnknownParameter', `${field} is not a parameter of this action`),
  failed: (sub: string, message: string) => new TcError(`FailedOperation.${sub}`, message),
  internal: (message = 'internal error') => new TcError('InternalError', message),
};

/** A backing service the request needed, as named in its error code. */
export type Dependency = 'Database' | 'ObjectStore' | 'KeyStore' | 'Redis';
const DEPENDENCY_LABEL: Record<Dependency, string> = { Database: 'the database', ObjectStore: 'the object store', KeyStore: 'the key store', Redis: 'Redis' };

/**
 * A dependency could not be reached (connection refused, reset, timed out): the request fails
 * at once with ServiceUnavailable.<Dependency> (Tencent's common ServiceUnavailable, with a
 * sub-code naming what is down) rather than an InternalError. Only the error's code is kept in
 * the message: never the host or address.
 */
export class DependencyUnavailable extends TcError {
  constructor(readonly dependency: Dependency, cause: unknown) {
    super(`ServiceUnavailable.${dependency}`, `${DEPENDENCY_LABEL[dependency]} is unavailable (${causeCode(cause)}); retry later`, cause);
  }
}

const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);

/** True for errors that mean "could not talk to it" rather than "it said no". */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: unknown; name?: unknown; message?: unknown; errors?: unknown[] } | null;
  if (!err || typeof err !== 'object') return false;
  const code = typeof err.code === 'string' ? err.code : '';
  if (NET_CODES.has(code)) return true;
  // PostgreSQL SQLSTATE class 08 (connection exception), 57P01-57P03 (shutdown, cannot connect now).
  if (/^08...$/.test(code) || /^57P0[123]$/.test(code)) return true;
  if (Array.isArray(err.errors) && err.errors.some(isConnectionError)) return true; // AggregateError (IPv4 + IPv6 attempts)
  const msg = typeof err.message === 'string' ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|socket hang up/i.test(msg)
    || err.name === 'TimeoutError';
}

function causeCode(e: unknown): string {
  const err = e as { code?: unknown; name?: unknown; errors?: { code?: unknown }[] } | null;
  const code = typeof err?.code === 'string' ? err.code : Array.isArray(err?.errors) && typeof err.errors[0]?.code === 'string' ? err.errors[0].code : '';
  return /^[A-Z0-9_]{2,32}$/.test(code) ? code : typeof err?.name === 'string' && /^[A-Za-z]{2,40}$/.test(err.name) ? err.name : 'connection failed';
}
