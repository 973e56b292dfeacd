// Builds the face fusion capability from the stores it uses: repo, material service, result
// links, worker pool, rate limiter, the fusion service itself and the calls the API makes.
import type { Clock } from '../../domain/clock.ts';
import type { RetentionRule } from '../../domain/retention-policy.ts';
import type { Db } from '../../store/db/db.ts';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { VisionEngine } from '../media/vision-engine.ts';
import { TcError } from '../../domain/errors.ts';
import { FusionRepo } from '../../store/fusion/fusion-repo.ts';
import { FusionPool } from '../../vision/fusion/pool.ts';
import { FusionMaterials, type FusionLimits } from './fusion-materials.ts';
import { FusionResults } from './fusion-results.ts';
import { FusionService, type ImageReader } from './fusion.ts';
import { FusionCalls, type AgePolicy, type VideoIntake } from './fusion-calls.ts';
import { FusionLog } from './fusion-log.ts';
import type { FaceFinder } from './fusion-vision.ts';
import { decodeBase64Image, fetchImage } from '../media/image-input.ts';
import { LocalRateLimiter, RedisRateLimiter, type RateLimiter } from './rate-limit.ts';
import { retentionFor } from '../../domain/retention-policy.ts';

export interface FusionModule {
  repo: FusionRepo;
  materials: FusionMaterials;
  results: FusionResults;
  service: FusionService;
  /** FuseFace, FuseFaceUltra and CreateMaterial as the API calls them (age gate, admission, fusion log). */
  calls: FusionCalls;
  readImage: ImageReader;
  logRetainMs: number;
  /** The fusion worker pool (its health() feeds /readyz). */
  pool: FusionPool;
  close(): Promise<void>;
}

export interface FusionSettings { threads: number; draftQps: number; publishedQps: number; cacheBytes: number; /** Waiting fusion tasks before RequestLimitExceeded (absent: unbounded). */ maxQueue?: number; swapModelDir?: string | null }

export interface FusionDeps {
  /** Deadline of one unit of image work in the fusion workers (FACEVAULT_IMAGE_TASK_TIMEOUT_MS). */
  imageTaskTimeoutMs: number;
  db: Db;
  blobs: BlobStore;
  clock: Clock;
  vision: VisionEngine;
  settings: FusionSettings;
  retention: RetentionRule[];
  /** Key for result-link signatures (derived from the master key). */
  resultKey: Buffer;
  publicUrl: string | null;
  /** With Redis, every instance of the deployment shares the activity buckets (docs/API.md). */
  redisUrl: string | null;
  /** Names this deployment's keys in a shared Redis. */
  deploymentId: string;
  /** The privacy policy's minimum age for user faces (docs/PRIVACY.md); without it none applies. */
  policy: AgePolicy;
  /** Video materials (services/video): CreateMaterial hands mp4 uploads to them. */
  video?: VideoIntake;
  report(stage: string, e: Error): void;
}

/** Base64 via the shared decoder; Url inputs through the shared SSRF-guarded fetcher. */
export function base64Reader(fetchUrl?: (url: string, field: string, maxBytes: number) => Promise<Buffer>): ImageReader {
  return async (input, field, limits) => {
    if (input.url) {
      if (!fetchUrl) throw new TcError('FailedOperation.ImageDownloadError', `${field}: Url inputs are not available on this server`);
      return fetchUrl(input.url, field, limits.maxUrlBytes);
    }
    const s = input.image ?? '';
    // Tencent's limit is on the base64 text: 5 MB for FuseFace, 10 MB for FuseFaceUltra.
    if (s.length > limits.maxBase64Bytes) throw new TcError('FailedOperation.ImageSizeExceed', `${field}: the base64 data is ${s.length} bytes; at most ${limits.maxBase64Bytes} is accepted`);
    // The shared decoder checks against 5 MB; larger Ultra inputs are checked above instead.
    return s.length > 5 * 1024 * 1024 ? Buffer.from(s, 'base64') : decodeBase64Image(s, field);
  };
}

export function createFusionModule(d: FusionDeps, opts: { finder?: FaceFinder; fetchUrl?: (url: string, field: string, maxBytes: number) => Promise<Buffer> } = {}): FusionModule {
  const limits: FusionLimits = {
    draftQps: d.settings.draftQps,
    publishedQps: d.settings.publishedQps,
    materialMaxSide: 4096,
    cacheBytes: d.settings.cacheBytes,
  };
  // The shared inference pool does detection and mesh off the event loop.
  const finder: FaceFinder = opts.finder ?? { analyze: (img, o) => d.vision.analyze(img, o) };
  const fetchUrl = opts.fetchUrl ?? ((url: string, field: string, maxBytes: number) => fetchImage(url, { ...d.vision.urlPolicy, maxBytes }, field));
  const repo = new FusionRepo(d.db);
  const materials = new FusionMaterials(repo, d.blobs, d.clock, finder, limits);
  const results = new FusionResults(repo, d.blobs, d.clock, d.resultKey, d.publicUrl);
  const pool = new FusionPool(d.settings.threads, { taskTimeoutMs: d.imageTaskTimeoutMs, maxQueue: d.settings.maxQueue, swapModelDir: d.settings.swapModelDir ?? undefined });
  const readImage = base64Reader(fetchUrl);
  const limiter: RateLimiter = d.redisUrl
    ? new RedisRateLimiter(d.redisUrl, d.clock, `facevault:${d.deploymentId}`, (e) => d.report('fusion-rate-limit', new Error(`Redis rate limiting failed, limiting per process: ${e.message}`)))
    : new LocalRateLimiter(d.clock);
  const service = new FusionService(materials, finder, pool, results, limiter, readImage, {
    fusedMs: retentionFor(d.retention, 'fused_result')!, ultraMs: retentionFor(d.retention, 'fused_result_ultra')!,
  });
  const logRetainMs = retentionFor(d.retention, 'fusion_log')!;
  const calls = new FusionCalls(service, materials, new FusionLog(repo, d.clock, logRetainMs), readImage, d.policy, d.video);
  return {
    repo, materials, results, service, calls, readImage, logRetainMs, pool,
    async close() {
      await limiter.close?.();
      await pool.close();
    },
  };
}
