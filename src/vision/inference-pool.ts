// Worker-thread pool running FaceAnalyzer. Size = config.inferenceThreads; each worker owns its
// ONNX sessions with one intra-op thread (two threads per session were ~2x slower here), so N
// requests run on N cores in parallel and the event loop only moves bytes.
import type { Worker } from 'node:worker_threads';
import type { AnalysisResult, AnalyzeOptions, RgbImage } from './types.ts';
import type { DecodeLimits, DecodedImage, ImageFormat } from './image-decode.ts';
import type { TaskName } from './task-model.ts';
import { DEFAULT_MODEL_VERSION } from './model-set.ts';
import { deserializeError, type WorkerInit, type WorkerReply, type WorkerRequest } from './inference-protocol.ts';
import { ImageError } from './types.ts';
import { newStopFlags, requestStop, type StopFlags } from './worker-stop.ts';
import { DEFAULT_TASK_TIMEOUT_MS, queueFull, type PoolHealth } from './pool-health.ts';
import { tsWorker } from '../domain/ts-worker.ts';

export interface PoolOptions {
  threads: number;
  modelSet?: string;
  extraModelSetDirs?: string[];
  /** Optional tasks to load (default: all available). */
  tasks?: TaskName[];
  /** Operator anti-spoofing model directory (FACEVAULT_LIVENESS_MODEL). */
  livenessModelDir?: string;
  /** Deadline of one analysis; past it the request fails and its worker is replaced. */
  taskTimeoutMs?: number;
  /** Worker entry (tests: a worker that hangs); default the inference worker. */
  entry?: URL;
  /** Tasks that may wait for a worker; past it analyze() refuses at once (overload, see pool-health.ts). */
  maxQueue?: number;
}

export interface PoolAnalyzeOptions extends AnalyzeOptions {
  /** Header-checked before decoding (bytes input only). */
  limits?: DecodeLimits;
  /** Also hand back the decoded RGB image (e.g. for fusion); costs one copy. */
  returnImage?: boolean;
}

export interface PoolAnalysis extends AnalysisResult {
  format?: ImageFormat;
  image?: DecodedImage;
}

interface Job {
  req: WorkerRequest;
  transfer: ArrayBuffer[];
  resolve(r: PoolAnalysis): void;
  reject(e: Error): void;
}

interface Slot { worker: Worker; job: Job | null; timer: NodeJS.Timeout | null; flags: StopFlags }

/**
 * How long a stuck worker may read as inside native code before it is terminated regardless:
 * far longer than any one model run or session load takes, so only a thread stuck in JavaScript
 * with a native call pending gets here (see worker-stop.ts).
 */
const NATIVE_WAIT_MS = 10_000;


export class InferencePool {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  available: TaskName[] = [];
  version = '';
  private completeCount = 0;
  private respawning = 0;
  /** Every live thread, loading ones included (close() must stop those too). */
  private readonly threads = new Set<Worker>();
  /** Workers taken out of rotation at a deadline and not yet exited. */
  private readonly stuck = new Set<Worker>();
  private timeouts = 0;
  /** Tasks refused because the queue was full, since start. */
  private refused = 0;
  private resolveComplete!: () => void;
  private rejectComplete!: (e: Error) => void;
  /** Resolves when every worker has also loaded the optional task models. */
  readonly allLoaded: Promise<void>;

  private constructor(private readonly opts: PoolOptions) {
    this.allLoaded = new Promise<void>((res, rej) => { this.resolveComplete = res; this.rejectComplete = rej; });
    this.allLoaded.catch(() => {});
  }

  /** Starts every worker; resolves once all have loaded the core models (see allLoaded). */
  static async start(opts: PoolOptions): Promise<InferencePool> {
    const pool = new InferencePool(opts);
    try {
      await Promise.all(Array.from({ length: Math.max(1, opts.threads) }, () => pool.spawn()));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** The live worker threads and whether each is busy (diagnostics; the crash tests kill one). */
  get workers(): { thread: Worker; busy: boolean }[] {
    return this.slots.map((s) => ({ thread: s.worker, busy: s.job !== null }));
  }

  /** For /readyz: not healthy while a worker is stuck or its replacement is loading. */
  health(): PoolHealth {
    return { workers: this.slots.length, busy: this.slots.filter((s) => s.job).length, queued: this.queue.length, stuck: this.stuck.size, replacing: this.respawning, timeouts: this.timeouts, refused: this.refused, maxQueue: this.opts.maxQueue ?? null };
  }

  private spawn(): Promise<void> {
    const flags = newStopFlags();
    const init: WorkerInit = {
      modelSet: this.opts.modelSet ?? DEFAULT_MODEL_VERSION,
      extraModelSetDirs: this.opts.extraModelSetDirs ?? [],
      tasks: this.opts.tasks,
      livenessModelDir: this.opts.livenessModelDir,
      stopFlags: flags,
    };
    const worker = tsWorker(this.opts.entry ?? new URL('./inference-worker.ts', import.meta.url), { workerData: init });
    const slot: Slot = { worker, job: null, timer: null, flags };
    this.threads.add(worker);
    worker.once('exit', () => this.threads.delete(worker));
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: WorkerReply) => {
        if (m.type === 'ready') {
          ready = true;
          this.version = m.version;
          resolve();
          if (this.closed) return; // finished loading after close(): it is being stopped
          this.slots.push(slot);
          this.pump();
        } else if (m.type === 'complete') {
          this.available = m.available;
          if (++this.completeCount === this.opts.threads) this.resolveComplete();
        } else if (m.type === 'failed') {
          // After 'ready' only optional models failed: the worker still serves the core tasks
          // (requests needing the others get the error), so it is kept, not restarted in a loop.
          if (ready) this.rejectComplete(deserializeError(m.error));
          else {
            reject(deserializeError(m.error));
            void worker.terminate();
          }
        } else {
          const job = slot.job;
          slot.job = null;
          this.clearTimer(slot);
          if (job) {
            if (m.type === 'result') {
              const image = m.image ? { width: m.image.width, height: m.image.height, data: Buffer.from(m.image.data.buffer, m.image.data.byteOffset, m.image.data.byteLength), format: m.image.format as ImageFormat } : undefined;
              job.resolve({ ...m.result, format: m.format as ImageFormat | undefined, image });
            } else job.reject(deserializeError(m.error));
          }
          this.pump();
        }
      });
      worker.on('error', (e) => {
        if (!ready) reject(e);
        // Out of the rotation now: 'exit' follows, and a job handed over in between would be lost.
        const i = this.slots.indexOf(slot);
        if (i >= 0) this.slots.splice(i, 1);
        slot.job?.reject(new Error(`the inference worker crashed while analysing this image: ${e.message}`));
        slot.job = null;
        this.clearTimer(slot);
      });
      worker.on('exit', (code) => {
        if (!ready) reject(new Error(`the inference worker exited with code ${code} before its models were loaded`));
        const i = this.slots.indexOf(slot);
        if (i >= 0) this.slots.splice(i, 1);
        slot.job?.reject(new Error(`the inference worker stopped (exit code ${code}) while analysing this image`));
        slot.job = null;
        this.clearTimer(slot);
        this.stuck.delete(worker);
        // A crashed worker is replaced, so one poisoned image cannot shrink the pool for good.
        if (ready && !this.closed) {
          this.respawning++;
          this.spawn().then(
            () => { this.respawning--; },
            () => {
              this.respawning--;
              // No worker left and none coming: queued jobs would wait forever.
              if (!this.slots.length && !this.respawning) for (const j of this.queue.splice(0)) j.reject(new Error('no inference worker could be restarted'));
            },
          );
        }
      });
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || !this.queue.length) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.postMessage(job.req, job.transfer);
      const ms = this.opts.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
      slot.timer = setTimeout(() => this.expire(slot, job, ms), ms);
    }
  }

  private clearTimer(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
  }

  /**
   * A job past its deadline: its request fails now, and the worker leaves the rotation and is
   * stopped (its 'exit' brings the replacement). A stop message ends a worker that is only slow;
   * one stuck in JavaScript never reads it and is terminated, but never inside native code.
   */
  private expire(slot: Slot, job: Job, ms: number): void {
    if (slot.job !== job) return;
    slot.job = null;
    slot.timer = null;
    this.timeouts++;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    job.reject(new ImageError('timeout', `the image was not processed within ${ms} ms and its processing was stopped`));
    const w = slot.worker;
    if (!this.threads.has(w)) return; // already exited
    this.stuck.add(w);
    w.postMessage({ type: 'close' });
    const since = Date.now();
    const tryStop = () => {
      if (!this.threads.has(w)) return;
      if (requestStop(slot.flags) || Date.now() - since > NATIVE_WAIT_MS) void w.terminate();
      else setTimeout(tryStop, 20).unref();
    };
    tryStop();
    this.pump();
  }

  /** Decodes (bytes) or takes an RGB image, then detects and runs the requested task models. */
  analyze(input: Uint8Array | RgbImage, opts: PoolAnalyzeOptions = {}): Promise<PoolAnalysis> {
    if (this.closed) return Promise.reject(new Error('the inference pool is closed'));
    // Past the knee a longer queue only makes every caller wait longer: refuse now, cheaply.
    const max = this.opts.maxQueue;
    if (max !== undefined && this.queue.length >= max) {
      this.refused++;
      return Promise.reject(queueFull('image analysis', this.queue.length));
    }
    const { limits, returnImage, ...analyzeOpts } = opts;
    const req: WorkerRequest = { id: this.nextId++, opts: analyzeOpts, limits, returnImage };
    if (input instanceof Uint8Array) req.bytes = input; // structured clone copies it
    else req.image = { width: input.width, height: input.height, data: input.data };
    return new Promise<PoolAnalysis>((resolve, reject) => {
      this.queue.push({ req, transfer: [], resolve, reject });
      this.pump();
    });
  }

  /**
   * Stops every worker by message (see inference-worker.ts: terminate() inside native code can
   * abort the process); terminate() only for one that has not exited after `graceMs`.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('the inference pool is closed'));
    await Promise.all([...this.threads].map((w) => new Promise<void>((resolve) => {
      const timer = setTimeout(() => { void w.terminate(); }, graceMs);
      w.once('exit', () => { clearTimeout(timer); resolve(); });
      w.postMessage({ type: 'close' });
    })));
    this.slots = [];
  }
}
