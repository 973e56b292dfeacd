// Worker threads that run our TypeScript. A fresh thread has no TypeScript loader (Node 20 does
// not apply `--import tsx` from a Worker's execArgv to its entry module), so every worker starts
// from one boot file that registers tsx and then imports the real entry, passed as its last argv.
import { Worker, type WorkerOptions } from 'node:worker_threads';

const BOOT = new URL('./ts-worker-boot.mjs', import.meta.url);

/** A worker running `entry` (a .ts module URL); .mjs/.js entries (test workers) start directly. */
export function tsWorker(entry: URL, opts: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, opts);
  return new Worker(BOOT, { ...opts, argv: [...(opts.argv ?? []), entry.href] });
}
