// Composition root: the one place that builds and wires. Each module is built in dependency
// order and given only the collaborators it uses, so what depends on what reads top to bottom
// here and nowhere else (no placeholders, no thunks, no app object passed down).
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Config } from './config.ts';
import { systemClock, type Clock } from './domain/clock.ts';
import { newJobLease } from './domain/job-lease.ts';
import { rulesFromConfig, type RetentionRule } from './domain/retention-policy.ts';
import { openDb, type Db } from './store/db/db.ts';
import { startupLock } from './store/db/startup-lock.ts';
import { LocalBlobStore } from './store/blobs/blob-local.ts';
import type { BlobStore } from './store/blobs/blob-store.ts';
import { Keyring, loadOrCreateMasterKey } from './store/keys/keyring.ts';
import { type KeyStore } from './store/keys/key-store.ts';
import { openKeyStore } from './store/keys/open-key-store.ts';
import { moveKeysToKeyStore } from './store/keys/key-store-migrate.ts';
import { AccountsRepo } from './store/accounts/accounts-repo.ts';
import { BlobRecords } from './store/blobs/blob-records.ts';
import { LibraryRepo } from './store/library/library-repo.ts';
import { AuditRepo } from './store/accounts/audit-repo.ts';
import { FederationRepo } from './store/accounts/federation-repo.ts';
import { RunningLogRepo } from './store/logs/running-log-repo.ts';
import { ErrorLog } from './store/logs/error-log.ts';
import { UsageRepo } from './store/logs/usage-repo.ts';
import { AccountsService } from './services/accounts/accounts.ts';
import { AuditLog } from './services/accounts/audit.ts';
import { ConsoleSessions } from './services/accounts/console-sessions.ts';
import { ConsoleSessionsRepo } from './store/accounts/console-sessions-repo.ts';
import { RedisSignInFailures, type SignInFailures } from './services/accounts/sign-in-failures.ts';
import { FederationTokens } from './services/accounts/federation.ts';
import { VisionEngine } from './services/media/vision-engine.ts';
import { UsageService } from './services/usage/usage.ts';
import { createFusionModule, type FusionModule } from './services/fusion/fusion-module.ts';
import { createLibraryModule, type LibraryModule } from './services/library/library-module.ts';
import { activeScoreScales } from './services/recognition/active-calibration.ts';
import { scoreScale } from './vision/calibration.ts';
import { createPrivacyModule, createPrivacyPolicy, type PrivacyModule } from './services/privacy/privacy-module.ts';
import { reEraseRestoredApps } from './services/privacy/key-store-restore.ts';
import { createRetention, type RetentionModule } from './jobs/retention.ts';
import { createVideoMaterials, createVideoModule, type VideoModule } from './services/video/video-module.ts';
import { EmbeddedVideoQueue, PgBossVideoQueue, type VideoQueueRunner } from './jobs/video-queue.ts';
import { fetchToFile, sendToUrl } from './services/media/image-input.ts';
import { videoResultRoutes } from './api/routes/video-results.ts';
import { ActionRegistry } from './api/actions/registry.ts';
import { allActions } from './api/handlers/index.ts';
import { resultRoutes } from './api/routes/results.ts';
import { consoleRoutes, defaultConsoleDir } from './api/routes/console.ts';
import type { HttpRoutes } from './api/server.ts';
import { MemoryNonceStore, RedisNonceStore, type NonceStore } from './api/protocol/nonce-cache.ts';
import { RedisProbe } from './store/redis/redis-probe.ts';

export interface App {
  config: Config;
  clock: Clock;
  db: Db;
  blobs: BlobStore;
  keyring: Keyring;
  /** The per-AppId data keys, apart from the data (erasing an AppId erases its key there). */
  keyStore: KeyStore;
  accounts: AccountsService;
  /** Web console sign-in sessions (api/routes/console.ts). */
  consoleSessions: ConsoleSessions;
  /** Temporary credentials (sts GetFederationToken; X-TC-Token). */
  tokens: FederationTokens;
  /** v1 signature nonces seen within the window (shared through Redis when configured). */
  nonces: NonceStore;
  /** /readyz's probe of the deployment's Redis (null without FACEVAULT_REDIS_URL). */
  redis: RedisProbe | null;
  /** Hash-chained audit log of administrative and privacy actions (services/accounts/audit.ts). */
  audit: AuditLog;
  runningLog: RunningLogRepo;
  errorLog: ErrorLog;
  retentionRules: RetentionRule[];
  /** Face detection/recognition engine (worker pool, started on first use or by warm()). */
  vision: VisionEngine;
  /** Face library: groups, persons, faces, 1:N search (iai). */
  library: LibraryModule;
  /** Face fusion: activities, materials, FuseFace/FuseFaceUltra, result links. */
  fusion: FusionModule;
  /** Video face fusion: video materials (tracking), jobs of both dialects, result links. */
  video: VideoModule;
  /** Who runs video jobs: this process from the rows (embedded) or pg-boss. */
  videoQueue: VideoQueueRunner;
  /** Privacy: per-AppId consent/age/inactivity policy and deletion requests (docs/PRIVACY.md). */
  privacy: PrivacyModule;
  usage: UsageService;
  /** Retention: the sweeper (every expired row and object, the error-log cap) and its scheduler. */
  retention: RetentionModule;
  /** Every action declaration, by service and name. */
  registry: ActionRegistry;
  /** Plain-HTTP routes besides the API (signed result links, the web console). */
  httpRoutes: HttpRoutes[];
  /** Closers run in reverse order of creation on shutdown. */
  onClose(fn: () => Promise<void> | void): void;
  close(): Promise<void>;
}

export interface AppOptions {
  clock?: Clock;
  pgSchema?: string;
  /** Start loading the face models right away (serve), instead of on the first request. */
  warmVision?: boolean;
  /** A vision engine made (and warmed) before the app: serve starts the workers first. */
  vision?: VisionEngine;
  /** The built web console (default: console/dist of this package). */
  consoleDir?: string;
  /** `facevault worker`: take video jobs even when the server leaves them to workers (FACEVAULT_VIDEO_RUN_JOBS=0). */
  videoWorker?: boolean;
  /** Do not take video jobs in this process (CLI commands that only read or write records). */
  noVideoJobs?: boolean;
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const closers: (() => Promise<void> | void)[] = [];
  const clock = opts.clock ?? systemClock;

  // Stores. Schema creation and first-start steps run one process at a time (startup-lock.ts).
  const startup = await startupLock(config.databaseUrl, opts.pgSchema);
  closers.push(() => startup.release());
  const keyring = new Keyring(loadOrCreateMasterKey(config.masterKey, config.dataDir));
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pgSchema: opts.pgSchema, queryTimeoutMs: config.dbQueryTimeoutMs, sqliteFlush: config.sqliteFlush });
  closers.push(() => db.close());
  const keyStore = await openKeyStore({ url: config.keyStoreUrl, databaseUrl: config.databaseUrl, dataDir: config.dataDir, pgSchema: opts.pgSchema, queryTimeoutMs: config.dbQueryTimeoutMs });
  closers.push(() => keyStore.close());
  // Before anything reads a key: keys still in the database move out; tenants a restored
  // backup brought back are found (erased again below, before the first request).
  const keyReport = await moveKeysToKeyStore(db, keyStore);
  const blobs: BlobStore = config.objectStore.kind === 'local'
    ? await new LocalBlobStore(config.objectStore.dir).init()
    : new (await import('./store/blobs/blob-s3.ts')).S3BlobStore(config.objectStore); // AWS SDK only when used
  closers.push(() => blobs.close());
  const runningLog = new RunningLogRepo(db);
  const errorLog = new ErrorLog({ dir: path.join(config.dataDir, 'logs', 'error'), maxBytes: config.errorLogMaxBytes });
  const report = (stage: string, e: Error) => errorLog.append({ time: clock.now(), requestId: '-', code: 'InternalError', stage, message: e.message });
  // Processes of one deployment share its database; deployments sharing a Redis must not share keys.
  const deploymentId = crypto.createHash('sha256').update(`${config.databaseUrl ?? config.dataDir}|${db.pgSchema ?? ''}`).digest('hex').slice(0, 16);
  const retentionRules = rulesFromConfig(config);

  // Engines.
  const vision = opts.vision ?? VisionEngine.fromConfig(config);
  closers.push(() => vision.close());
  // Failures are kept in vision.status() (/readyz shows them) and retried on first use.
  if (opts.warmVision) vision.warm().catch(() => {});

  // Capabilities, in the order they depend on each other: accounts; the privacy policy (the
  // library's enrolment applies it); library; fusion; then deletion, which erases in both.
  const audit = new AuditLog(new AuditRepo(db), clock);
  const accountsRepo = new AccountsRepo(db);
  const accounts = new AccountsService(accountsRepo, keyring, keyStore, clock, audit);
  const tokens = new FederationTokens(new FederationRepo(db), accountsRepo, keyring, clock, audit);
  let signInFailures: SignInFailures | undefined;
  if (config.redisUrl) {
    const shared = new RedisSignInFailures(config.redisUrl, `facevault:${deploymentId}`, (e) => report('console-sign-in', e));
    closers.push(() => shared.close());
    signInFailures = shared;
  }
  const consoleSessions = new ConsoleSessions(new ConsoleSessionsRepo(db), accounts, clock, { ttlMs: config.console.sessionTtlMs, idleMs: config.console.idleTimeoutMs }, audit, signInFailures);
  // One library repository: the policy records recognised persons' last use in it.
  const libraryRepo = new LibraryRepo(db);
  const privacyPolicy = createPrivacyPolicy({ db, persons: libraryRepo, defaults: config.privacy, clock, audit });
  // One calibration for CompareFace, Verify* and Search* (`facevault calibrate` writes it).
  const scales = activeScoreScales(config.dataDir);
  // One lease identity per process for the background work it runs (upgrade jobs, deletion requests).
  const lease = newJobLease(config.jobLeaseMs);
  const library = createLibraryModule({ lease, db, repo: libraryRepo, keyring, keyStore, blobs, clock, vision, policy: privacyPolicy.policy, report: (e) => report('library', e) }, { scale: scoreScale(scales.calibration), searchThreads: config.searchThreads });
  closers.push(() => library.index.close());
  // Video materials before fusion: CreateMaterial hands mp4 uploads to them.
  const videoDeps = {
    db, blobs, clock, finder: { analyze: vision.analyze.bind(vision) }, dataDir: config.dataDir, publicUrl: config.publicUrl,
    resultKey: keyring.deriveKey('video-result-url'), callbackKey: keyring.deriveKey('video-callback'), leaseMs: config.video.leaseMs,
    fetchToFile: (url: string, field: string, maxBytes: number, file: string) => fetchToFile(url, { ...vision.urlPolicy, maxBytes, timeoutMs: 120_000 }, file, field),
    sendUrl: (url: string, o: { method: 'PUT' | 'POST'; body: Buffer | { file: string }; headers: Record<string, string> }, field: string) => sendToUrl(url, vision.urlPolicy, o, field),
    report: (e: Error) => report('video', e),
  };
  const videoMaterials = createVideoMaterials(videoDeps);
  const fusion = createFusionModule({
    video: videoMaterials.materials,
    db, blobs, clock, vision, settings: config.fusion, imageTaskTimeoutMs: config.imageTaskTimeoutMs, retention: retentionRules, resultKey: keyring.deriveKey('fusion-result-url'),
    publicUrl: config.publicUrl, redisUrl: config.redisUrl, deploymentId, report, policy: privacyPolicy.policy,
  });
  closers.push(() => fusion.close());
  const video = createVideoModule(videoDeps, videoMaterials, fusion.pool, fusion.readImage);
  const takeJobs = !opts.noVideoJobs && (config.video.runJobs || !!opts.videoWorker);
  const videoQueue: VideoQueueRunner = config.video.queue === 'pg-boss'
    ? new PgBossVideoQueue(video.jobs, { connectionString: config.databaseUrl!, schema: `${db.pgSchema ?? 'public'}_pgboss`, expireInSeconds: Math.max(10, Math.ceil((2 * config.video.leaseMs) / 1000)), retryLimit: 3, work: takeJobs, report: (e) => report('video-queue', e) })
    : new EmbeddedVideoQueue(video.jobs, { report: (e) => report('video-queue', e) });
  video.jobs.useQueue(videoQueue);
  if (config.video.queue === 'pg-boss' || takeJobs) await videoQueue.start();
  await startup.release();
  closers.push(() => videoQueue.stop());
  closers.push(() => video.materials.idle());
  // Deletion erases each table through its owner: library, fusion, running log, blobs registry, accounts.
  const privacy = createPrivacyModule({
    base: privacyPolicy, db, blobs, blobRecords: new BlobRecords(db), errorLog, keyring, keyStore, clock, audit,
    library, fusion, video: video.repo, runningLog, accounts: accountsRepo, report: (e) => report('deletion', e), lease,
  });
  closers.push(() => privacy.deletions.stop());
  closers.push(() => library.upgrades.stop());
  const usage = new UsageService(new UsageRepo(db));

  // Background jobs.
  const retention = createRetention({ db, blobs, clock, errorLog, library, sweepIntervalMs: config.retention.sweepIntervalMs, orphanGraceMs: config.orphanGraceMs, redisUrl: config.redisUrl, deploymentId, report });
  closers.push(() => retention.scheduler.stop());
  // BIPA-style purge of persons unused for the AppId's period, on the sweeper's schedule.
  retention.sweeper.addTask('expired_federation_tokens', () => tokens.sweepExpired());
  retention.sweeper.addTask('inactive_persons', async () => [...(await privacy.purgeRetiredPersons()).values()].reduce((a, b) => a + b, 0));

  // The API surface.
  const registry = new ActionRegistry(allActions({ clock, region: config.region, retention: retentionRules, vision, library, fusion, privacy, usage, scales, accounts, audit, tokens, video }));
  const httpRoutes: HttpRoutes[] = [
    (server) => resultRoutes(server, fusion.results),
    (server) => videoResultRoutes(server, video.results),
    // The console calls the same registry with the same policy and logs as POST / (api/protocol/call.ts).
    consoleRoutes({ config, clock, accounts, registry, runningLog, errorLog, sessions: consoleSessions, assetsDir: opts.consoleDir ?? defaultConsoleDir() }),
  ];
  let redis: RedisProbe | null = null;
  if (config.redisUrl) {
    const probe = new RedisProbe(config.redisUrl);
    closers.push(() => probe.close());
    redis = probe;
  }
  let nonces: NonceStore = new MemoryNonceStore();
  if (config.redisUrl) {
    const shared = new RedisNonceStore(config.redisUrl, `facevault:${deploymentId}`, (e) => report('v1-nonces', e));
    closers.push(() => shared.close());
    nonces = shared;
  }

  await reEraseRestoredApps({ privacy, keyStoreKind: keyStore.kind, note: (message) => errorLog.append({ time: clock.now(), requestId: '-', code: 'KeyStore', message }) }, keyReport);
  // Deletion requests interrupted by a stop finish now, in the background.
  void privacy.resume();
  // Tracking passes of video materials interrupted by a stop run again.
  if (!opts.noVideoJobs) void video.materials.resume().catch((e: Error) => report('video', e));
  return {
    config, clock, db, blobs, keyring, keyStore, accounts, consoleSessions, tokens, nonces, redis, audit, runningLog, errorLog, retentionRules, vision, library, fusion, video, videoQueue, privacy, usage,
    retention, registry, httpRoutes,
    onClose: (fn) => { closers.push(fn); },
    async close() {
      while (closers.length) await closers.pop()!();
    },
  };
}

export const cpuCount = () => os.availableParallelism?.() ?? os.cpus().length;
