// SQLite commits are flushed to disk off the event loop before they are acknowledged
// (store/db/sqlite-durable.ts): every write outside a transaction and every COMMIT waits for a
// WAL flush that began after it; reads do not flush; concurrent commits share flushes; the
// event-loop mode is SQLite's own synchronous = FULL.
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDb, type Db } from '../src/store/db/db.ts';
import { WalFlusher } from '../src/store/db/sqlite-durable.ts';
import { tempDir } from './helpers/server.ts';

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const d of dbs.splice(0)) await d.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function open(mode?: 'thread-pool' | 'event-loop'): Promise<{ db: Db; dir: string }> {
  const dir = tempDir();
  dirs.push(dir);
  const db = await openDb({ databaseUrl: null, dataDir: dir, sqliteFlush: mode });
  dbs.push(db);
  return { db, dir };
}

describe('SQLite commit flushes', () => {
  it('acknowledges a write only after a WAL flush that began after it, and flushes nothing for reads', async () => {
    // Every flush is observed where it is issued: fs.fsync on the WAL file (the libuv thread pool).
    const { db, dir } = await open();
    const wal = path.join(dir, 'facevault.sqlite-wal');
    const walIno = fs.statSync(wal).ino;
    const events: string[] = [];
    const realFsync = fs.fsync;
    vi.spyOn(fs, 'fsync').mockImplementation(((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      if (fs.fstatSync(fd).ino === walIno) events.push('flush started');
      realFsync(fd, (e) => { if (fs.fstatSync(fd).ino === walIno) events.push('flush done'); cb(e); });
    }) as typeof fs.fsync);
    expect((await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(db.kysely)).rows[0].synchronous).toBe(1); // NORMAL: SQLite itself does not flush commits
    await sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`.execute(db.kysely);
    events.length = 0;

    await sql`INSERT INTO t (v) VALUES ('a')`.execute(db.kysely);
    events.push('insert acknowledged');
    await db.kysely.transaction().execute(async (tx) => {
      await sql`INSERT INTO t (v) VALUES ('b')`.execute(tx);
      await sql`INSERT INTO t (v) VALUES ('c')`.execute(tx);
      events.push('in transaction');
    });
    events.push('transaction acknowledged');
    expect((await sql<{ n: number }>`SELECT count(*) AS n FROM t`.execute(db.kysely)).rows[0].n).toBe(3);
    events.push('read done');
    expect(events).toEqual(['flush started', 'flush done', 'insert acknowledged', 'in transaction', 'flush started', 'flush done', 'transaction acknowledged', 'read done']);
  });

  it('lets concurrent commits share flushes, none acknowledged before a flush', async () => {
    const { db, dir } = await open();
    await sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`.execute(db.kysely);
    const walIno = fs.statSync(path.join(dir, 'facevault.sqlite-wal')).ino;
    const events: string[] = [];
    const realFsync = fs.fsync;
    vi.spyOn(fs, 'fsync').mockImplementation(((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      const mine = fs.fstatSync(fd).ino === walIno;
      realFsync(fd, (e) => { if (mine) events.push('flush'); cb(e); });
    }) as typeof fs.fsync);
    await Promise.all(Array.from({ length: 20 }, (_, i) => sql`INSERT INTO t (v) VALUES (${String(i)})`.execute(db.kysely).then(() => { events.push('ack'); })));
    expect(events.filter((e) => e === 'ack')).toHaveLength(20);
    const flushes = events.filter((e) => e === 'flush').length;
    expect(events[0]).toBe('flush');
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThan(20); // shared
    expect((await sql<{ n: number }>`SELECT count(*) AS n FROM t`.execute(db.kysely)).rows[0].n).toBe(20);
  });

  it('event-loop mode is synchronous = FULL and flushes nothing itself', async () => {
    const { db } = await open('event-loop');
    const flush = vi.spyOn(WalFlusher.prototype, 'flush');
    expect((await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(db.kysely)).rows[0].synchronous).toBe(2);
    await sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`.execute(db.kysely);
    await sql`INSERT INTO t DEFAULT VALUES`.execute(db.kysely);
    expect(flush).not.toHaveBeenCalled();
  });
});
