// Messages between InferencePool and its workers. Errors cross the thread boundary as plain
// data and are rebuilt as the same classes, so callers can still `instanceof ImageError`.
import type { AnalysisResult, AnalyzeOptions, ImageErrorKind } from './types.ts';
import { ImageError } from './types.ts';
import { ModelMissingError } from './model-set.ts';
import type { DecodeLimits } from './image-decode.ts';
import type { TaskName } from './task-model.ts';

export interface WorkerInit {
  modelSet: string;
  extraModelSetDirs: string[];
  tasks?: TaskName[];
  livenessModelDir?: string;
  /** Shared with the pool so a stuck worker is never terminated inside native code (worker-stop.ts). */
  stopFlags?: Int32Array;
}

export interface WorkerRequest {
  type?: undefined;
  id: number;
  bytes?: Uint8Array;
  image?: { width: number; height: number; data: Uint8Array };
  limits?: DecodeLimits;
  opts: AnalyzeOptions;
  returnImage?: boolean;
}

export interface SerializedError { name: string; message: string; kind?: ImageErrorKind; stack?: string }

export type WorkerReply =
  | { type: 'ready'; version: string }
  | { type: 'complete'; available: TaskName[] }
  | { type: 'failed'; error: SerializedError }
  | { type: 'result'; id: number; result: AnalysisResult; format?: string; image?: { width: number; height: number; data: Uint8Array; format?: string } }
  | { type: 'error'; id: number; error: SerializedError };

export function serializeError(e: unknown): SerializedError {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, kind: (err as ImageError).kind, stack: err.stack };
}

export function deserializeError(s: SerializedError): Error {
  if (s.name === 'ImageError' && s.kind) return new ImageError(s.kind, s.message);
  if (s.name === 'ModelMissingError') return new ModelMissingError(s.message);
  const e = new Error(s.message);
  e.name = s.name;
  if (s.stack) e.stack = s.stack;
  return e;
}
