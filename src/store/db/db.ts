// One Kysely code path over SQLite (embedded default) and PostgreSQL.
// Portable conventions: times are integer milliseconds (bigint), booleans are 0/1 integers,
// JSON is text, binary is blob/bytea (Buffer either way).
import fs from 'node:fs';
import path from 'node:path';
import { sql, Kysely, SqliteDialect, PostgresDialect, Migrator, type Migration, type MigrationProvider } from 'kysely';
import Database from 'better-sqlite3';
import type { DB } from './schema.ts';
import { migrations } from './migrations/index.ts';
import { CONNECT_TIMEOUT_MS, guardPool } from './pg-guard.ts';
import { DurableSqliteDialect, WalFlusher } from './sqlite-durable.ts';

import type { Dialect } from './dialect.ts';
export type { Dialect };

export interface Db {
  kysely: Kysely<DB>;
  dialect: Dialect;
  /** The PostgreSQL schema in use, when one was given. */
  pgSchema?: string;
  close(): Promise<void>;
  ping(): Promise<void>;
}

/** pg is loaded only for PostgreSQL deployments (it is not needed at all on SQLite). */
async function loadPg() {
  const pg = (await import('pg')).default;
  // pg returns int8 as string by default; our ids/times fit in a double.
  pg.types.setTypeParser(20, (v) => Number(v));
  return pg;
}

export interface OpenDbOptions {
  databaseUrl: string | null;
  dataDir: string;
  /** PostgreSQL schema to use (tests isolate themselves in a fresh schema). */
  pgSchema?: string;
  /** PostgreSQL: a query without an answer this long fails (pg-guard.ts; default 15 s). */
  queryTimeoutMs?: number;
  /** SQLite: flush commits on the thread pool (default) or inside the commit on the event loop (sqlite-durable.ts). */
  sqliteFlush?: 'thread-pool' | 'event-loop';
}

export async function openDb(opts: OpenDbOptions): Promise<Db> {
  let kysely: Kysely<DB>;
  let dialect: Dialect;
  if (opts.databaseUrl) {
    dialect = 'postgres';
    const pg = await loadPg();
    const schema = opts.pgSchema;
    if (schema) {
      const c = new pg.Client({ connectionString: opts.databaseUrl });
      await c.connect();
      try { await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`); } finally { await c.end(); }
    }
    // search_path as a startup option: every pooled connection has it before its first query
    // (a 'connect' handler raced with the first queries and missed the schema-creating client).
    const pool = guardPool(new pg.Pool({ connectionString: opts.databaseUrl, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, ...(schema ? { options: `-c search_path="${schema}"` } : {}) }), 'Database', opts.queryTimeoutMs);
    kysely = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    // The data dir holds personal data (logs, sealed features): owner-only.
    fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(opts.dataDir, 'facevault.sqlite');
    const sqlite = new Database(file);
    // SQLite creates its -wal and -shm files with the database file's permissions.
    fs.chmodSync(file, 0o600);
    sqlite.pragma('journal_mode = WAL');
    // An acknowledged write survives power loss, not just a process crash: FULL flushes the WAL
    // inside each commit (on the event loop); NORMAL + DurableSqliteDialect flushes it on the
    // thread pool before the write is acknowledged (sqlite-durable.ts).
    const inline = opts.sqliteFlush === 'event-loop';
    sqlite.pragma(inline ? 'synchronous = FULL' : 'synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // Deleted pages are zeroed so erased features do not linger in the file.
    sqlite.pragma('secure_delete = ON');
    kysely = new Kysely<DB>({ dialect: inline ? new SqliteDialect({ database: sqlite }) : new DurableSqliteDialect({ database: sqlite }, new WalFlusher(`${file}-wal`)) });
  }
  const db: Db = {
    kysely,
    dialect,
    pgSchema: dialect === 'postgres' ? opts.pgSchema : undefined,
    close: () => kysely.destroy(),
    ping: async () => { await sql`select 1`.execute(kysely); },
  };
  await migrate(db);
  return db;
}

export async function migrate(db: Db): Promise<void> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(migrations)) out[name] = { up: (k) => m.up(k, db.dialect) };
      return out;
    },
  };
  // Migrations landed from parallel work out of name order (002 after 003), so order is not enforced;
  // each migration still runs exactly once.
  const migrator = new Migrator({ db: db.kysely, provider, allowUnorderedMigrations: true, ...(db.pgSchema ? { migrationTableSchema: db.pgSchema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
}

/**
 * SQLite: moves the WAL's pages (which still hold rows as they were before a deletion) into the
 * file, where secure_delete has zeroed them, and empties the WAL. PostgreSQL: nothing to do.
 */
export async function checkpointWal(db: Db): Promise<void> {
  if (db.dialect !== 'sqlite') return;
  for (let i = 0; i < 20; i++) {
    const r = await sql<{ busy: number }>`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db.kysely);
    if (!r.rows[0] || Number(r.rows[0].busy) === 0) return;
    await new Promise((res) => setTimeout(res, 50));
  }
}
