// Worker threads that run the scans of large searches (stages 1-2, prefilter.ts) off the event
// loop, over the index's shared memory: a 1M-face search holds the CPU for ~5-7 ms, which on the
// event loop delayed every other request of the node (health checks included) by as much.
// Each worker is told an index's buffers once per layout (they change only when the index
// grows); a job then carries just the query's sign bits and sizes.
import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../domain/ts-worker.ts';
import { SCRATCH_SLOTS } from './hamming-wasm.ts';

export interface PrefilterJob {
  id: number;
  index: number;
  layout: number;
  /** Set when this worker has not seen this layout of the index yet. */
  bits?: SharedArrayBuffer;
  coarse?: unknown;
  useCoarse: boolean;
  slot: number;
  n: number;
  qb: Uint32Array;
  keep1: number;
  keep2: number;
}
export type PrefilterReply = { id: number; rows: Uint32Array; count: number; threadId: number } | { id: number; error: string };

/** What an index hands the pool for one search. */
export interface PrefilterRequest {
  index: number;
  layout: number;
  bits: SharedArrayBuffer;
  coarse: unknown | null;
  n: number;
  qb: Uint32Array;
  keep1: number;
  keep2: number;
}

interface Slot { worker: Worker; busy: number; seen: Map<number, number> }

export class SearchPool {
  private readonly slots: (Slot | null)[];
  private seq = 0;
  private readonly waiting = new Map<number, { slot: number; resolve(r: { rows: Uint32Array; count: number; threadId: number }): void; reject(e: Error): void }>();
  /** Searches whose scans ran in a worker, by the worker's threadId (tests, metrics). */
  readonly servedBy = new Map<number, number>();
  private closed = false;

  /**
   * `threads` workers (at most SCRATCH_SLOTS - 1: each has its own scratch in the stage-1 memory);
   * collections of fewer than `minRows` rows are searched on the event loop (cheaper than a hop).
   */
  constructor(readonly threads: number, readonly minRows = 16384) {
    if (threads < 1 || threads > SCRATCH_SLOTS - 1) throw new Error(`search threads must be 1..${SCRATCH_SLOTS - 1}, got ${threads}`);
    this.slots = Array.from({ length: threads }, () => null);
  }

  private slot(i: number): Slot {
    let s = this.slots[i];
    if (s) return s;
    const worker = tsWorker(new URL('./search-worker.ts', import.meta.url));
    // Idle workers must not keep a process alive (CLI commands, tests that forget to close).
    worker.unref();
    s = { worker, busy: 0, seen: new Map() };
    const mine = s;
    worker.on('message', (m: PrefilterReply) => {
      const p = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (--mine.busy === 0) mine.worker.unref();
      if ('error' in m) p?.reject(new Error(m.error));
      else { this.servedBy.set(m.threadId, (this.servedBy.get(m.threadId) ?? 0) + 1); p?.resolve(m); }
    });
    const fail = (e: Error) => {
      // A dead worker is replaced on the next search; its searches fall back to the event loop.
      if (this.slots[i] === mine) this.slots[i] = null;
      for (const [id, p] of this.waiting) if (p.slot === i) { this.waiting.delete(id); p.reject(e); }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`search worker exited with code ${code}`)));
    this.slots[i] = s;
    return s;
  }

  /** Runs stages 1-2 in the least busy worker; rejects if the worker fails (the caller searches itself). */
  prefilter(r: PrefilterRequest): Promise<{ rows: Uint32Array; count: number; threadId: number }> {
    if (this.closed) return Promise.reject(new Error('search pool closed'));
    let best = 0;
    for (let i = 1; i < this.threads; i++) if ((this.slots[i]?.busy ?? 0) < (this.slots[best]?.busy ?? 0)) best = i;
    const s = this.slot(best);
    const id = ++this.seq;
    const fresh = s.seen.get(r.index) !== r.layout;
    const job: PrefilterJob = {
      id, index: r.index, layout: r.layout, useCoarse: r.coarse !== null, slot: best + 1, n: r.n, qb: r.qb, keep1: r.keep1, keep2: r.keep2,
      ...(fresh ? { bits: r.bits, ...(r.coarse ? { coarse: r.coarse } : {}) } : {}),
    };
    if (fresh) s.seen.set(r.index, r.layout);
    if (s.busy++ === 0) s.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { slot: best, resolve, reject });
      s.worker.postMessage(job);
    });
  }

  /** The index was cleared or dropped: workers let go of its buffers. */
  forget(index: number): void {
    for (const s of this.slots) if (s?.seen.delete(index)) s.worker.postMessage({ forget: index });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
    this.slots.fill(null);
  }
}
