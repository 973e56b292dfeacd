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
