// The `blobs` table: one row per stored object (key, owner AppId, data class, expiry), written
// in the same transaction as the row that owns the object, so the object store never holds an
// object the database cannot name. Everything that writes or erases these rows comes here;
// callers pass their own transaction (library writes, fusion materials and results).
import type { Db } from '../db/db.ts';
import { chunks, deleted, type Executor } from '../db/executor.ts';
import type { BlobsTable } from '../db/schema.ts';

export type BlobRecord = BlobsTable;

/** Records a stored object, on the owner's transaction. */
export async function recordBlob(ex: Executor, row: BlobRecord): Promise<void> {
  await ex.insertInto('blobs').values(row).execute();
}

/** Forgets objects of `appId` (their objects are deleted by the caller, before or after). */
export async function forgetBlobs(ex: Executor, appId: number, keys: string[]): Promise<number> {
  let n = 0;
  for (const part of chunks(keys)) n += deleted(await ex.deleteFrom('blobs').where('app_id', '=', appId).where('key', 'in', part).executeTakeFirst());
  return n;
}

export class BlobRecords {
  constructor(private readonly db: Db) {}

  /** Which of these keys have a record. */
  async recorded(keys: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await this.db.kysely.selectFrom('blobs').select('key').where('key', 'in', keys.slice(i, i + 500)).execute();
      for (const r of rows) out.add(r.key);
    }
    return out;
  }

  /** Every recorded object of the app (an AppId erasure deletes them all). */
  async keysOf(appId: number): Promise<string[]> {
    return (await this.db.kysely.selectFrom('blobs').select('key').where('app_id', '=', appId).execute()).map((r) => r.key);
  }

  forget(appId: number, keys: string[], ex: Executor = this.db.kysely): Promise<number> {
    return forgetBlobs(ex, appId, keys);
  }

  /** Every record of the app, on `ex`; idempotent. */
  async eraseApp(ex: Executor, appId: number): Promise<number> {
    return deleted(await ex.deleteFrom('blobs').where('app_id', '=', appId).executeTakeFirst());
  }

  /** Expired records (oldest first), skipping `excluding` (objects that could not be deleted this sweep). */
  async expired(now: number, limit: number, excluding: ReadonlySet<string> = new Set()): Promise<string[]> {
    let q = this.db.kysely.selectFrom('blobs').select('key').where('expires_at', 'is not', null).where('expires_at', '<=', now);
    if (excluding.size) q = q.where('key', 'not in', [...excluding]);
    return (await q.orderBy('expires_at').limit(limit).execute()).map((r) => r.key);
  }

  /**
   * Forgets expired records whose objects are gone. Re-checks expiry: a row whose expiry was
   * extended meanwhile keeps its row (its object is gone, which a reader treats as expired;
   * never the other way round).
   */
  async forgetExpired(keys: string[], now: number): Promise<number> {
    let n = 0;
    for (const part of chunks(keys)) n += deleted(await this.db.kysely.deleteFrom('blobs').where('key', 'in', part).where('expires_at', '<=', now).executeTakeFirst());
    return n;
  }
}
