// Stopping a stuck inference worker without aborting the process. Worker.terminate() is safe
// while the thread runs JavaScript (an endless loop in a decoder) but aborts the whole process
// when it lands inside ONNX Runtime's native code (a session load or run). So the two sides
// share two counters: the worker counts itself into native calls (BUSY), the pool raises STOP
// before it terminates. Both use sequentially consistent Atomics, so either the worker sees
// STOP before entering native code (and exits instead), or the pool sees BUSY and waits for the
// native call to return; the thread is never terminated inside one.
//
// BUSY covers the whole awaited call (ORT enters native code from a setImmediate inside it), so a
// thread stuck in JavaScript while a background model load is pending also reads as BUSY; the
// pool therefore terminates anyway once BUSY has not cleared for far longer than any single
// native call takes (see InferencePool).
const BUSY = 0;
const STOP = 1;

export type StopFlags = Int32Array;

export function newStopFlags(): StopFlags {
  return new Int32Array(new SharedArrayBuffer(8));
}

let installed: StopFlags | null = null;

/** Worker side: called once at start with the flags from workerData. */
export function installStopFlags(flags: StopFlags | undefined): void {
  installed = flags ?? null;
}

/** Worker side: runs a call that enters native code (no-op guard outside a pool worker). */
export async function inNative<T>(fn: () => Promise<T>): Promise<T> {
  const f = installed;
  if (!f) return fn();
  Atomics.add(f, BUSY, 1);
  try {
    if (Atomics.load(f, STOP)) process.exit(0); // the pool gave up on this worker: do not start
    return await fn();
  } finally {
    Atomics.sub(f, BUSY, 1);
  }
}

/** Pool side: raises STOP; true when the thread is outside native code and can be terminated. */
export function requestStop(flags: StopFlags): boolean {
  Atomics.store(flags, STOP, 1);
  return Atomics.load(flags, BUSY) === 0;
}
