// GroupsService, PersonsService and SearchService: one tenant never sees or changes another's
// group or person, even under the same ids. Real library repository and index on SQLite, a
// fake face source (fixed embeddings per image name), no HTTP, no models.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/domain/call.ts';
import { code, library, newGroup, newPerson, openFixture, searchInput, type Fixture, type Library } from './fixture.ts';

describe('library services keep tenants apart', () => {
  let fx: Fixture;
  let L: Library;
  let A: Caller, B: Caller;

  beforeAll(async () => {
    fx = await openFixture();
    L = library(fx);
    A = await fx.tenant(101);
    B = await fx.tenant(202);
    // The same GroupId and PersonId in both tenants, with different names and faces: an
    // overwrite or a lookup across tenants would show.
    await newGroup(L, A, 'g', 'group of A');
    await newGroup(L, B, 'g', 'group of B');
    await newPerson(L, A, 'g', 'p', 'alice');
    await newPerson(L, B, 'g', 'p', 'bob');
    await newGroup(L, A, 'only-a');
  });
  afterAll(async () => fx?.close());

  it('groups: each tenant reads its own same-id group; a group of the other tenant does not exist', async () => {
    expect((await L.groups.info(A, 'g')).GroupName).toBe('group of A');
    expect((await L.groups.info(B, 'g')).GroupName).toBe('group of B');
    expect(await code(L.groups.info(B, 'only-a'))).toBe('InvalidParameterValue.GroupIdNotExist');
    expect((await L.groups.list(B, 0, 100)).GroupInfos.map((g: { GroupId: string }) => g.GroupId)).toEqual(['g']);
  });

  it('groups: modifying or deleting through another tenant touches nothing of the owner', async () => {
    expect(await code(L.groups.modify(B, { groupId: 'only-a', groupName: 'taken' }))).toBe('InvalidParameterValue.GroupIdNotExist');
    expect(await code(L.groups.delete(B, 'only-a'))).toBe('InvalidParameterValue.GroupIdNotExist');
    await L.groups.modify(B, { groupId: 'g', groupName: 'renamed by B' });
    expect((await L.groups.info(A, 'g')).GroupName).toBe('group of A');
    expect((await L.groups.info(A, 'only-a')).GroupName).toBe('only-a');
  });

  it('persons: same-id persons stay separate (names, faces, memberships)', async () => {
    await L.persons.modifyBase(B, 'p', { name: 'B renamed p' });
    expect((await L.persons.baseInfo(A, 'p')).PersonName).toBe('p');
    expect((await L.persons.baseInfo(B, 'p')).PersonName).toBe('B renamed p');
    await L.persons.createFaces(B, 'p', [{ Image: 'bob-2' }], 0, 0);
    expect((await L.persons.baseInfo(A, 'p')).FaceIds).toHaveLength(1);
    expect((await L.persons.baseInfo(B, 'p')).FaceIds).toHaveLength(2);
    // B cannot put its person into A's group, nor copy A's person anywhere.
    expect(await code(L.persons.copy(B, 'p', ['only-a']))).toBe('InvalidParameterValue.GroupIdNotExist');
    expect((await L.groups.counts(A, 'only-a')).PersonNum).toBe(0);
  });

  it('persons: deleting in one tenant leaves the other\'s same-id person', async () => {
    await newPerson(L, A, 'g', 'shared-id', 'carol');
    await newPerson(L, B, 'g', 'shared-id', 'dave');
    await L.persons.delete(B, 'shared-id');
    expect(await code(L.persons.baseInfo(B, 'shared-id'))).toBe('InvalidParameterValue.PersonIdNotExist');
    expect((await L.persons.baseInfo(A, 'shared-id')).PersonName).toBe('shared-id');
    expect(await code(L.persons.deleteFaces(B, 'p', (await L.persons.baseInfo(A, 'p')).FaceIds))).not.toBe('OK');
    expect((await L.persons.baseInfo(A, 'p')).FaceIds).toHaveLength(1);
  });

  it('search: a tenant finds only its own persons, even with the other tenant\'s face', async () => {
    const byA = await L.search.search(A, searchInput(['g'], 'alice'), 'persons');
    const candA = (byA.response.Results as { Candidates: { PersonId: string; Score: number }[] }[])[0].Candidates;
    expect(candA[0]).toMatchObject({ PersonId: 'p' });
    expect(candA[0].Score).toBeGreaterThan(99);
    // Bob is enrolled as B's "p": searching A's group "g" with Bob's face must not score high.
    const bobInA = await L.search.search(A, searchInput(['g'], 'bob'), 'persons');
    const c = (bobInA.response.Results as { Candidates: { PersonId: string; Score: number }[] }[])[0].Candidates;
    expect(c.every((x) => x.Score < 50)).toBe(true);
    expect(c.length).toBeGreaterThan(0);
    // B's group "g" holds Bob (face "bob", and "bob-2" added above): his own face is found there.
    const byB = await L.search.search(B, searchInput(['g'], 'bob'), 'faces');
    const candB = (byB.response.Results as { Candidates: { PersonId: string; Score: number }[] }[])[0].Candidates;
    expect(candB[0].PersonId).toBe('p');
    expect(candB[0].Score).toBeGreaterThan(99);
    expect(await code(L.search.search(B, searchInput(['only-a'], 'alice'), 'faces'))).toBe('InvalidParameterValue.GroupIdNotExist');
  });

  it('verify: a PersonId is the caller\'s own person', async () => {
    expect((await L.search.verifyFace(A, 'p', { Image: 'alice' }, 0)).IsMatch).toBe(true);
    // B's "p" is Bob: Alice's face does not verify against it.
    expect((await L.search.verifyFace(B, 'p', { Image: 'alice' }, 0)).IsMatch).toBe(false);
    expect((await L.search.verifyPerson(B, 'p', { Image: 'bob' }, 0)).IsMatch).toBe(true);
    expect(await code(L.search.verifyPerson(B, 'shared-id', { Image: 'dave' }, 0))).toBe('InvalidParameterValue.PersonIdNotExist');
  });
});
