// `facevault backup <dir>` / `facevault restore <dir>`: the data database, the objects, and (only
// when asked) the key store and the master key, with a manifest of counts and checksums.
//
// Consistent while serving: the database is copied as one snapshot (SQLite's online backup
// API through better-sqlite3 `.backup()`, which other connections may write during; PostgreSQL
// `pg_dump`, one transaction), then the objects. Objects are written before the rows that name
// them, so every object a snapshot row names already exists when the object copy starts; one
// deleted in between (expired or erased after the snapshot) is missing from the copy, which is
// what its deletion asked for. Objects newer than the snapshot are copied too (unreferenced).
//
// Keys (docs/PRIVACY.md "Key store"): by default the key store is NOT in the backup, so a
// restored backup cannot bring back a tenant erased since: its key exists nowhere. Restore
// then runs the start-up key check (the caller opens the app), which closes and erases again
// every AppId the key store has erased.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Db } from '../db/db.ts';
import type { DB } from '../db/schema.ts';
import { LocalBlobStore } from '../blobs/blob-local.ts';
import type { BlobStore } from '../blobs/blob-store.ts';
import { keyStoreFile, DEFAULT_PG_KEY_SCHEMA } from '../keys/key-store.ts';
import { copyObjects, objectsSummary, type ObjectsSummary } from './object-copy.ts';
import { dataTables, tableDigest } from './table-copy.ts';

export const MANIFEST = 'manifest.json';

export interface BackupManifest {
  format: 'facevault-backup/1';
  createdAt: string;
  mode: 'sqlite' | 'postgres';
  database: { file: string; tables: Record<string, { rows: number; sha256: string }> };
  objects: ObjectsSummary;
  /** "excluded" (default) or the file holding the key store copy. */
  keyStore: 'excluded' | { file: string; kind: 'sqlite' | 'pg_dump' };
  masterKey: 'excluded' | 'included' | 'from-environment';
}

export interface BackupSource {
  dataDir: string;
  databaseUrl: string | null;
  pgSchema?: string;
  keyStoreUrl: string | null;
  /** Master key given in the environment (never written to a backup). */
  masterKeyFromEnv: boolean;
  blobs: BlobStore;
}

export async function backup(src: BackupSource, dir: string, opts: { includeKeys?: boolean } = {}): Promise<BackupManifest> {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length) throw new Error(`${dir} is not empty; a backup goes into a new or empty directory`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = src.databaseUrl ? 'postgres' : 'sqlite';
  let dbFile: string;
  let tables: BackupManifest['database']['tables'] = {};
  if (mode === 'sqlite') {
    dbFile = 'facevault.sqlite';
    await sqliteSnapshot(path.join(src.dataDir, 'facevault.sqlite'), path.join(dir, dbFile));
    // Checksums of the snapshot itself (the copy), so restore can verify what it restores.
    const snap = readOnly(path.join(dir, dbFile));
    try { tables = await digests(snap); } finally { await snap.close(); }
  } else {
    dbFile = 'database.dump';
    pgDump(src.databaseUrl!, src.pgSchema ?? 'public', path.join(dir, dbFile));
  }
  const objects = await copyObjects(src.blobs, await new LocalBlobStore(path.join(dir, 'objects')).init());

  let keyStore: BackupManifest['keyStore'] = 'excluded';
  let masterKey: BackupManifest['masterKey'] = 'excluded';
  if (opts.includeKeys) {
    const ks = src.keyStoreUrl ?? (mode === 'sqlite' ? keyStoreFile(src.dataDir) : src.databaseUrl!);
    if (/^postgres(ql)?:\/\//.test(ks)) {
      const schema = src.pgSchema && !src.keyStoreUrl ? `${src.pgSchema}_keys` : DEFAULT_PG_KEY_SCHEMA;
      pgDump(ks, schema, path.join(dir, 'keys.dump'));
      keyStore = { file: 'keys.dump', kind: 'pg_dump' };
    } else {
      await sqliteSnapshot(ks, path.join(dir, 'keys.sqlite'));
      keyStore = { file: 'keys.sqlite', kind: 'sqlite' };
    }
    if (src.masterKeyFromEnv) masterKey = 'from-environment';
    else {
      fs.copyFileSync(path.join(src.dataDir, 'master.key'), path.join(dir, 'master.key'));
      fs.chmodSync(path.join(dir, 'master.key'), 0o600);
      masterKey = 'included';
    }
  }
  const manifest: BackupManifest = { format: 'facevault-backup/1', createdAt: new Date().toISOString(), mode, database: { file: dbFile, tables }, objects, keyStore, masterKey };
  fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
  return manifest;
}

export function readManifest(dir: string): BackupManifest {
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) throw new Error(`${dir} holds no ${MANIFEST}: not a facevault backup`);
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as BackupManifest;
  if (m.format !== 'facevault-backup/1') throw new Error(`unknown backup format ${String(m.format)}`);
  return m;
}

/**
 * Puts a backup in place of the deployment's data (the server must be stopped). The key store
 * is left as it is unless `restoreKeys` (and the backup has one): restoring an old key store
 * undoes every erasure since the backup (docs/PRIVACY.md). Checksums are verified first.
 */
export async function restore(dst: BackupSource, dir: string, opts: { restoreKeys?: boolean } = {}): Promise<{ manifest: BackupManifest; keysRestored: boolean }> {
  const m = readManifest(dir);
  if (m.mode !== (dst.databaseUrl ? 'postgres' : 'sqlite')) throw new Error(`the backup is of a ${m.mode} deployment; this one is ${dst.databaseUrl ? 'postgres' : 'sqlite'} (use facevault migrate to move between them)`);
  const backupObjects = await new LocalBlobStore(path.join(dir, 'objects')).init();
  const got = await objectsSummary(backupObjects);
  if (got.sha256 !== m.objects.sha256) throw new Error(`the backup's objects do not match its manifest (${got.count} objects, manifest ${m.objects.count}): damaged backup`);
  if (m.mode === 'sqlite') {
    const snap = readOnly(path.join(dir, m.database.file));
    try {
      const now = await digests(snap);
      for (const [t, d] of Object.entries(m.database.tables)) {
        if (now[t]?.sha256 !== d.sha256) throw new Error(`the backup's table ${t} does not match its manifest: damaged backup`);
      }
    } finally { await snap.close(); }
    const target = path.join(dst.dataDir, 'facevault.sqlite');
    fs.mkdirSync(dst.dataDir, { recursive: true, mode: 0o700 });
    for (const f of [target, `${target}-wal`, `${target}-shm`]) fs.rmSync(f, { force: true });
    await sqliteSnapshot(path.join(dir, m.database.file), target);
    fs.chmodSync(target, 0o600);
  } else {
    pgRestore(dst.databaseUrl!, path.join(dir, m.database.file));
  }
  // Objects: the store is made equal to the backup's (objects not in the backup are removed).
  const inBackup = new Set(await backupObjects.list(''));
  for (const key of await dst.blobs.list('')) if (!inBackup.has(key)) await dst.blobs.delete(key);
  await copyObjects(backupObjects, dst.blobs);

  let keysRestored = false;
  if (opts.restoreKeys) {
    if (m.keyStore === 'excluded') throw new Error('the backup holds no key store (it was taken without --include-keys)');
    if (m.keyStore.kind === 'sqlite') {
      const ks = dst.keyStoreUrl ?? keyStoreFile(dst.dataDir);
      fs.mkdirSync(path.dirname(ks), { recursive: true, mode: 0o700 });
      for (const f of [ks, `${ks}-journal`]) fs.rmSync(f, { force: true });
      await sqliteSnapshot(path.join(dir, m.keyStore.file), ks);
      fs.chmodSync(ks, 0o600);
    } else pgRestore(dst.keyStoreUrl ?? dst.databaseUrl!, path.join(dir, m.keyStore.file));
    if (m.masterKey === 'included') {
      fs.copyFileSync(path.join(dir, 'master.key'), path.join(dst.dataDir, 'master.key'));
      fs.chmodSync(path.join(dst.dataDir, 'master.key'), 0o600);
    }
    keysRestored = true;
  }
  return { manifest: m, keysRestored };
}

async function digests(db: Db): Promise<Record<string, { rows: number; sha256: string }>> {
  const out: Record<string, { rows: number; sha256: string }> = {};
  for (const t of await dataTables(db)) out[t] = await tableDigest(db, t);
  return out;
}

/** A snapshot file opened read-only (no migration, no WAL files next to it). */
function readOnly(file: string): Db {
  const sqlite = new Database(file, { readonly: true, fileMustExist: true });
  const kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { kysely, dialect: 'sqlite', close: () => kysely.destroy(), ping: async () => {} };
}

/** SQLite online backup: a consistent copy while other connections read and write. */
async function sqliteSnapshot(from: string, to: string): Promise<void> {
  if (!fs.existsSync(from)) throw new Error(`${from} does not exist`);
  const src = new Database(from, { fileMustExist: true });
  try {
    src.pragma('busy_timeout = 5000');
    await src.backup(to);
  } finally {
    src.close();
  }
  fs.chmodSync(to, 0o600);
}

function pgDump(url: string, schema: string, file: string): void {
  try {
    execFileSync('pg_dump', ['--dbname', url, '--schema', schema, '--format', 'custom', '--file', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('pg_dump was not found on PATH; install the PostgreSQL client tools of the server\'s version');
    throw new Error(`pg_dump failed: ${err.stderr?.toString().trim().split('\n').pop() ?? err.message}`);
  }
  fs.chmodSync(file, 0o600);
}

function pgRestore(url: string, file: string): void {
  try {
    execFileSync('pg_restore', ['--dbname', url, '--clean', '--if-exists', '--no-owner', '--single-transaction', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('pg_restore was not found on PATH; install the PostgreSQL client tools of the server\'s version');
    throw new Error(`pg_restore failed: ${err.stderr?.toString().trim().split('\n').pop() ?? err.message}`);
  }
}
