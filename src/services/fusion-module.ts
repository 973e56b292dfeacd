// Builds the face fusion capability from the app's stores: repo, material service, result
// links, worker pool, rate limiter and the fusion service itself.
import crypto from 'node:crypto';
import type { App } from '../app.ts';
import { TcError } from '../api/errors.ts';
import { FusionRepo } from '../store/fusion-repo.ts';
import { FusionPool } from '../vision/fusion/pool.ts';
import { FusionMaterials, type FusionLimits } from './fusion-materials.ts';
import { FusionResults } from './fusion-results.ts';
import { FusionService, type ImageReader } from './fusion.ts';
import type { FaceFinder } from './fusion-vision.ts';
import { decodeBase64Image, fetchImage } from './image-input.ts';
import { LocalRateLimiter, RedisRateLimiter, type RateLimiter } from './rate-limit.ts';
import { retentionFor, rulesFromConfig } from './retention-policy.ts';

export interface FusionModule {
  repo: FusionRepo;
  materials: FusionMaterials;
  results: FusionResults;
  service: FusionService;
  readImage: ImageReader;
  logRetainMs: number;
  /** The fusion worker pool (its health() feeds /readyz). */
  pool: FusionPool;
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

export function createFusionModule(app: App, deps: { finder?: FaceFinder; fetchUrl?: (url: string, field: string, maxBytes: number) => Promise<Buffer> } = {}): FusionModule {
  const rules = rulesFromConfig(app.config);
  const limits: FusionLimits = {
    draftQps: app.config.fusion.draftQps,
    publishedQps: app.config.fusion.publishedQps,
    materialMaxSide: 4096,
    cacheBytes: app.config.fusion.cacheBytes,
  };
  // The shared inference pool does detection and mesh off the event loop.
  const finder: FaceFinder = deps.finder ?? { analyze: (img, o) => app.vision.analyze(img, o) };
  const fetchUrl = deps.fetchUrl ?? ((url: string, field: string, maxBytes: number) => fetchImage(url, { ...app.vision.urlPolicy, maxBytes }, field));
  const repo = new FusionRepo(app.db);
  const materials = new FusionMaterials(repo, app.blobs, app.clock, finder, limits);
  const results = new FusionResults(repo, app.blobs, app.clock, app.keyring.deriveKey('fusion-result-url'), app.config.publicUrl);
  app.httpRoutes.push(results.routes);
  const pool = new FusionPool(app.config.fusion.threads, { taskTimeoutMs: app.config.imageTaskTimeoutMs });
  app.onClose(() => pool.close());
  const readImage = base64Reader(fetchUrl);
  // With Redis, every instance of the deployment shares the activity buckets (docs/API.md).
  const deployment = crypto.createHash('sha256').update(`${app.config.databaseUrl ?? app.config.dataDir}|${app.db.pgSchema ?? ''}`).digest('hex').slice(0, 16);
  const limiter: RateLimiter = app.config.redisUrl
    ? new RedisRateLimiter(app.config.redisUrl, app.clock, `facevault:${deployment}`, (e) => app.errorLog.append({ time: app.clock.now(), requestId: '-', code: 'InternalError', stage: 'fusion-rate-limit', message: `Redis rate limiting failed, limiting per process: ${e.message}` }))
    : new LocalRateLimiter(app.clock);
  if (limiter.close) app.onClose(() => limiter.close!());
  const service = new FusionService(materials, finder, pool, results, limiter, readImage, {
    fusedMs: retentionFor(rules, 'fused_result')!, ultraMs: retentionFor(rules, 'fused_result_ultra')!,
  });
  return { repo, materials, results, service, readImage, pool, logRetainMs: retentionFor(rules, 'fusion_log')! };
}
