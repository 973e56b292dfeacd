// The embedded key store: a small SQLite file of its own (default <data>/keys/keys.sqlite),
// so a copy of facevault.sqlite never holds a data key. Rollback journal rather than WAL, so an
// erased key does not live on in a WAL file after the erase commits; secure_delete zeroes the
// overwritten cell in the page; synchronous FULL makes a stored key survive power loss before
// the AppId that needs it is acknowledged.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KeyStoreRefusal, type KeyStore, type StoredKey } from './key-store.ts';

export class SqliteKeyStore implements KeyStore {
  readonly kind: string;

  private constructor(private readonly db: Database.Database, file: string) {
    this.kind = `sqlite file ${file}`;
  }

  static open(file: string): SqliteKeyStore {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const db = new Database(file);
    fs.chmodSync(file, 0o600);
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = FULL');
    db.pragma('secure_delete = ON');
    db.pragma('busy_timeout = 5000');
    db.exec(`CREATE TABLE IF NOT EXISTS data_keys (
      app_id INTEGER PRIMARY KEY,
      wrapped BLOB,
      created_at INTEGER NOT NULL,
      erased_at INTEGER
    )`);
    return new SqliteKeyStore(db, file);
  }

  async get(appId: number): Promise<StoredKey> {
    const r = this.db.prepare('SELECT wrapped, erased_at FROM data_keys WHERE app_id = ?').get(appId) as { wrapped: Buffer | null; erased_at: number | null } | undefined;
    if (!r) return { state: 'absent' };
    if (r.erased_at !== null || !r.wrapped) return { state: 'erased', erasedAt: Number(r.erased_at ?? 0) };
    return { state: 'present', wrapped: r.wrapped };
  }

  async put(appId: number, wrapped: Buffer): Promise<void> {
    // One transaction: two processes storing a key for the same AppId cannot both win.
    this.db.transaction(() => {
      const r = this.db.prepare('SELECT wrapped, erased_at FROM data_keys WHERE app_id = ?').get(appId) as { wrapped: Buffer | null; erased_at: number | null } | undefined;
      if (r?.erased_at != null || (r && !r.wrapped)) throw new KeyStoreRefusal(appId, 'erased');
      if (r) {
        if (!Buffer.from(r.wrapped!).equals(wrapped)) throw new KeyStoreRefusal(appId, 'conflict');
        return;
      }
      this.db.prepare('INSERT INTO data_keys (app_id, wrapped, created_at, erased_at) VALUES (?, ?, ?, NULL)').run(appId, wrapped, Date.now());
    }).immediate();
  }

  async erase(appId: number, at: number): Promise<boolean> {
    return this.db.transaction(() => {
      const r = this.db.prepare('SELECT wrapped FROM data_keys WHERE app_id = ?').get(appId) as { wrapped: Buffer | null } | undefined;
      if (r) this.db.prepare('UPDATE data_keys SET wrapped = NULL, erased_at = COALESCE(erased_at, ?) WHERE app_id = ?').run(at, appId);
      else this.db.prepare('INSERT INTO data_keys (app_id, wrapped, created_at, erased_at) VALUES (?, NULL, ?, ?)').run(appId, at, at);
      return !!r?.wrapped;
    }).immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
