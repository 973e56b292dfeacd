// Start-up step between the data database and the key store, run before anything reads a key.
// 1. Deployments from before the key store kept each wrapped data key in apps.data_key_wrapped:
//    each is copied to the key store (durably) and only then cleared in the database, so a stop
//    at any point loses nothing and the next start finishes the move.
// 2. A database restored from a backup taken before an AppId erasure still has the tenant's rows
//    and an active account, but the key store has its tombstone: the key is not brought back
//    (an old column value is dropped, not moved), and the AppId is reported so its account is
//    closed and its rows erased again.
import type { Db } from '../db/db.ts';
import type { KeyStore } from './key-store.ts';
import { KeyStoreRefusal } from './key-store.ts';

export interface KeyMigrationReport {
  /** Keys moved from the database into the key store. */
  moved: number;
  /** Database copies dropped because the key store already held the same key. */
  alreadyMoved: number;
  /** AppIds active in the database whose key the key store has erased (restored from a backup). */
  erased: number[];
  /** AppIds whose database copy differs from the key store's key (the key store's is kept). */
  conflicts: number[];
  /** AppIds with neither a key in the key store nor a copy in the database. */
  missing: number[];
}

export async function moveKeysToKeyStore(db: Db, keys: KeyStore): Promise<KeyMigrationReport> {
  const report: KeyMigrationReport = { moved: 0, alreadyMoved: 0, erased: [], conflicts: [], missing: [] };
  const apps = await db.kysely.selectFrom('apps').select(['app_id', 'status', 'data_key_wrapped']).orderBy('app_id').execute();
  for (const a of apps) {
    const appId = Number(a.app_id);
    const column = a.data_key_wrapped ? Buffer.from(a.data_key_wrapped) : null;
    let state = (await keys.get(appId)).state;
    if (column) {
      if (state === 'absent') {
        try {
          await keys.put(appId, column);
          report.moved++;
          state = 'present';
        } catch (e) {
          if (!(e instanceof KeyStoreRefusal)) throw e;
          state = (await keys.get(appId)).state; // another process got there first
        }
      } else if (state === 'present') {
        const stored = await keys.get(appId);
        if (stored.state === 'present' && !stored.wrapped.equals(column)) report.conflicts.push(appId);
        else report.alreadyMoved++;
      }
      await db.kysely.updateTable('apps').set({ data_key_wrapped: null }).where('app_id', '=', appId).execute();
    }
    // A deleted app with a tombstone is an erasure that ran here (or one still running, which
    // resumes by itself); an active one is a tenant brought back by a restore.
    if (state === 'erased' && a.status !== 'deleted') report.erased.push(appId);
    else if (state === 'absent' && a.status === 'active') report.missing.push(appId);
  }
  // SQLite: the cleared columns' old pages sit in the WAL until a checkpoint (secure_delete
  // zeroes them in the main file).
  if (db.dialect === 'sqlite') await (await import('kysely')).sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db.kysely).catch(() => {});
  return report;
}
