// Runs one fuzz target per message and reports how it ended, as plain data. It runs in its own
// thread so that a target stuck in a loop can be killed (Worker.terminate) and reported as a
// hang instead of freezing the test runner.
import { parentPort } from 'node:worker_threads';
import { TcError } from '../../src/domain/errors.ts';
import { ImageError } from '../../src/vision/types.ts';
import { UploadError } from '../../src/api/protocol/upload-spool.ts';
import { FUZZ_TARGETS, type FuzzTargetName } from './fuzz-targets.ts';
import type { FuzzOutcome } from './deadline-worker.ts';

function describeError(e: unknown): Extract<FuzzOutcome, { ok: false }> {
  const err = e as Error & { code?: unknown; kind?: unknown };
  const errorClass = e instanceof TcError ? 'TcError' : e instanceof ImageError ? 'ImageError' : e instanceof UploadError ? 'UploadError'
    : (e as object | null)?.constructor?.name ?? typeof e;
  return {
    ok: false, errorClass, message: String(err?.message ?? e),
    code: typeof err?.code === 'string' ? err.code : undefined, kind: typeof err?.kind === 'string' ? err.kind : undefined,
    stack: errorClass === 'TcError' || errorClass === 'ImageError' ? undefined : err?.stack,
  };
}

parentPort!.on('message', async (m: { id: number; target: FuzzTargetName; args: unknown[] }) => {
  let outcome: FuzzOutcome;
  try {
    const fn = FUZZ_TARGETS[m.target] as (...a: unknown[]) => unknown;
    outcome = { ok: true, value: await fn(...m.args) };
  } catch (e) {
    outcome = describeError(e);
  }
  parentPort!.postMessage({ id: m.id, outcome });
});
parentPort!.postMessage({ ready: true });
