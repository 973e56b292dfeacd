// Service specs: each service with its real repositories on SQLite in a temp dir (a fake of a
// repository would re-implement its SQL), and fakes for the vision side and the key store.
// No HTTP, no models, no workers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { ManualClock } from '../../src/domain/clock.ts';
import type { Caller } from '../../src/domain/call.ts';
import { openDb, type Db } from '../../src/store/db/db.ts';
import { LocalBlobStore } from '../../src/store/blobs/blob-local.ts';
import { Keyring } from '../../src/store/keys/keyring.ts';
import { KeyStoreRefusal, type KeyStore, type StoredKey } from '../../src/store/keys/key-store.ts';
import { FeatureCrypto } from '../../src/store/keys/feature-crypto.ts';
import { LibraryRepo } from '../../src/store/library/library-repo.ts';
import { EnrolmentImages } from '../../src/store/library/enrolment-images.ts';
import { AuditRepo } from '../../src/store/accounts/audit-repo.ts';
import { AuditLog } from '../../src/services/accounts/audit.ts';
import { LibraryIndex } from '../../src/services/library/library-index.ts';
import { GroupsService } from '../../src/services/library/face-groups.ts';
import { PersonsService } from '../../src/services/library/face-persons.ts';
import { SearchService } from '../../src/services/library/face-search.ts';
import type { LibraryContext } from '../../src/services/library/library-context.ts';
import type { EnrolmentPolicy, FaceSource } from '../../src/services/library/library-deps.ts';
import { TENCENT_LIMITS } from '../../src/services/library/library-limits.ts';
import { scoreScale } from '../../src/vision/calibration.ts';
import { unit } from '../helpers/vectors.ts';

/** The key store as a map (the real ones are tested in key-store.test.ts). */
export class MemoryKeyStore implements KeyStore {
  readonly kind = 'memory';
  private readonly keys = new Map<number, StoredKey>();
  async get(appId: number): Promise<StoredKey> { return this.keys.get(appId) ?? { state: 'absent' }; }
  async put(appId: number, wrapped: Buffer): Promise<void> {
    const cur = this.keys.get(appId);
    if (cur?.state === 'erased') throw new KeyStoreRefusal(appId, 'erased');
    if (cur?.state === 'present' && !cur.wrapped.equals(wrapped)) throw new KeyStoreRefusal(appId, 'conflict');
    this.keys.set(appId, { state: 'present', wrapped });
  }
  async erase(appId: number, at: number): Promise<boolean> {
    const had = this.keys.get(appId)?.state === 'present';
    this.keys.set(appId, { state: 'erased', erasedAt: at });
    return had;
  }
  async close(): Promise<void> {}
}

/**
 * A face source without models: the image "bytes" are a string naming the face, and the same
 * name always gives the same unit embedding (so a search for "alice" finds the person enrolled
 * from "alice"). "none" has no face.
 */
export const fakeFaces: FaceSource = {
  modelVersions: () => ['3.0'],
  async faces(_caller, input) {
    const name = String(input.Image ?? input.Url ?? '');
    if (name === 'none') return { width: 100, height: 100, faces: [] };
    return { width: 100, height: 100, faces: [{ rect: { X: 10, Y: 10, Width: 50, Height: 50 }, embedding: unit(name), quality: 90, age: 30 }] };
  },
};

export interface Fixture {
  dir: string;
  db: Db;
  clock: ManualClock;
  keyring: Keyring;
  keyStore: MemoryKeyStore;
  blobs: LocalBlobStore;
  audit: AuditLog;
  /** A tenant with its data key (what AccountsService.createAccount does, without the account rows). */
  tenant(appId: number): Promise<Caller>;
  close(): Promise<void>;
}

export async function openFixture(): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facevault-spec-'));
  const db = await openDb({ databaseUrl: null, dataDir: dir });
  const keyring = new Keyring(crypto.randomBytes(32));
  const keyStore = new MemoryKeyStore();
  const clock = new ManualClock(1_700_000_000_000);
  const blobs = await new LocalBlobStore(path.join(dir, 'objects')).init();
  return {
    dir, db, clock, keyring, keyStore, blobs, audit: new AuditLog(new AuditRepo(db), clock),
    async tenant(appId) {
      await keyStore.put(appId, keyring.newWrappedDataKey(appId));
      return { appId, uin: `u${appId}`, subUin: `u${appId}` };
    },
    async close() {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Library {
  ctx: LibraryContext;
  repo: LibraryRepo;
  index: LibraryIndex;
  crypto: FeatureCrypto;
  groups: GroupsService;
  persons: PersonsService;
  search: SearchService;
}

/** The library's three services over one context, as library-module.ts wires them (fake faces). */
export function library(fx: Fixture, o: { privacy?: EnrolmentPolicy; faces?: FaceSource } = {}): Library {
  const repo = new LibraryRepo(fx.db);
  const crypto = new FeatureCrypto(fx.keyStore, fx.keyring);
  const index = new LibraryIndex(repo, crypto);
  const ctx: LibraryContext = {
    repo, index, crypto, clock: fx.clock, faces: o.faces ?? fakeFaces, scale: scoreScale(), limits: TENCENT_LIMITS,
    privacy: o.privacy, images: new EnrolmentImages(fx.blobs, crypto),
  };
  return { ctx, repo, index, crypto, groups: new GroupsService(ctx), persons: new PersonsService(ctx), search: new SearchService(ctx) };
}

export const newGroup = (L: Library, c: Caller, groupId: string, groupName = groupId) =>
  L.groups.create(c, { groupId, groupName, exDescriptions: ['field'], tag: '', faceModelVersion: '3.0', keepImages: false });

export const newPerson = (L: Library, c: Caller, groupId: string, personId: string, image: string, extras = {}) =>
  L.persons.create(c, { groupId, personId, personName: personId, gender: 0, exInfos: [], image: { Image: image }, uniquePersonControl: 0, qualityControl: 0, extras });

export const searchInput = (groupIds: string[], image: string) =>
  ({ groupIds, image: { Image: image }, maxFaceNum: 1, minFaceSize: 34, maxPersonNum: 5, needPersonInfo: true, qualityControl: 0, faceMatchThreshold: 0 });

/** The Tencent code a promise rejects with ('OK' when it resolves). */
export async function code(p: Promise<unknown>): Promise<string> {
  try { await p; return 'OK'; } catch (e) { return (e as { code?: string }).code ?? String(e); }
}
