// What the worker pools report to /readyz and /metrics, their shared default deadline, and the
// refusal they give when their queue is full.
import { TcError } from '../domain/errors.ts';

/** Default deadline of one unit of image work (FACEVAULT_IMAGE_TASK_TIMEOUT_MS). */
export const DEFAULT_TASK_TIMEOUT_MS = 30_000;

export interface PoolHealth {
  /** Workers in rotation. */
  workers: number;
  busy: number;
  queued: number;
  /** Workers past a deadline, out of rotation and being stopped. */
  stuck: number;
  /** Replacement workers still starting. */
  replacing: number;
  /** Tasks failed at their deadline since start. */
  timeouts: number;
  /** Tasks refused since start because the queue was full (overload). */
  refused: number;
  /** The configured queue depth (null: unbounded). */
  maxQueue: number | null;
}

/**
 * A pool's queue is full: Tencent's throttling code, so SDK clients that retry with backoff on
 * RequestLimitExceeded (tencentcloud-sdk-go's ratelimitretry) do so. No field is named: the
 * request is fine, the server is busy.
 */
export function queueFull(what: string, depth: number): TcError {
  return new TcError('RequestLimitExceeded', `the server is at capacity (${depth} ${what} task(s) already waiting); retry later with backoff`);
}

/** Ready unless a worker is stuck or being replaced. */
export function poolReady(h: PoolHealth): boolean {
  return h.stuck === 0 && h.replacing === 0;
}
