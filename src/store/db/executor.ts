// What a repository method runs its queries on: the database itself, or a transaction another
// capability opened. Erasing a whole AppId spans the library and the privacy tables in one
// transaction, so their owners' erase methods take an Executor instead of opening their own.
import type { Kysely, Transaction } from 'kysely';
import type { Db } from './db.ts';
import type { DB } from './schema.ts';

export type Executor = Kysely<DB> | Transaction<DB>;

/** Runs `fn` in one transaction (committed when it resolves, rolled back when it throws). */
export function inTransaction<T>(db: Db, fn: (tx: Executor) => Promise<T>): Promise<T> {
  return db.kysely.transaction().execute(fn);
}

/** Rows a DELETE removed (both dialects report it as a bigint or undefined). */
export const deleted = (r: { numDeletedRows?: bigint }): number => Number(r.numDeletedRows ?? 0);

/** Splits ids into IN-list sized parts (a million-row erasure must not build one giant IN list). */
export function* chunks<T>(items: readonly T[], size = 500): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
