// app.vision: the inference pool, started on first use (or warmed at server start), plus the
// image-input policy. Everything that needs faces goes through here, so model loading,
// threads and Url policy are decided once.
import { InferencePool, type PoolAnalysis, type PoolAnalyzeOptions } from '../../vision/inference-pool.ts';
import { DEFAULT_MODEL_VERSION, loadModelSets } from '../../vision/model-set.ts';
import type { RgbImage } from '../../vision/types.ts';
import type { TaskName } from '../../vision/task-model.ts';
import type { PoolHealth } from '../../vision/pool-health.ts';
import { imageErrorToTc, readImageInput, TENCENT_IMAGE_LIMITS, type UrlPolicy } from './image-input.ts';

export type VisionStatus =
  | { state: 'idle' }
  | { state: 'loading'; sinceMs: number }
  /** Core models (detect, landmarks, embedding) serve; `allLoaded` once optional tasks are in too. */
  | { state: 'ready'; loadMs: number; threads: number; tasks: TaskName[]; version: string; allLoaded: boolean; allLoadedMs?: number }
  | { state: 'failed'; error: string };

export interface VisionOptions {
  threads: number;
  modelSetDirs?: string[];
  tasks?: TaskName[];
  /** Operator anti-spoofing model directory (FACEVAULT_LIVENESS_MODEL); DetectLiveFaceAccurate needs it. */
  livenessModelDir?: string;
  /** Deadline of one analysis in a worker (default 30 s). */
  taskTimeoutMs?: number;
  /** Tasks waiting per pool before RequestLimitExceeded (absent: unbounded). */
  maxQueue?: number;
}

export interface EngineAnalyzeOptions extends PoolAnalyzeOptions {
  /** Model set (FaceModelVersion); default "3.0". Other sets get their own workers on first use. */
  modelVersion?: string;
}

export class VisionEngine {
  private pool: Promise<InferencePool> | null = null;
  private readonly extraPools = new Map<string, Promise<InferencePool>>();
  private _status: VisionStatus = { state: 'idle' };
  /** Started pools, for health(): the pool promises cannot be read synchronously. */
  private readonly started = new Set<InferencePool>();
  readonly urlPolicy: UrlPolicy;

  constructor(private readonly opts: VisionOptions, urlPolicy: UrlPolicy) {
    this.urlPolicy = urlPolicy;
  }

  static fromConfig(config: { inferenceThreads: number; modelSetDirs: string[]; urlAllowList: string[]; imageTaskTimeoutMs: number; livenessModelDir?: string | null; maxQueue?: number }): VisionEngine {
    return new VisionEngine({ threads: config.inferenceThreads, modelSetDirs: config.modelSetDirs, taskTimeoutMs: config.imageTaskTimeoutMs, livenessModelDir: config.livenessModelDir ?? undefined, maxQueue: config.maxQueue }, { allowList: config.urlAllowList });
  }

  status(): VisionStatus {
    return this._status;
  }

  /** Worker health of every started pool (stuck or replacing workers make /readyz fail). */
  health(): PoolHealth[] {
    return [...this.started].map((p) => p.health());
  }

  /** Model versions this deployment can compute (default first). */
  modelVersions(): string[] {
    const all = [...loadModelSets(this.opts.modelSetDirs ?? []).keys()];
    return [DEFAULT_MODEL_VERSION, ...all.filter((v) => v !== DEFAULT_MODEL_VERSION)];
  }

  /** Starts the workers now (serve does this so the first request does not pay for it). */
  warm(): Promise<InferencePool> {
    if (!this.pool) {
      const t0 = performance.now();
      this._status = { state: 'loading', sinceMs: Date.now() };
      this.pool = InferencePool.start({ threads: this.opts.threads, extraModelSetDirs: this.opts.modelSetDirs, tasks: this.opts.tasks, livenessModelDir: this.opts.livenessModelDir, maxQueue: this.opts.maxQueue, taskTimeoutMs: this.opts.taskTimeoutMs }).then(
        (p) => {
          this.started.add(p);
          const st: VisionStatus = { state: 'ready', loadMs: Math.round(performance.now() - t0), threads: p.size, tasks: p.available, version: p.version, allLoaded: false };
          this._status = st;
          p.allLoaded.then(
            () => { Object.assign(st, { allLoaded: true, allLoadedMs: Math.round(performance.now() - t0), tasks: p.available }); },
            (e: Error) => { if (this._status === st) this._status = { state: 'failed', error: `optional models: ${e.message}` }; },
          );
          return p;
        },
        (e: Error) => {
          this._status = { state: 'failed', error: e.message };
          this.pool = null; // a later call retries (e.g. after `npm ci` fixed the models)
          throw e;
        },
      );
    }
    return this.pool;
  }

  /** FaceEngine: decode (bytes, header-checked against opts.limits) and analyze in a worker. */
  async analyze(input: Uint8Array | RgbImage, opts: EngineAnalyzeOptions = {}): Promise<PoolAnalysis> {
    const { modelVersion, ...rest } = opts;
    if (!modelVersion || modelVersion === DEFAULT_MODEL_VERSION) return (await this.warm()).analyze(input, rest);
    return (await this.poolFor(modelVersion)).analyze(input, rest);
  }

  /**
   * Tencent's `Image`/`Url` pair (names per action, e.g. ImageA/UrlA) read with the Url policy,
   * decoded under Tencent's limits and analyzed in a worker; image errors become Tencent codes
   * naming the field the image came from.
   */
  async analyzeInput(params: Record<string, unknown>, fields: { image: string; url: string }, opts: EngineAnalyzeOptions = {}): Promise<PoolAnalysis> {
    const src = await readImageInput(params, this.urlPolicy, fields);
    try {
      return await this.analyze(src.bytes, { ...opts, limits: TENCENT_IMAGE_LIMITS });
    } catch (e) {
      throw imageErrorToTc(e, src.from === 'url' ? fields.url : fields.image);
    }
  }

  private poolFor(version: string): Promise<InferencePool> {
    let p = this.extraPools.get(version);
    if (!p) {
      if (!this.modelVersions().includes(version)) return Promise.reject(new Error(`model set "${version}" is not installed`));
      p = InferencePool.start({ threads: this.opts.threads, modelSet: version, extraModelSetDirs: this.opts.modelSetDirs, tasks: this.opts.tasks, livenessModelDir: this.opts.livenessModelDir, maxQueue: this.opts.maxQueue, taskTimeoutMs: this.opts.taskTimeoutMs });
      p.then((x) => this.started.add(x), () => {});
      p.catch(() => this.extraPools.delete(version));
      this.extraPools.set(version, p);
    }
    return p;
  }

  async close(): Promise<void> {
    const pools = [this.pool, ...this.extraPools.values()];
    this.pool = null;
    this.extraPools.clear();
    this._status = { state: 'idle' };
    this.started.clear();
    await Promise.all(pools.map((p) => p?.then((x) => x.close(), () => {})));
  }
}
