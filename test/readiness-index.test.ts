// /readyz waits for the search index: a node answers 503, naming the index and how far its load
// is, until every AppId's library is loaded from the database; a failed load is retried by itself.
//
// The load is held at a gate (before the persons' combined features, after the faces), so the
// loading state is observed on every run rather than only when the machine happens to be slow;
// its first attempt fails as a dropped database connection would (an error with that code).
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLibraryModule } from '../src/services/library/library-module.ts';
import type { FaceSource } from '../src/services/library/library-deps.ts';
import { LibraryRepo } from '../src/store/library/library-repo.ts';
import { cosineToScore, scoreToCosine } from '../src/vision/calibration.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';
import { unit } from './helpers/vectors.ts';
import { readinessAcrossRelease } from './helpers/readiness.ts';

const syntheticFaces: FaceSource = {
  modelVersions: () => ['3.0'],
  async faces(_c, input) {
    return { width: 100, height: 100, faces: [{ rect: { X: 0, Y: 0, Width: 50, Height: 50 }, embedding: unit(String(input.Image)) }] };
  },
};
const scale = { score: (c: number) => cosineToScore(c), cosine: (s: number) => scoreToCosine(s) };
const PERSONS = 12;

type Ready = { status: number; checks: Record<string, string> };

describe('readiness and the search index load', () => {
  const dir = tempDir();
  let t: TestServer;
  let appId = 0;
  const whileHeld: Ready[] = [];
  const afterRelease: Ready[] = [];
  let faceCalls = 0;
  const readyz = async (): Promise<Ready> => {
    const r = await fetch(`${t.url}/readyz`);
    return { status: r.status, checks: ((await r.json()) as { checks: Record<string, string> }).checks };
  };

  beforeAll(async () => {
    // A library in the database before the node starts: one group of PERSONS persons, one face each.
    const env = { FACEVAULT_DATA_DIR: dir, FACEVAULT_LOG_LEVEL: 'silent' };
    const a = await createApp(loadConfig(env, 2));
    try {
      const acct = await a.accounts.createAccount('library');
      appId = acct.AppId;
      const caller = { appId, uin: '', subUin: '' };
      const L = createLibraryModule({ ...a, report: () => {} }, { faces: syntheticFaces, scale });
      await L.loaded;
      await L.groups.create(caller, { groupId: 'G', groupName: 'G', exDescriptions: [], tag: '', faceModelVersion: '3.0', keepImages: false });
      for (let i = 0; i < PERSONS; i++) {
        await L.persons.create(caller, { groupId: 'G', personId: `p${i}`, personName: `P${i}`, gender: 0, exInfos: [], image: { Image: `p${i}` }, uniquePersonControl: 0, qualityControl: 0 });
      }
      await L.index.close();
    } finally { await a.close(); }

    // The node's load: its first attempt fails at the faces; the second reads the faces, then waits at the gate.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let reached!: () => void;
    const atGate = new Promise<void>((r) => { reached = r; });
    const realFaces = LibraryRepo.prototype.allFaces;
    const realCombined = LibraryRepo.prototype.allCombined;
    const faces = vi.spyOn(LibraryRepo.prototype, 'allFaces').mockImplementation(function (this: LibraryRepo, ...args) {
      if (faceCalls++ === 0) throw Object.assign(new Error('connection reset by the database at 10.0.0.1:5432'), { code: 'ECONNRESET' });
      return realFaces.apply(this, args);
    });
    const combined = vi.spyOn(LibraryRepo.prototype, 'allCombined').mockImplementation(async function* (this: LibraryRepo, ...args) {
      reached();
      await gate;
      yield* realCombined.apply(this, args);
    });
    try {
      t = await startTestServer({ FACEVAULT_DATA_DIR: dir });
      await atGate;
      await readinessAcrossRelease(readyz, release, whileHeld, afterRelease);
    } finally {
      release();
      faces.mockRestore();
      combined.mockRestore();
    }
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is 503 while the index loads, naming it with its progress and the failed first attempt', () => {
    expect(faceCalls).toBe(2);
    for (const r of whileHeld) {
      expect(r.status).toBe(503);
      // Every other check is fine: the index alone holds the node back.
      expect(r.checks).toEqual({ database: 'ok', objectStore: 'ok', keyStore: 'ok', models: 'idle', workers: 'ok', index: expect.any(String) });
      // The faces are read, the persons' combined features not yet; the database's address is not shown.
      expect(r.checks.index).toBe(`loading: search index, 0 of 1 AppIds, ${PERSONS} of ${2 * PERSONS} feature rows (50%); attempt 2, the last one failed: ECONNRESET`);
    }
  });

  it('is 200 once the index is loaded, and the index then holds the whole library', () => {
    expect(afterRelease.at(-1)).toEqual({ status: 200, checks: { database: 'ok', objectStore: 'ok', keyStore: 'ok', models: 'idle', workers: 'ok', index: 'ok' } });
    for (const r of afterRelease) expect(r.status === 200, JSON.stringify(r)).toBe(r.checks.index === 'ok');
    const snap = t.run.app.library.index.snapshot(appId, 'G')!;
    expect(snap.faces.size).toBe(PERSONS);
    expect(snap.persons.size).toBe(PERSONS);
    expect(t.run.app.library.index.loadStatus()).toMatchObject({ state: 'loaded', apps: 1, appsDone: 1, rows: 2 * PERSONS, attempt: 2, lastError: null });
  });
});
