// `facevault migrate --to postgres://... [--objects s3://...]`: an embedded deployment (SQLite,
// local objects, SQLite key store) copied into the scaled one, then compared table by table
// (row counts and content digests), object by object (keys and SHA-256) and key by key.
// The source is only read; run it with the server stopped (or accept that writes after the
// copy started are not in the target: the comparison then reports them as differences).
import type { Db } from '../db/db.ts';
import type { BlobStore } from '../blobs/blob-store.ts';
import type { KeyStore } from '../keys/key-store.ts';
import { copyObjects, objectsSummary, type ObjectsSummary } from './object-copy.ts';
import { copyTable, dataTables, nonEmptyTables, tableDigest } from './table-copy.ts';

export interface MigrationReport {
  tables: { table: string; rows: number; targetRows: number; equal: boolean }[];
  objects: { source: ObjectsSummary; target: ObjectsSummary; equal: boolean } | null;
  keys: { copied: number; tombstones: number; equal: boolean };
  ok: boolean;
}

export interface Side { db: Db; blobs?: BlobStore; keyStore: KeyStore }

export async function migrateDeployment(from: Side, to: Side): Promise<MigrationReport> {
  const tables = await dataTables(from.db);
  const targetTables = new Set(await dataTables(to.db));
  const missing = tables.filter((t) => !targetTables.has(t));
  if (missing.length) throw new Error(`the target database lacks tables ${missing.join(', ')} (different versions?)`);
  const used = await nonEmptyTables(to.db, tables);
  if (used.length) throw new Error(`the target database already holds data (${used.join(', ')}); migrate into an empty database or schema`);

  // Keys first: once rows exist in the target, a key must be there to open them.
  const apps = await from.db.kysely.selectFrom('apps').select('app_id').orderBy('app_id').execute();
  let copied = 0, tombstones = 0, keysEqual = true;
  for (const { app_id } of apps) {
    const appId = Number(app_id);
    const k = await from.keyStore.get(appId);
    if (k.state === 'present') { await to.keyStore.put(appId, k.wrapped); copied++; }
    else if (k.state === 'erased') { await to.keyStore.erase(appId, k.erasedAt); tombstones++; }
    const back = await to.keyStore.get(appId);
    if (back.state !== k.state || (k.state === 'present' && back.state === 'present' && !back.wrapped.equals(k.wrapped))) keysEqual = false;
  }

  const rows: MigrationReport['tables'] = [];
  for (const t of tables) {
    await copyTable(from.db, to.db, t);
    const [a, b] = await Promise.all([tableDigest(from.db, t), tableDigest(to.db, t)]);
    rows.push({ table: t, rows: a.rows, targetRows: b.rows, equal: a.rows === b.rows && a.sha256 === b.sha256 });
  }

  let objects: MigrationReport['objects'] = null;
  if (from.blobs && to.blobs) {
    const source = await copyObjects(from.blobs, to.blobs);
    const target = await objectsSummary(to.blobs);
    objects = { source, target, equal: source.sha256 === target.sha256 };
  }
  const ok = keysEqual && rows.every((r) => r.equal) && (objects?.equal ?? true);
  return { tables: rows, objects, keys: { copied, tombstones, equal: keysEqual }, ok };
}
