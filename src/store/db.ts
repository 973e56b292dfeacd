// One Kysely code path over SQLite (embedded default) and PostgreSQL.
// Portable conventions: times are integer milliseconds (bigint), booleans are 0/1 integers,
// JSON is text, binary is blob/bytea (Buffer either way).
import fs from 'node:fs';
import path from 'node:path';
import { sql, Kysely, SqliteDialect, PostgresDialect, Migrator, type Migration, type MigrationProvider } from 'kysely';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DB } from './schema.ts';
import { migrations } from './migrations/index.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
  ping(): Promise<void>;
}

// pg returns int8 as string by default; our ids/times fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));

export interface OpenDbOptions {
  databaseUrl: string | null;
  dataDir: string;
  /** PostgreSQL schema to use (tests isolate themselves in a fresh schema). */
  pgSchema?: string;
}

export async function openDb(opts: OpenDbOptions): Promise<Db> {
  let kysely: Kysely<DB>;
  let dialect: Dialect;
  if (opts.databaseUrl) {
    dialect = 'postgres';
    const schema = opts.pgSchema;
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
    if (schema) {
      const c = await pool.connect();
      try { await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`); } finally { c.release(); }
      pool.on('connect', (client) => { void client.query(`SET search_path TO "${schema}"`); });
    }
    kysely = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    fs.mkdirSync(opts.dataDir, { recursive: true });
    const file = path.join(opts.dataDir, 'facevault.sqlite');
    const sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    // FULL: an acknowledged write survives power loss, not just a process crash.
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // Deleted pages are zeroed so erased features do not linger in the file.
    sqlite.pragma('secure_delete = ON');
    kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  const db: Db = {
    kysely,
    dialect,
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
  const migrator = new Migrator({ db: db.kysely, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? error}`);
  }
}
