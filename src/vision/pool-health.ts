// What the worker pools report to /readyz, and their shared default deadline.

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
}

/** Ready unless a worker is stuck or being replaced. */
export function poolReady(h: PoolHealth): boolean {
  return h.stuck === 0 && h.replacing === 0;
}
