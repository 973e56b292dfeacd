// `facevault backup <dir> [--include-keys]`, `facevault restore <dir> [--restore-keys]` and
// `facevault migrate --to postgres://... [--objects s3://...] [--keystore URL]`.
// The copying lives in store/backup/; here the deployment's stores are opened from the
// configuration and, after a restore, the app is started once so the start-up key check runs
// (store/keys/key-store-migrate.ts, services/privacy/key-store-restore.ts): tenants erased
// since the backup are closed and erased again before any server serves the restored data.
import { loadConfig, type Config } from '../config.ts';
import { openDb } from '../store/db/db.ts';
import { LocalBlobStore } from '../store/blobs/blob-local.ts';
import type { BlobStore } from '../store/blobs/blob-store.ts';
import { openKeyStore } from '../store/keys/open-key-store.ts';
import { backup, restore, type BackupManifest } from '../store/backup/backup.ts';
import { migrateDeployment, type MigrationReport } from '../store/backup/migrate.ts';

async function openBlobs(objectStore: Config['objectStore']): Promise<BlobStore> {
  return objectStore.kind === 'local'
    ? new LocalBlobStore(objectStore.dir).init()
    : new (await import('../store/blobs/blob-s3.ts')).S3BlobStore(objectStore);
}

export interface CommandOptions { pgSchema?: string }

export async function backupCommand(config: Config, dir: string, flags: { includeKeys?: boolean }, o: CommandOptions = {}): Promise<BackupManifest> {
  const blobs = await openBlobs(config.objectStore);
  try {
    return await backup({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, pgSchema: o.pgSchema, keyStoreUrl: config.keyStoreUrl, masterKeyFromEnv: config.masterKey !== null, blobs }, dir, flags);
  } finally {
    await blobs.close();
  }
}

export interface RestoreReport {
  manifest: BackupManifest;
  keysRestored: boolean;
  /** AppIds the key store had erased, found in the restored data and erased again. */
  reErased: number[];
  /** Active AppIds with no key in the configured key store (their features cannot be opened). */
  missingKeys: number[];
}

export async function restoreCommand(config: Config, dir: string, flags: { restoreKeys?: boolean }, o: CommandOptions = {}): Promise<RestoreReport> {
  const blobs = await openBlobs(config.objectStore);
  let r;
  try {
    r = await restore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, pgSchema: o.pgSchema, keyStoreUrl: config.keyStoreUrl, masterKeyFromEnv: config.masterKey !== null, blobs }, dir, flags);
  } finally {
    await blobs.close();
  }
  // The key check: the same one every start runs, now, so the restored data is never served first.
  const { createApp } = await import('../app.ts');
  const { moveKeysToKeyStore } = await import('../store/keys/key-store-migrate.ts');
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pgSchema: o.pgSchema });
  const keyStore = await openKeyStore({ url: config.keyStoreUrl, databaseUrl: config.databaseUrl, dataDir: config.dataDir, pgSchema: o.pgSchema });
  let report;
  try { report = await moveKeysToKeyStore(db, keyStore); } finally { await keyStore.close(); await db.close(); }
  const app = await createApp(config, { pgSchema: o.pgSchema }); // erases report.erased again (reEraseRestoredApps)
  try {
    await app.privacy.resume(); // the erasures it started, to the end
  } finally {
    await app.close();
  }
  return { manifest: r.manifest, keysRestored: r.keysRestored, reErased: report.erased, missingKeys: report.missing };
}

export async function migrateCommand(config: Config, flags: { to: string; objects?: string; keystore?: string }, env: NodeJS.ProcessEnv, o: CommandOptions & { targetPgSchema?: string } = {}): Promise<MigrationReport> {
  if (config.databaseUrl) throw new Error('migrate moves an embedded deployment (SQLite); this one already uses PostgreSQL');
  // The target's settings parsed as its own configuration (same validation, same S3 variables).
  const target = loadConfig({ ...env, FACEVAULT_DATABASE_URL: flags.to, FACEVAULT_OBJECT_STORE: flags.objects ?? '', FACEVAULT_KEYSTORE_URL: flags.keystore ?? '' });
  const from = {
    db: await openDb({ databaseUrl: null, dataDir: config.dataDir }),
    keyStore: await openKeyStore({ url: config.keyStoreUrl, databaseUrl: null, dataDir: config.dataDir }),
    blobs: flags.objects ? await openBlobs(config.objectStore) : undefined,
  };
  const to = {
    db: await openDb({ databaseUrl: target.databaseUrl, dataDir: config.dataDir, pgSchema: o.targetPgSchema }),
    keyStore: await openKeyStore({ url: target.keyStoreUrl, databaseUrl: target.databaseUrl, dataDir: config.dataDir, pgSchema: o.targetPgSchema }),
    blobs: flags.objects ? await openBlobs(target.objectStore) : undefined,
  };
  try {
    return await migrateDeployment(from, to);
  } finally {
    for (const s of [from, to]) { await s.blobs?.close(); await s.keyStore.close(); await s.db.close(); }
  }
}
