// Shared fast-check settings for the fuzz suite. A failure prints the seed and path; to replay
// it exactly, run the same file with FC_SEED=<seed> FC_PATH=<path> (numRuns is then ignored by
// fast-check for the replayed path).
import type { Parameters } from 'fast-check';
import { expect } from 'vitest';
import type { FuzzOutcome } from './deadline-worker.ts';

export function fuzzParams<T>(numRuns: number, extra: Parameters<T> = {}): Parameters<T> {
  const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
  const path = process.env.FC_PATH || undefined;
  return { numRuns, ...(seed !== undefined ? { seed } : {}), ...(path ? { path } : {}), ...extra };
}

/**
 * Settings for properties run through a DeadlineWorker: no shrinking after a failure, because a
 * hang would make every shrink step wait out the deadline; the seed and path still replay it.
 */
export function workerFuzzParams<T>(numRuns: number, extra: Parameters<T> = {}): Parameters<T> {
  return fuzzParams(numRuns, { endOnFailure: true, ...extra });
}

/** A Tencent error code: Category or Category.Sub (e.g. FailedOperation.ImageDecodeFailed). */
export const TENCENT_CODE = /^[A-Z][A-Za-z]+(\.[A-Z][A-Za-z0-9]*)*$/;

/** The outcome was a success or one of the allowed clean errors; anything else (a hang, a
 *  TypeError/RangeError, an InternalError) fails with what happened. */
export function expectClean(o: FuzzOutcome, allowed: { errorClass: string; codes?: readonly string[] }[]): void {
  if (o.ok) return;
  const fine = allowed.some((a) => a.errorClass === o.errorClass && (a.codes === undefined || a.codes.includes(('code' in o && o.code) || ('kind' in o && o.kind) || '')));
  const detail = 'stack' in o && o.stack ? `\n${o.stack}` : '';
  expect(fine, `unclean outcome ${o.errorClass}${'code' in o && o.code ? ` ${o.code}` : ''}${'kind' in o && o.kind ? ` (${o.kind})` : ''}: ${o.message}${detail}`).toBe(true);
  if (o.errorClass === 'TcError') {
    const code = (o as { code?: string }).code ?? '';
    expect(code).toMatch(TENCENT_CODE);
    expect(code).not.toBe('InternalError');
  }
}
