// The search index: exact erasure on delete, search correctness, and agreement with the database
// under concurrent writes and across two index instances sharing one database (two processes).
import crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { VectorIndex } from '../src/search/vector-index.ts';
import { FeatureDecoder } from '../src/services/library/feature-decoder.ts';
import { seal } from '../src/store/keys/keyring.ts';
import { ENCODED_BYTES } from '../src/search/vector-codes.ts';
import { DIM, quantize, residual4, rotate, signBits, WORDS } from '../src/search/vector-codes.ts';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLibraryModule, type LibraryModule } from '../src/services/library/library-module.ts';
import type { FaceSource } from '../src/services/library/library-deps.ts';
import { cosineToScore, scoreToCosine } from '../src/vision/calibration.ts';
import { tempDir } from './helpers/server.ts';
import { unit } from './helpers/vectors.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';


function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('VectorIndex', () => {
  it('keeps each owner\'s ids through adds, moves between owners and deletes', () => {
    const idx = new VectorIndex();
    for (const [id, owner] of [['f1', 'A'], ['f2', 'A'], ['f3', 'A'], ['g1', 'B']]) idx.upsert(id, owner, unit(id));
    expect(idx.idsOf('A').sort()).toEqual(['f1', 'f2', 'f3']);
    expect(idx.idsOf('B')).toEqual(['g1']);
    idx.upsert('f2', 'B', unit('f2')); // re-assigned to another owner
    idx.upsert('f1', 'A', unit('f1')); // re-upserted under the same owner: still listed once
    expect(idx.idsOf('A').sort()).toEqual(['f1', 'f3']);
    expect(idx.idsOf('B').sort()).toEqual(['f2', 'g1']);
    expect(idx.remove('f3')).toBe(true);
    expect(idx.idsOf('A')).toEqual(['f1']);
    expect(idx.search(unit('f2'), 1, { onlyOwner: 'B' })[0]).toMatchObject({ id: 'f2', owner: 'B' });
    expect(idx.removeOwner('B')).toBe(2);
    expect(idx.idsOf('B')).toEqual([]);
    expect([...idx.allOwners()]).toEqual(['A']);
    expect(idx.size).toBe(1);
    expect(idx.search(unit('f1'), 5).map((h) => h.id)).toEqual(['f1']);
  });

  it('finds a stored vector and erases every byte of a deleted one', () => {
    const idx = new VectorIndex();
    for (let i = 0; i < 3000; i++) idx.upsert(`f${i}`, `p${i % 1000}`, unit(`v${i}`));
    expect(idx.search(unit('v1234'), 3)[0]).toMatchObject({ id: 'f1234', owner: 'p234' });
    // The exact codes the index derived from f1234.
    const r = new Float32Array(DIM);
    rotate(unit('v1234'), r);
    const code = new Int8Array(DIM);
    quantize(r, code, 0);
    const bits = new Uint32Array(WORDS);
    signBits(r, bits, 0);
    const asBytes = (b: ArrayBufferView) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    const bufs = idx.buffers().map(asBytes);
    expect(bufs.some((b) => contains(b, asBytes(code)))).toBe(true);
    expect(bufs.some((b) => contains(b, asBytes(bits)))).toBe(true);
    expect(idx.remove('f1234')).toBe(true);
    for (const b of idx.buffers().map(asBytes)) {
      expect(contains(b, asBytes(code))).toBe(false);
      expect(contains(b, asBytes(bits))).toBe(false);
    }
    expect(idx.search(unit('v1234'), 10).map((h) => h.id)).not.toContain('f1234');
    expect(idx.size).toBe(2999);
    // The moved row (the former last one) is still found under its own id.
    expect(idx.search(unit('v2999'), 1)[0].id).toBe('f2999');
    idx.removeOwner('p0');
    expect(idx.has('f0') || idx.has('f1000') || idx.has('f2000')).toBe(false);
  });

  it('searches large collections through the cascade and erases deleted rows from the WebAssembly codes', () => {
    const idx = new VectorIndex();
    for (let i = 0; i < 34000; i++) idx.upsert(`f${i}`, `p${i}`, unit(`w${i}`));
    let found = 0;
    for (let i = 0; i < 20; i++) if (idx.search(unit(`w${i * 1699}`), 1)[0].id === `f${i * 1699}`) found++;
    expect(found).toBe(20);
    // Past 16384 rows the first stage keeps 256 sign bits per row in WebAssembly memory.
    const bufs = () => idx.buffers().map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    expect(bufs().length).toBe(5);
    const r = new Float32Array(DIM);
    rotate(unit('w777'), r);
    const bits = new Uint32Array(WORDS);
    signBits(r, bits, 0);
    const code = new Int8Array(DIM);
    const scale = quantize(r, code, 0);
    const res = new Uint8Array(DIM / 2);
    residual4(r, code, 0, scale, res, 0);
    const coarse = new Uint8Array(bits.buffer, 0, 32);
    const wasmCodes = bufs()[4];
    expect(contains(wasmCodes, coarse)).toBe(true);
    expect(bufs().some((b) => contains(b, res))).toBe(true);
    idx.remove('f777');
    for (const b of bufs()) {
      expect(contains(b, coarse)).toBe(false);
      expect(contains(b, res)).toBe(false);
      expect(contains(b, new Uint8Array(code.buffer))).toBe(false);
    }
    expect(idx.search(unit('w777'), 5).map((h) => h.id)).not.toContain('f777');
    // The row moved into the hole is still found.
    expect(idx.search(unit('w33999'), 1)[0].id).toBe('f33999');
  });
});

describe('FeatureDecoder (index rebuild in worker threads)', () => {
  it('decrypts and encodes exactly as the in-thread path, and rejects a feature sealed for another row', async () => {
    const key = crypto.randomBytes(32);
    const ids = Array.from({ length: 50 }, (_, i) => `f${i}`);
    const vs = ids.map((id) => unit(id));
    const sealed = vs.map((v, i) => seal(key, Buffer.from(v.buffer), `face:7:${ids[i]}`));
    const dec = new FeatureDecoder(2);
    try {
      const enc = await dec.decode('face', 7, key, ids, sealed);
      expect(enc.length).toBe(ids.length * ENCODED_BYTES);
      const a = new VectorIndex(), b = new VectorIndex();
      ids.forEach((id, i) => { a.upsert(id, `p${i}`, vs[i]); b.upsertEncoded(id, `p${i}`, enc, i * ENCODED_BYTES); });
      const bytes = (x: VectorIndex) => x.buffers().map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      expect(bytes(b)).toEqual(bytes(a));
      expect(b.search(vs[3], 1)[0].id).toBe('f3');
      // The aad binds a feature to its row: swapped ids fail to open.
      await expect(dec.decode('face', 7, key, [ids[1], ids[0]], sealed.slice(0, 2))).rejects.toThrow(/feature decode failed/);
    } finally {
      await dec.close();
    }
  });
});

/** Test double for the vision side: the "image" string seeds a deterministic embedding. */
const syntheticFaces: FaceSource = {
  modelVersions: () => ['3.0'],
  async faces(_c, input) {
    const s = String(input.Image);
    return { width: 100, height: 100, faces: [{ rect: { X: 0, Y: 0, Width: 50, Height: 50 }, embedding: unit(s) }] };
  },
};
const scale = { score: (c: number) => cosineToScore(c), cosine: (s: number) => scoreToCosine(s) };

const backends = [{ name: 'sqlite', url: '' }, ...(PG_URL ? [{ name: 'postgres', url: PG_URL }] : [])];
if (!PG_URL) console.log(pgSkipReason);

for (const b of backends) {
  describe(`library consistency (${b.name})`, () => {
    const apps: App[] = [];
    afterAll(async () => { for (const a of apps.reverse()) await a.close(); });

    it('stays in agreement with the database under concurrent writes, in two instances', async () => {
      const dir = tempDir();
      const schema = b.url ? freshPgSchema() : undefined;
      const env = { FACEVAULT_DATA_DIR: dir, ...(b.url ? { FACEVAULT_DATABASE_URL: b.url } : {}) };
      const a1 = await createApp(loadConfig(env, 2), { pgSchema: schema });
      apps.push(a1);
      // Two instances on one database stand for two processes. SQLite is single-process (a second
      // connection in this process would block the event loop on the file lock), so there both
      // "instances" share one app and only the restart below exercises a second index.
      const a2 = b.url ? await createApp(loadConfig(env, 2), { pgSchema: schema }) : a1;
      if (a2 !== a1) apps.push(a2);
      const acct = await a1.accounts.createAccount('hammer');
      const caller = { appId: acct.AppId, uin: '', subUin: '' };
      const L1: LibraryModule = createLibraryModule({ ...a1, report: () => {} }, { faces: syntheticFaces, scale });
      const L2: LibraryModule = b.url ? createLibraryModule({ ...a2, report: () => {} }, { faces: syntheticFaces, scale }) : L1;
      await L1.groups.create(caller, { groupId: 'G', groupName: 'G', exDescriptions: [], tag: '', faceModelVersion: '3.0', keepImages: false });
      const person = (i: number) => ({ groupId: 'G', personId: `p${i}`, personName: `P${i}`, gender: 0, exInfos: [], image: { Image: `p${i}-a` }, uniquePersonControl: 0, qualityControl: 0 });
      // Phase 1: parallel enrolments through both instances.
      await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? L1 : L2).persons.create(caller, person(i))));
      // Half of them in a second group too (the group counts below follow both).
      await L1.groups.create(caller, { groupId: 'H', groupName: 'H', exDescriptions: [], tag: '', faceModelVersion: '3.0', keepImages: false });
      await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? L1 : L2).persons.copy(caller, `p${i}`, ['H'])));
      // Phase 2: a mix of face additions, face deletions, person deletions and removals, in parallel.
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 24; i++) {
        const L = i % 2 ? L2 : L1;
        // FaceMatchThreshold 0: synthetic faces of one person are unrelated vectors.
        if (i % 4 === 0) ops.push(L.persons.createFaces(caller, `p${i}`, [{ Image: `p${i}-b` }, { Image: `p${i}-c` }], 0, 0));
        if (i % 4 === 1) ops.push(L.persons.delete(caller, `p${i}`));
        if (i % 4 === 2) ops.push(L.persons.deleteFromGroup(caller, `p${i}`, 'G'));
        if (i % 4 === 3) ops.push(L.persons.createFaces(caller, `p${i}`, [{ Image: `p${i}-b` }], 0, 0).then(async (r) => {
          const ids = (await L.persons.baseInfo(caller, `p${i}`)).FaceIds as string[];
          return L.persons.deleteFaces(caller, `p${i}`, ids.filter((x) => !r.SucFaceIds.includes(x)));
        }));
      }
      await Promise.all(ops);
      // The database's view.
      const r = L1.repo.reader(caller.appId);
      const members = await r.listMembers('G', 0, 1000);
      const dbFaces = new Map<string, string>();
      for (const f of await r.faceIdsOf(members.map((m) => m.person_id))) dbFaces.set(f.face_id, f.person_id);
      expect(members).toHaveLength(12);
      expect(dbFaces.size).toBe(6 * 3 + 6 * 1 + 0);
      // GetPersonList's counts, kept by the writes (face_groups.person_num/face_num), agree with the rows.
      expect(await r.countMembers('G')).toEqual({ persons: 12, faces: dbFaces.size });
      const inH = await r.countMembersFromRows('H');
      expect(inH.persons).toBe(9); // p0..p11 without the deleted p1, p5, p9
      expect(await r.countMembers('H')).toEqual(inH);
      // A page of members: the join order, cut before the join.
      expect((await r.listMembers('G', 3, 4)).map((m) => m.person_id)).toEqual(members.slice(3, 7).map((m) => m.person_id));
      for (const L of [L1, L2]) {
        await L.index.sync(caller.appId);
        const snap = L.index.snapshot(caller.appId, 'G')!;
        expect(new Map([...snap.faces].sort())).toEqual(new Map([...dbFaces].sort()));
        expect([...snap.persons].sort()).toEqual(members.map((m) => m.person_id).sort());
      }
      // A delete acknowledged by one instance is honoured by the other's next search.
      const probe = { groupIds: ['G'], image: { Image: 'p0-b' }, maxFaceNum: 1, minFaceSize: 0, maxPersonNum: 5, needPersonInfo: false, qualityControl: 0, faceMatchThreshold: 0 };
      expect(((await L2.search.search(caller, probe, 'faces')).response.Results as any)[0].Candidates[0].PersonId).toBe('p0');
      await L1.persons.delete(caller, 'p0');
      await L2.groups.delete(caller, 'H');
      expect(await r.countMembers('G')).toEqual(await r.countMembersFromRows('G'));
      expect(await r.countMembers('G')).toEqual({ persons: 11, faces: dbFaces.size - 3 });
      const after = (await L2.search.search(caller, probe, 'faces')).response.Results as any;
      expect(after[0].Candidates.map((c: any) => c.PersonId)).not.toContain('p0');
      // A fresh instance (restart) rebuilds the same index from the database.
      if (!b.url) { await a1.close(); apps.length = 0; }
      const a3 = await createApp(loadConfig(env, 2), { pgSchema: schema });
      apps.push(a3);
      const L3 = createLibraryModule({ ...a3, report: () => {} }, { faces: syntheticFaces, scale });
      await L3.loaded;
      await L3.index.sync(caller.appId);
      dbFaces.forEach((person, face) => { if (person === 'p0') dbFaces.delete(face); });
      expect(new Map([...L3.index.snapshot(caller.appId, 'G')!.faces].sort())).toEqual(new Map([...dbFaces].sort()));
    });
  });
}
