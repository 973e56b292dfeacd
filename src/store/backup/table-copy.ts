// Table-level copy and comparison between two databases of the same schema (SQLite -> PostgreSQL
// for `facevault migrate`, and the check after it). Both sides are Kysely over the same
// migrations, and the schema's portable conventions (integers for times and booleans, text for
// JSON, Buffer for binary) make a row read from one side insertable as-is into the other.
import crypto from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Db } from '../db/db.ts';
import { schemaTables } from '../db/tables.ts';

/** Tables of the data schema (the migrator's bookkeeping tables are each side's own). */
export async function dataTables(db: Db): Promise<string[]> {
  // This schema's tables only (a PostgreSQL database may hold other deployments' schemas).
  return (await schemaTables(db)).map((t) => t.name).filter((n) => !/^kysely_migration/.test(n)).sort();
}

const BATCH = 500;

/** Copies every row of `table` (target must be empty there). Returns the rows copied. */
export async function copyTable(from: Db, to: Db, table: string): Promise<number> {
  const k = from.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>;
  const t = to.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>;
  let n = 0;
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (!batch.length) return;
    await t.insertInto(table).values(batch).execute();
    n += batch.length;
    batch = [];
  };
  // SQLite streams (better-sqlite3 iterate): the source table never has to fit in memory.
  for await (const row of k.selectFrom(table).selectAll().stream(BATCH)) {
    batch.push(row);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return n;
}

/**
 * Row count and an order-independent digest of a table's content: the sum (mod 2^256) of each
 * row's SHA-256 over its canonical form, so the two databases can return rows in any order.
 */
export async function tableDigest(db: Db, table: string): Promise<{ rows: number; sha256: string }> {
  const k = db.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>;
  const rows = db.dialect === 'sqlite'
    ? k.selectFrom(table).selectAll().stream(BATCH)
    // pg streaming needs a cursor package; a table is read in one go here.
    : (async function* () { yield* await k.selectFrom(table).selectAll().execute(); })();
  let acc = 0n;
  let n = 0;
  const MOD = 1n << 256n;
  for await (const row of rows) {
    acc = (acc + BigInt('0x' + crypto.createHash('sha256').update(canonicalRow(row)).digest('hex'))) % MOD;
    n++;
  }
  return { rows: n, sha256: acc.toString(16).padStart(64, '0') };
}

/** A row as text both dialects agree on: columns by name, binary as hex, numbers as numbers. */
export function canonicalRow(row: Record<string, unknown>): string {
  const keys = Object.keys(row).sort();
  return JSON.stringify(keys.map((c) => {
    const v = row[c];
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) return [c, 'x', Buffer.from(v).toString('hex')];
    if (typeof v === 'bigint') return [c, 'n', v.toString()];
    if (typeof v === 'number') return [c, 'n', String(v)];
    // pg returns numeric/int8 beyond the parser as strings; a numeric-looking string from pg
    // against a number from SQLite would differ, so the schema keeps to integer and text types.
    return [c, typeof v, v];
  }));
}

/** Target tables that already hold rows (migrate refuses to merge into a used database). */
export async function nonEmptyTables(db: Db, tables: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of tables) {
    const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(t)}`.execute(db.kysely);
    if (Number(r.rows[0]?.n ?? 0) > 0) out.push(t);
  }
  return out;
}
