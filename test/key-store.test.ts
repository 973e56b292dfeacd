// The key store (issue 9, item 6) on both backends: get/put/erase with tombstones, erased bytes
// gone from the SQLite file, and the start-up move of keys out of the data database (old
// deployments), which never revives an erased AppId's key and can be interrupted at any point.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../src/store/db/db.ts';
import { keyStoreFile, KeyStoreRefusal, DataKeyUnavailable, type KeyStore } from '../src/store/keys/key-store.ts';
import { openKeyStore } from '../src/store/keys/open-key-store.ts';
import { moveKeysToKeyStore } from '../src/store/keys/key-store-migrate.ts';
import { FeatureCrypto } from '../src/store/keys/feature-crypto.ts';
import { Keyring } from '../src/store/keys/keyring.ts';
import { loadConfig } from '../src/config.ts';
import { tempDir } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';

const schemas: string[] = [];
afterAll(async () => {
  if (!PG_URL || !schemas.length) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try { for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`); } finally { await c.end(); }
});

const backends = [
  { name: 'sqlite', skip: null as string | null },
  { name: 'postgres', skip: PG_URL ? null : pgSkipReason },
];

async function open(name: string): Promise<{ db: Db; keys: KeyStore; dataDir: string }> {
  const dataDir = tempDir();
  if (name === 'sqlite') {
    return { db: await openDb({ databaseUrl: null, dataDir }), keys: await openKeyStore({ url: null, databaseUrl: null, dataDir }), dataDir };
  }
  const pgSchema = freshPgSchema();
  schemas.push(pgSchema, `${pgSchema}_keys`);
  return { db: await openDb({ databaseUrl: PG_URL, dataDir, pgSchema }), keys: await openKeyStore({ url: null, databaseUrl: PG_URL, dataDir, pgSchema }), dataDir };
}

const insertApp = (db: Db, appId: number, status: string, wrapped: Buffer | null) =>
  db.kysely.insertInto('apps').values({ app_id: appId, name: `a${appId}`, root_uin: '1', status, data_key_wrapped: wrapped, created_at: 1 }).execute();

for (const b of backends) {
  describe.skipIf(b.skip !== null)(`key store on ${b.name}${b.skip ? ` (${b.skip})` : ''}`, () => {
    it('get/put/erase: one key per AppId, never replaced; erasure leaves a tombstone that refuses a new key', async () => {
      const { db, keys, dataDir } = await open(b.name);
      try {
        const k1 = crypto.randomBytes(61), k2 = crypto.randomBytes(61);
        expect(await keys.get(1201)).toEqual({ state: 'absent' });
        await keys.put(1201, k1);
        await keys.put(1201, k1); // same bytes: a no-op
        expect(await keys.get(1201)).toEqual({ state: 'present', wrapped: k1 });
        await expect(keys.put(1201, k2)).rejects.toMatchObject({ reason: 'conflict' });
        await keys.put(1202, k2);
        expect(await keys.erase(1201, 5000)).toBe(true);
        expect(await keys.erase(1201, 6000)).toBe(false); // idempotent; the first time is kept
        expect(await keys.get(1201)).toEqual({ state: 'erased', erasedAt: 5000 });
        await expect(keys.put(1201, k1)).rejects.toBeInstanceOf(KeyStoreRefusal);
        // Erasing an AppId the store never had still leaves a tombstone.
        expect(await keys.erase(1203, 7000)).toBe(false);
        await expect(keys.put(1203, k1)).rejects.toMatchObject({ reason: 'erased' });
        expect(await keys.get(1202)).toEqual({ state: 'present', wrapped: k2 });
        if (b.name === 'sqlite') {
          // The erased key's bytes are nowhere in the key store's files (secure_delete, no WAL).
          const dir = path.dirname(keyStoreFile(dataDir));
          for (const f of fs.readdirSync(dir)) expect(fs.readFileSync(path.join(dir, f)).includes(k1), f).toBe(false);
          expect(fs.readFileSync(keyStoreFile(dataDir)).includes(k2)).toBe(true);
          expect(fs.statSync(keyStoreFile(dataDir)).mode & 0o777).toBe(0o600);
          // Nor, of course, in the data database.
          expect(fs.readFileSync(path.join(dataDir, 'facevault.sqlite')).includes(k2)).toBe(false);
        }
      } finally { await keys.close(); await db.close(); }
    });

    it('start-up move: keys leave the database; an erased AppId is not revived; features still open; repeatable', async () => {
      const { db, keys } = await open(b.name);
      try {
        const keyring = new Keyring(crypto.randomBytes(32));
        const w = (id: number) => keyring.newWrappedDataKey(id);
        const old = w(1301);
        // An old deployment: every key in apps.data_key_wrapped. 1302 was erased after this
        // database was backed up (the key store has its tombstone); 1303's erasure ran here; 1304
        // has its key only in a key store that is not this one.
        await insertApp(db, 1301, 'active', old);
        await insertApp(db, 1302, 'active', w(1302));
        await insertApp(db, 1303, 'deleted', null);
        await insertApp(db, 1304, 'active', null);
        await keys.erase(1302, 1);
        await keys.erase(1303, 1);
        // A feature sealed under 1301's key before the move.
        const v = new Float32Array([0.6, 0.8]);
        const sealed = new FeatureCrypto(keys, keyring).sealFace(keyring.unwrapDataKey(1301, old), 1301, 'f1', v);

        const r = await moveKeysToKeyStore(db, keys);
        expect(r).toEqual({ moved: 1, alreadyMoved: 0, erased: [1302], conflicts: [], missing: [1304] });
        const cols = await db.kysely.selectFrom('apps').select(['app_id', 'data_key_wrapped']).execute();
        expect(cols.every((c) => c.data_key_wrapped === null)).toBe(true);
        expect(await keys.get(1301)).toEqual({ state: 'present', wrapped: old });
        expect((await keys.get(1302)).state).toBe('erased');

        const fc = new FeatureCrypto(keys, keyring);
        expect([...fc.openFace(await fc.dataKey(1301), 1301, 'f1', sealed)]).toEqual([...v]);
        await expect(fc.dataKey(1302)).rejects.toBeInstanceOf(DataKeyUnavailable);
        await expect(fc.dataKey(1302)).rejects.toThrow(/erased/);
        await expect(fc.dataKey(1304)).rejects.toThrow(/no data key in the key store/);

        // Stopped after storing a key but before clearing the column: the next start finishes.
        const k5 = w(1305);
        await insertApp(db, 1305, 'active', k5);
        await keys.put(1305, k5);
        const again = await moveKeysToKeyStore(db, keys);
        expect(again).toMatchObject({ moved: 0, alreadyMoved: 1, erased: [1302] });
        expect((await db.kysely.selectFrom('apps').select('data_key_wrapped').where('app_id', '=', 1305).executeTakeFirstOrThrow()).data_key_wrapped).toBeNull();
      } finally { await keys.close(); await db.close(); }
    });
  });
}

describe('FACEVAULT_KEYSTORE_URL', () => {
  it('takes a postgres:// URL or a file path (resolved), and refuses other schemes', () => {
    expect(loadConfig({}).keyStoreUrl).toBeNull();
    expect(loadConfig({ FACEVAULT_KEYSTORE_URL: 'postgres://u@h:5432/keys' }).keyStoreUrl).toBe('postgres://u@h:5432/keys');
    expect(loadConfig({ FACEVAULT_KEYSTORE_URL: 'secrets/keys.sqlite' }).keyStoreUrl).toBe(path.resolve('secrets/keys.sqlite'));
    expect(() => loadConfig({ FACEVAULT_KEYSTORE_URL: 'redis://h:6379' })).toThrow(/FACEVAULT_KEYSTORE_URL/);
  });
});
