// SQLite writes acknowledged only once they are on disk, without the disk flush on the event loop.
//
// better-sqlite3 is synchronous: with synchronous = FULL every commit fsynced the WAL inside the
// call, on the event loop. On this machine's disk that took 1.8 ms p50 and 148 ms p99 per commit
// (bench: 200 single-row commits), and every API call commits one (its running-log row), so a
// search load held the event loop for /healthz and every other request (docs/PERFORMANCE.md,
// search-stall). Now the connection runs with synchronous = NORMAL (commits write the WAL but do
// not flush it) and this driver flushes the WAL file with fs.fsync on the libuv thread pool after
// each write outside a transaction and after each COMMIT, before Kysely hands back the result.
// What a caller has been told is committed is on disk, as with FULL; commits that come while a
// flush runs share the next one. The connection (SQLite has one) is released before the flush,
// so other queries run meanwhile. Checkpoints still flush synchronously, as SQLite runs them
// inside the commit that crosses wal_autocheckpoint (1000 pages): rare next to every commit.
import fs from 'node:fs';
import { SqliteDialect, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult, type TransactionSettings, type SqliteDialectConfig } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';

/** Flushes a WAL file, coalescing: each caller waits for a flush that began after it asked. */
export class WalFlusher {
  private fd: number | null = null;
  private inflight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** Flushes done (tests). */
  flushes = 0;

  constructor(private readonly walFile: string) {}

  flush(): Promise<void> {
    if (!this.inflight) {
      this.inflight = this.once().finally(() => { this.inflight = null; });
      return this.inflight;
    }
    // The flush in flight may have begun before the caller's write: it waits for the next one.
    this.queued ??= this.inflight.catch(() => {}).then(() => { this.queued = null; return this.flush(); });
    return this.queued;
  }

  private async once(): Promise<void> {
    // The WAL keeps its inode while the database is open (checkpoints truncate it, never replace it).
    if (this.fd === null) {
      try { this.fd = await new Promise<number>((res, rej) => fs.open(this.walFile, 'r+', (e, fd) => (e ? rej(e) : res(fd)))); } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing written yet
        throw e;
      }
    }
    const fd = this.fd;
    await new Promise<void>((res, rej) => fs.fsync(fd, (e) => (e ? rej(e) : res())));
    this.flushes++;
  }

  /** After the flushes asked for so far (closing the file under one would fail it). */
  async close(): Promise<void> {
    await this.queued?.catch(() => {});
    await this.inflight?.catch(() => {});
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** The SQLite dialect with WAL flushes off the event loop (see the top of this file). */
export class DurableSqliteDialect extends SqliteDialect {
  constructor(private readonly cfg: SqliteDialectConfig & { database: BetterSqlite3.Database }, private readonly wal: WalFlusher) {
    super(cfg);
  }

  override createDriver(): Driver {
    return new DurableDriver(super.createDriver(), this.cfg.database, this.wal);
  }
}

class DurableDriver implements Driver {
  private conn: DurableConnection | null = null;
  constructor(private readonly inner: Driver, private readonly sqlite: BetterSqlite3.Database, private readonly wal: WalFlusher) {}

  init() { return this.inner.init(); }
  async acquireConnection(): Promise<DatabaseConnection> {
    const c = await this.inner.acquireConnection();
    // SqliteDriver has one connection: wrap it once.
    if (!this.conn || this.conn.inner !== c) this.conn = new DurableConnection(c, this.sqlite);
    return this.conn;
  }
  beginTransaction(c: DatabaseConnection, s: TransactionSettings) { return this.inner.beginTransaction(c, s); }
  commitTransaction(c: DatabaseConnection) { return this.inner.commitTransaction(c); }
  rollbackTransaction(c: DatabaseConnection) { return this.inner.rollbackTransaction(c); }
  async releaseConnection(c: DatabaseConnection): Promise<void> {
    const d = c as DurableConnection;
    const flush = d.wrote;
    d.wrote = false;
    await this.inner.releaseConnection(d.inner);
    // Kysely awaits this before handing the query's (or transaction's) result to its caller.
    if (flush) await this.wal.flush();
  }
  async destroy(): Promise<void> {
    await this.wal.close();
    await this.inner.destroy();
  }
}

class DurableConnection implements DatabaseConnection {
  /** A write (or COMMIT) finished outside a transaction since the connection was acquired. */
  wrote = false;
  constructor(readonly inner: DatabaseConnection, private readonly sqlite: BetterSqlite3.Database) {}

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const r = await this.inner.executeQuery<R>(q);
    // A statement that is not a reader (run(): numAffectedRows set) may have written, raw SQL
    // included; inside a transaction, the COMMIT is the one that counts.
    if (r.numAffectedRows !== undefined && !this.sqlite.inTransaction) this.wrote = true;
    return r;
  }

  streamQuery<R>(q: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(q, chunkSize);
  }
}
