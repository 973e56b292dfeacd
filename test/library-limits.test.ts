// Capacity limits (Tencent's codes) and model-version separation, at the service layer with a
// synthetic face source (each "image" string seeds a deterministic embedding) and small limits.
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLibraryModule } from '../src/services/library/library-module.ts';
import type { FaceSource } from '../src/services/library/library-deps.ts';
import { DIM } from '../src/search/vector-codes.ts';
import { tempDir } from './helpers/server.ts';
import { unit } from './helpers/vectors.ts';


const faces: FaceSource = {
  modelVersions: () => ['3.0', '3.0-alt'],
  async faces(_c, input) {
    return { width: 100, height: 100, faces: [{ rect: { X: 0, Y: 0, Width: 50, Height: 50 }, embedding: unit(String(input.Image)) }] };
  },
};

async function code(p: Promise<unknown>): Promise<string> {
  try { await p; return 'OK'; } catch (e) { return (e as { code?: string }).code ?? String(e); }
}

describe('library capacity limits and model versions', () => {
  let app: App;
  afterAll(async () => app?.close());

  it('refuses groups, faces and memberships past the limits with Tencent codes, changing nothing', async () => {
    app = await createApp(loadConfig({ FACEVAULT_DATA_DIR: tempDir() }, 2));
    const L = createLibraryModule({ ...app, report: () => {} }, { faces, limits: { groupsPerApp: 4, facesPerGroup: 4, facesPerApp: 6, groupsPerPerson: 2 } });
    await L.loaded;
    const acct = await app.accounts.createAccount('limits');
    const c = { appId: acct.AppId, uin: '', subUin: '' };
    const group = (id: string, v = '3.0') => L.groups.create(c, { groupId: id, groupName: id, exDescriptions: [], tag: '', faceModelVersion: v, keepImages: false });
    const person = (g: string, id: string) => L.persons.create(c, { groupId: g, personId: id, personName: id, gender: 0, exInfos: [], image: { Image: id }, uniquePersonControl: 0, qualityControl: 0 });
    await group('a');
    await group('b');
    await group('e');
    await group('alt', '3.0-alt');
    expect(await code(group('d'))).toBe('InvalidParameterValue.GroupNumExceed');
    for (const id of ['p1', 'p2', 'p3']) await person('a', id);
    await L.persons.createFaces(c, 'p1', [{ Image: 'p1-b' }], 0, 0);
    // Group "a" now holds 4 faces, its limit.
    expect(await code(person('a', 'p4'))).toBe('InvalidParameterValue.GroupFaceNumExceed');
    expect(await code(L.persons.createFaces(c, 'p2', [{ Image: 'p2-b' }], 0, 0))).toBe('InvalidParameterValue.GroupFaceNumExceed');
    expect((await L.groups.counts(c, 'a')).FaceNum).toBe(4);
    expect(await code(L.persons.baseInfo(c, 'p4'))).toBe('InvalidParameterValue.PersonIdNotExist');
    // The AppId limit (6 faces) counts each face once, whatever its groups.
    await L.persons.copy(c, 'p1', ['b']); // p1's 2 faces into b: still 4 distinct faces
    await person('b', 'p5');
    await L.persons.createFaces(c, 'p5', [{ Image: 'p5-b' }], 0, 0); // 6 faces
    expect(await code(person('e', 'p6'))).toBe('InvalidParameterValue.AccountFaceNumExceed');
    expect(await code(L.persons.copy(c, 'p2', ['b']))).toBe('InvalidParameterValue.GroupFaceNumExceed');
    // A person is in at most groupsPerPerson (here 2) groups: p1 is in a and b.
    expect(await code(L.persons.copy(c, 'p1', ['e']))).toBe('InvalidParameterValue.GroupNumPerPersonExceed');
    expect(await code(L.persons.copy(c, 'p1', ['alt']))).toBe('FailedOperation.AcrossVersionsError');
    expect((await L.groups.counts(c, 'e')).PersonNum).toBe(0);
    expect((await L.persons.groupInfo(c, 'p1', 0, 10)).GroupNum).toBe(2);
  });

  it('rejects searching groups of different model versions together (AcrossVersionsError)', async () => {
    const L = createLibraryModule({ ...app, report: () => {} }, { faces, limits: { groupsPerApp: 3, facesPerGroup: 4, facesPerApp: 100, groupsPerPerson: 2 } });
    await L.loaded;
    const acct = await app.accounts.createAccount('versions');
    const c = { appId: acct.AppId, uin: '', subUin: '' };
    await L.groups.create(c, { groupId: 'v3', groupName: 'v3', exDescriptions: [], tag: '', faceModelVersion: '3.0', keepImages: false });
    await L.groups.create(c, { groupId: 'alt', groupName: 'alt', exDescriptions: [], tag: '', faceModelVersion: '3.0-alt', keepImages: false });
    await L.persons.create(c, { groupId: 'v3', personId: 'x', personName: 'x', gender: 0, exInfos: [], image: { Image: 'x' }, uniquePersonControl: 0, qualityControl: 0 });
    await L.persons.create(c, { groupId: 'alt', personId: 'y', personName: 'y', gender: 0, exInfos: [], image: { Image: 'y' }, uniquePersonControl: 0, qualityControl: 0 });
    const probe = (groupIds: string[]) => ({ groupIds, image: { Image: 'x' }, maxFaceNum: 1, minFaceSize: 0, maxPersonNum: 5, needPersonInfo: false, qualityControl: 0, faceMatchThreshold: 0 });
    expect(await code(L.search.search(c, probe(['v3', 'alt']), 'faces'))).toBe('FailedOperation.AcrossVersionsError');
    expect(await code(L.search.searchByGroup(c, probe(['alt', 'v3']), 'persons'))).toBe('FailedOperation.AcrossVersionsError');
    const one = await L.search.search(c, probe(['v3']), 'faces');
    expect((one.response.Results as any)[0].Candidates[0].PersonId).toBe('x');
    expect(await code(L.persons.copy(c, 'x', ['alt']))).toBe('FailedOperation.AcrossVersionsError');
  });
});
