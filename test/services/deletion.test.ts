// DeletionService: erasing tenant A's person, end user or whole AppId leaves tenant B's data
// with the same ids untouched. Every repository is real (SQLite in a temp dir), each table
// erased by its owner; the face source and the fusion face finder are fakes (no models).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/domain/call.ts';
import { DeletionService } from '../../src/services/privacy/deletion.ts';
import { FusionMaterials } from '../../src/services/fusion/fusion-materials.ts';
import type { FaceFinder } from '../../src/services/fusion/fusion-vision.ts';
import { AccountsRepo } from '../../src/store/accounts/accounts-repo.ts';
import { BlobRecords } from '../../src/store/blobs/blob-records.ts';
import { FusionRepo } from '../../src/store/fusion/fusion-repo.ts';
import { ErrorLog } from '../../src/store/logs/error-log.ts';
import { RunningLogRepo } from '../../src/store/logs/running-log-repo.ts';
import { PrivacyRepo } from '../../src/store/privacy/privacy-repo.ts';
import { code, library, newGroup, newPerson, openFixture, searchInput, type Fixture, type Library } from './fixture.ts';
import { VideoRepo } from '../../src/store/video/video-repo.ts';

const noFaces: FaceFinder = { analyze: async () => ({ width: 0, height: 0, faces: [] }) };

describe('DeletionService erases one tenant only', () => {
  let fx: Fixture;
  let L: Library;
  let del: DeletionService;
  let runningLog: RunningLogRepo;
  let privacyRepo: PrivacyRepo;
  let accountsRepo: AccountsRepo;
  let A: Caller, B: Caller;

  const call = (c: Caller, requestId: string, o: { personId?: string; endUserId?: string; result?: unknown } = {}) => runningLog.append({
    requestId, time: fx.clock.now(), appId: c.appId, uin: c.uin, subUin: c.subUin, clientIp: '10.0.0.1', service: 'iai', action: 'SearchPersons',
    region: 'ap-guangzhou', billed: true, code: '', latencyMs: 5, ...o,
  });
  const calls = async (c: Caller) => (await runningLog.forApp(c.appId)).map((r) => r.request_id).sort();
  const topHit = async (c: Caller, image: string) =>
    ((await L.search.search(c, searchInput(['g'], image), 'faces')).response.Results as { Candidates: { PersonId: string; Score: number }[] }[])[0].Candidates[0];

  beforeAll(async () => {
    fx = await openFixture();
    L = library(fx);
    runningLog = new RunningLogRepo(fx.db);
    privacyRepo = new PrivacyRepo(fx.db);
    accountsRepo = new AccountsRepo(fx.db);
    const fusion = new FusionRepo(fx.db);
    del = new DeletionService({
      db: fx.db, repo: privacyRepo, blobs: fx.blobs, blobRecords: new BlobRecords(fx.db), runningLog, fusion, video: new VideoRepo(fx.db), accounts: accountsRepo,
      errorLog: new ErrorLog({ dir: path.join(fx.dir, 'errors'), maxBytes: 1 << 20 }), keyring: fx.keyring, keys: fx.keyStore, clock: fx.clock, audit: fx.audit,
      library: { repo: L.repo, index: L.index, crypto: L.crypto },
      materials: new FusionMaterials(fusion, fx.blobs, fx.clock, noFaces, { draftQps: 1, publishedQps: 1, materialMaxSide: 4096, cacheBytes: 0 }),
    });
    A = await fx.tenant(301);
    B = await fx.tenant(302);
    for (const [c, face] of [[A, 'a'], [B, 'b']] as const) {
      await accountsRepo.createApp({ appId: c.appId, name: `app ${c.appId}`, rootUin: c.uin, createdAt: 1 },
        { subUin: c.uin, appId: c.appId, uin: c.uin, name: 'root', isRoot: true, policy: ['*'], createdAt: 1 },
        { secretId: `AKID${c.appId}`, appId: c.appId, subUin: c.uin, secretKeyEnc: Buffer.from('sealed'), createdAt: 1 });
      // Same GroupId, PersonIds and EndUserId in both tenants; different faces.
      await newGroup(L, c, 'g');
      await newPerson(L, c, 'g', 'p', `${face}-p`);
      await newPerson(L, c, 'g', 'q', `${face}-q`, { endUserId: 'eu-1' });
      await newPerson(L, c, 'g', 'keep', `${face}-keep`);
      await privacyRepo.savePolicy({ app_id: c.appId, require_consent: 0, min_age: 16, inactive_person_days: null, updated_at: 1, updated_by: 'spec' });
      await call(c, `${c.appId}-p`, { personId: 'p' });
      await call(c, `${c.appId}-q`, { endUserId: 'eu-1' });
      await call(c, `${c.appId}-keep`, { personId: 'keep', result: { Candidates: [{ PersonId: 'keep' }, { PersonId: 'p' }] } });
    }
  });
  afterAll(async () => fx?.close());

  it('a PersonId: A\'s person goes, B\'s same-id person, its faces, index entry and calls stay', async () => {
    const r = await del.create(A, { kind: 'person', personId: 'p' });
    expect(r).toMatchObject({ Status: 'DONE', Scope: 'PersonId' });
    expect(r.Deleted).toMatchObject({ Persons: 1, Faces: 1, GroupMemberships: 1, RunningLogRecords: 1, RunningLogResultsScrubbed: 1 });
    expect(await code(L.persons.baseInfo(A, 'p'))).toBe('InvalidParameterValue.PersonIdNotExist');
    expect(L.index.snapshot(A.appId, 'g')!.persons.has('p')).toBe(false);
    expect(await calls(A)).toEqual([`${A.appId}-keep`, `${A.appId}-q`]);
    expect((await runningLog.byRequestId(`${A.appId}-keep`))!.result).not.toContain('"p"');

    expect((await L.persons.baseInfo(B, 'p')).FaceIds).toHaveLength(1);
    expect(L.index.snapshot(B.appId, 'g')!.persons.has('p')).toBe(true);
    expect(await topHit(B, 'b-p')).toMatchObject({ PersonId: 'p' });
    expect(await calls(B)).toEqual([`${B.appId}-keep`, `${B.appId}-p`, `${B.appId}-q`]);
    expect((await runningLog.byRequestId(`${B.appId}-keep`))!.result).toContain('"p"');
  });

  it('an EndUserId: A\'s end user\'s persons and calls go; B\'s end user with the same id keeps everything', async () => {
    const r = await del.create(A, { kind: 'end_user', endUserId: 'eu-1' });
    expect(r.Deleted).toMatchObject({ Persons: 1, RunningLogRecords: 1 });
    expect(await code(L.persons.baseInfo(A, 'q'))).toBe('InvalidParameterValue.PersonIdNotExist');
    expect(await calls(A)).toEqual([`${A.appId}-keep`]);
    expect((await L.persons.baseInfo(B, 'q')).PersonName).toBe('q');
    expect(await calls(B)).toEqual([`${B.appId}-keep`, `${B.appId}-p`, `${B.appId}-q`]);
  });

  it('a whole AppId: A\'s rows, keys, policy and data key go; B is whole and still searchable', async () => {
    const r = await del.create(A, { kind: 'app' });
    expect(r.Deleted).toMatchObject({ Persons: 1, Groups: 1, ApiKeys: 1, Users: 1, DataKeys: 1, RunningLogRecords: 1 });
    expect((await L.groups.list(A, 0, 10)).GroupInfos).toEqual([]);
    expect(await calls(A)).toEqual([]);
    expect(await privacyRepo.policy(A.appId)).toBeUndefined();
    expect(await accountsRepo.getKey(`AKID${A.appId}`)).toBeUndefined();
    expect((await fx.keyStore.get(A.appId)).state).toBe('erased');

    expect((await L.groups.list(B, 0, 10)).GroupInfos.map((g: { GroupId: string }) => g.GroupId)).toEqual(['g']);
    for (const id of ['p', 'q', 'keep']) expect((await L.persons.baseInfo(B, id)).PersonName).toBe(id);
    expect(await calls(B)).toEqual([`${B.appId}-keep`, `${B.appId}-p`, `${B.appId}-q`]);
    expect((await privacyRepo.policy(B.appId))?.min_age).toBe(16);
    expect((await accountsRepo.getKey(`AKID${B.appId}`))?.appStatus).toBe('active');
    expect((await fx.keyStore.get(B.appId)).state).toBe('present');
    expect(await topHit(B, 'b-keep')).toMatchObject({ PersonId: 'keep' });
  });

  it('only the root account may erase a whole AppId', async () => {
    expect(await code(del.create({ ...B, subUin: 'sub-user' }, { kind: 'app' }))).toBe('AuthFailure.UnauthorizedOperation');
    expect((await accountsRepo.getKey(`AKID${B.appId}`))?.appStatus).toBe('active');
  });
});
