// Calls a fuzz target (fuzz-targets.ts) in a worker thread with a deadline. A call that does
// not answer in time has the worker terminated (which also stops a synchronous infinite loop)
// and is reported as a hang; the next call starts a fresh worker.
import { Worker } from 'node:worker_threads';
import type { FuzzTargetName } from './fuzz-targets.ts';

export type FuzzOutcome =
  | { ok: true; value: unknown }
  | { ok: false; errorClass: string; code?: string; kind?: string; message: string; stack?: string }
  | { ok: false; errorClass: 'hang'; message: string };

export class DeadlineWorker {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 1;
  private pending = new Map<number, (o: FuzzOutcome) => void>();

  constructor(readonly deadlineMs: number) {}

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const w = new Worker(new URL('./fuzz-worker-boot.mjs', import.meta.url));
    this.worker = w;
    this.ready = new Promise<void>((resolve, reject) => {
      w.on('message', (m: { ready?: true; id?: number; outcome?: FuzzOutcome }) => {
        if (m.ready) return resolve();
        const done = this.pending.get(m.id!);
        this.pending.delete(m.id!);
        done?.(m.outcome!);
      });
      w.once('error', (e) => {
        reject(e);
        for (const done of this.pending.values()) done({ ok: false, errorClass: 'WorkerError', message: String(e?.stack ?? e) });
        this.pending.clear();
        this.reset();
      });
    });
    return this.ready;
  }

  private reset(): void {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    void w?.terminate();
  }

  async run(target: FuzzTargetName, ...args: unknown[]): Promise<FuzzOutcome> {
    await this.start(); // the deadline covers the call, not the worker's start-up
    const id = this.nextId++;
    return new Promise<FuzzOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.reset();
        resolve({ ok: false, errorClass: 'hang', message: `${target} did not return within ${this.deadlineMs} ms` });
      }, this.deadlineMs);
      this.pending.set(id, (o) => { clearTimeout(timer); resolve(o); });
      this.worker!.postMessage({ id, target, args });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    await w?.terminate();
  }
}
