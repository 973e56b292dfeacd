// A small pool of worker threads for fusion pixel work (warp, colour, blend), so the event
// loop only decodes, encodes (both in libuv via sharp) and answers requests.
import type { Worker } from 'node:worker_threads';
import type { FuseFaceJob, Patch } from './fuse.ts';
import { fuseIntoTemplate, jobWindow } from './fuse.ts';
import type { Raster } from './warp.ts';
import { ImageError } from '../types.ts';
import { DEFAULT_TASK_TIMEOUT_MS, queueFull, type PoolHealth } from '../pool-health.ts';
import { tsWorker } from '../../domain/ts-worker.ts';
import { swapJobs } from './swap-jobs.ts';

interface Pending { resolve(p: Patch): void; reject(e: Error): void; slot: Slot; timer: NodeJS.Timeout }
interface Slot { w: Worker; busy: number; online: boolean }

export interface FusionPoolOptions {
  /** Deadline of one fusion task; past it the request fails and its worker is replaced. */
  taskTimeoutMs?: number;
  /** Worker entry (tests: a worker that hangs); default the fusion worker. */
  entry?: URL;
  /** Tasks that may wait beyond one per worker; past it run() refuses at once (overload). */
  maxQueue?: number;
  /** A learned swap model's directory (FACEVAULT_SWAP_MODEL): jobs with a user embedding are swapped first. */
  swapModelDir?: string;
}

export class FusionPool {
  private workers: Slot[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Workers terminated at a deadline that have not exited yet. */
  private stopping = 0;
  private timeouts = 0;
  private refused = 0;

  /** Whether a learned swap model is installed (the service then asks for the user's embedding). */
  get swapping(): boolean { return !!this.opts.swapModelDir; }

  /** size 0 runs fusion inline (tests, tiny deployments). */
  constructor(readonly size: number, private readonly opts: FusionPoolOptions = {}) {
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  /** For /readyz: a worker stopped at a deadline, or its replacement not yet running, is not ready. */
  health(): PoolHealth {
    return {
      workers: this.workers.length, busy: this.workers.filter((s) => s.busy > 0).length, queued: this.waiting(),
      stuck: this.stopping, replacing: this.workers.filter((s) => !s.online).length, timeouts: this.timeouts,
      refused: this.refused, maxQueue: this.opts.maxQueue ?? null,
    };
  }

  private spawn(): Slot {
    const w = tsWorker(this.opts.entry ?? new URL('./worker.ts', import.meta.url), { workerData: { swapModelDir: this.opts.swapModelDir } });
    const slot: Slot = { w, busy: 0, online: false };
    w.once('online', () => { slot.online = true; });
    w.on('message', (m: { id: number; patch?: Patch; error?: string }) => {
      slot.busy--;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.patch) p.resolve(m.patch);
      else p.reject(new Error(`fusion worker failed: ${m.error}`));
    });
    const fail = (e: Error) => {
      for (const [id, p] of this.pending) if (p.slot === slot) { clearTimeout(p.timer); p.reject(e); this.pending.delete(id); }
      // Replace a dead worker so later requests do not queue behind it forever.
      const i = this.workers.indexOf(slot);
      if (i >= 0 && !this.closed) this.workers[i] = this.spawn();
    };
    w.on('error', fail);
    w.on('exit', (code) => { if (!this.closed) fail(new Error(`fusion worker exited with code ${code}`)); });
    w.unref();
    return slot;
  }

  /**
   * A task past its deadline: every task on that worker fails now and the worker is replaced at
   * once; the old one is terminated (fusion workers run only JavaScript, where terminate() is safe).
   */
  private expire(slot: Slot, ms: number): void {
    const i = this.workers.indexOf(slot);
    if (i < 0) return;
    this.timeouts++;
    const e = new ImageError('timeout', `the fusion was not done within ${ms} ms and was stopped`);
    for (const [id, p] of this.pending) if (p.slot === slot) { clearTimeout(p.timer); p.reject(e); this.pending.delete(id); }
    slot.w.removeAllListeners('exit');
    slot.w.removeAllListeners('error');
    slot.w.on('error', () => {});
    this.stopping++;
    slot.w.once('exit', () => { this.stopping--; });
    void slot.w.terminate();
    if (!this.closed) this.workers[i] = this.spawn();
  }

  /**
   * Fuses the jobs and returns non-overlapping patches of the template. Faces whose windows do
   * not touch are independent, so they go to different workers in parallel; faces that touch
   * stay in one task, in order, so they compose. The template's pixels should live in a
   * SharedArrayBuffer (cached templates do): no copy.
   */
  run(template: Raster, jobs: FuseFaceJob[]): Promise<Patch[]> {
    if (this.closed) return Promise.reject(new Error('fusion pool is closed'));
    if (!this.workers.length) return swapJobs(template, jobs, this.opts.swapModelDir).then((j) => [fuseIntoTemplate(template, j)]);
    // Tasks wait in the workers' message queues; past the depth, refuse before posting any.
    const max = this.opts.maxQueue;
    if (max !== undefined && this.waiting() >= max) {
      this.refused++;
      return Promise.reject(queueFull('fusion', this.waiting()));
    }
    const groups = this.workers.length > 1 ? independentGroups(template, jobs) : [jobs];
    return Promise.all(groups.map((g) => this.runOne(template, g)));
  }

  /** Tasks posted beyond the one each worker is running. */
  private waiting(): number {
    return this.workers.reduce((n, s) => n + Math.max(0, s.busy - 1), 0);
  }

  private runOne(template: Raster, jobs: FuseFaceJob[]): Promise<Patch> {
    const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    slot.busy++;
    const ms = this.opts.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    return new Promise<Patch>((resolve, reject) => {
      const timer = setTimeout(() => this.expire(slot, ms), ms);
      this.pending.set(id, { resolve, reject, slot, timer });
      slot.w.postMessage({ id, template, jobs });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error('fusion pool is closed')); }
    this.pending.clear();
    await Promise.all(this.workers.map((s) => s.w.terminate()));
    this.workers = [];
  }
}

type Win = { x0: number; y0: number; x1: number; y1: number };
const touches = (a: Win, b: Win) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** Jobs grouped so that the groups' bounding windows (the patches they return) do not overlap. */
export function independentGroups(template: Raster, jobs: FuseFaceJob[]): FuseFaceJob[][] {
  let groups = jobs.map((j) => ({ jobs: [j], win: jobWindow(j.templateMesh, template.width, template.height) as Win }));
  for (let merged = true; merged;) {
    merged = false;
    outer: for (let a = 0; a < groups.length; a++) {
      for (let b = a + 1; b < groups.length; b++) {
        if (!touches(groups[a].win, groups[b].win)) continue;
        const A = groups[a], B = groups[b];
        // Keep the request's order inside a group: later faces are fused over earlier ones.
        const order = [...A.jobs, ...B.jobs].sort((x, y) => jobs.indexOf(x) - jobs.indexOf(y));
        A.jobs = order;
        A.win = { x0: Math.min(A.win.x0, B.win.x0), y0: Math.min(A.win.y0, B.win.y0), x1: Math.max(A.win.x1, B.win.x1), y1: Math.max(A.win.y1, B.win.y1) };
        groups = groups.filter((_, i) => i !== b);
        merged = true;
        break outer;
      }
    }
  }
  return groups.map((g) => g.jobs);
}
