// Composition root: builds every store and service from a Config. No DI framework; plain
// constructors in one place, so what depends on what is readable top to bottom.
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { openDb, type Db } from './store/db.ts';
import { LocalBlobStore } from './store/blob-local.ts';
import type { BlobStore } from './store/blob-store.ts';
import { Keyring, loadOrCreateMasterKey } from './store/keyring.ts';
import { openKeyStore, type KeyStore } from './store/key-store.ts';
import { moveKeysToKeyStore } from './store/key-store-migrate.ts';
import { reEraseRestoredApps } from './services/key-store-restore.ts';
import { AccountsRepo } from './store/accounts-repo.ts';
import { RunningLogRepo } from './store/running-log-repo.ts';
import { ErrorLog } from './store/error-log.ts';
import { AccountsService } from './services/accounts.ts';
import { AuditRepo } from './store/audit-repo.ts';
import { AuditLog } from './services/audit.ts';
import { systemClock, type Clock } from './services/clock.ts';
import { ActionRegistry } from './api/actions.ts';
import { registerActions } from './api/handlers/index.ts';
import { VisionEngine } from './services/vision.ts';
import { createFusionModule, type FusionModule } from './services/fusion-module.ts';
import { createLibraryModule, type LibraryModule } from './services/library-module.ts';
import { createPrivacyModule, type PrivacyModule } from './services/privacy-module.ts';
import { createRetention, type RetentionModule } from './jobs/retention.ts';

export interface App {
  config: Config;
  clock: Clock;
  db: Db;
  blobs: BlobStore;
  keyring: Keyring;
  /** The per-AppId data keys, apart from the data (erasing an AppId erases its key there). */
  keyStore: KeyStore;
  accounts: AccountsService;
  /** Hash-chained audit log of administrative and privacy actions (src/services/audit.ts). */
  audit: AuditLog;
  runningLog: RunningLogRepo;
  errorLog: ErrorLog;
  registry: ActionRegistry;
  /** Face detection/recognition engine (worker pool, started on first use or by warm()). */
  vision: VisionEngine;
  httpRoutes: ((server: FastifyInstance) => void | Promise<void>)[];
  /** Face fusion: activities, materials, FuseFace/FuseFaceUltra, result links. */
  fusion: FusionModule;
  /** Face library: groups, persons, faces, 1:N search (iai). */
  library: LibraryModule;
  /** Privacy: per-AppId consent/age/inactivity policy and deletion requests (docs/PRIVACY.md). */
  privacy: PrivacyModule;
  /** Retention: the sweeper (every expired row and object, the error-log cap) and its scheduler. */
  retention: RetentionModule;
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
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const closers: (() => Promise<void> | void)[] = [];
  const clock = opts.clock ?? systemClock;
  const keyring = new Keyring(loadOrCreateMasterKey(config.masterKey, config.dataDir));
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pgSchema: opts.pgSchema });
  closers.push(() => db.close());
  const keyStore = await openKeyStore({ url: config.keyStoreUrl, databaseUrl: config.databaseUrl, dataDir: config.dataDir, pgSchema: opts.pgSchema });
  closers.push(() => keyStore.close());
  // Before anything reads a key: keys still in the database move out; tenants a restored
  // backup brought back are found (erased again below, before the first request).
  const keyReport = await moveKeysToKeyStore(db, keyStore);
  let blobs: BlobStore;
  if (config.objectStore.kind === 'local') blobs = await new LocalBlobStore(config.objectStore.dir).init();
  else blobs = new (await import('./store/blob-s3.ts')).S3BlobStore(config.objectStore); // AWS SDK only when used
  closers.push(() => blobs.close());

  const vision = opts.vision ?? VisionEngine.fromConfig(config);
  closers.push(() => vision.close());
  // Failures are kept in vision.status() (/readyz shows them) and retried on first use.
  if (opts.warmVision) vision.warm().catch(() => {});

  const audit = new AuditLog(new AuditRepo(db), clock);
  const app: App = {
    config, clock, db, blobs, keyring, keyStore, audit,
    accounts: new AccountsService(new AccountsRepo(db), keyring, keyStore, clock, audit),
    runningLog: new RunningLogRepo(db),
    errorLog: new ErrorLog({ dir: path.join(config.dataDir, 'logs', 'error'), maxBytes: config.errorLogMaxBytes }),
    registry: new ActionRegistry(),
    vision,
    httpRoutes: [],
    fusion: null as unknown as FusionModule, // built below: it needs the app's stores
    library: null as unknown as LibraryModule, // built below
    privacy: null as unknown as PrivacyModule, // built below, before the library (enrolment applies its policy)
    retention: null as unknown as RetentionModule, // built below
    onClose: (fn) => { closers.push(fn); },
    async close() {
      while (closers.length) await closers.pop()!();
    },
  };
  app.privacy = createPrivacyModule(app);
  app.fusion = createFusionModule(app);
  app.library = createLibraryModule(app);
  app.retention = createRetention(app);
  // BIPA-style purge of persons unused for the AppId's period, on the sweeper's schedule.
  app.retention.sweeper.addTask('inactive_persons', async () => [...(await app.privacy.purgeRetiredPersons()).values()].reduce((a, b) => a + b, 0));
  await reEraseRestoredApps(app, keyReport);
  await registerActions(app);
  // Deletion requests interrupted by a stop finish now, in the background.
  void app.privacy.resume();
  return app;
}

export const cpuCount = () => os.availableParallelism?.() ?? os.cpus().length;
