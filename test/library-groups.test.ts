// Face library groups through the official SDK, on SQLite and (with FACEVAULT_TEST_PG) PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';

const backends: { name: string; env: Record<string, string>; opts: () => { pgSchema?: string } }[] = [
  { name: 'sqlite', env: {}, opts: () => ({}) },
  ...(PG_URL ? [{ name: 'postgres', env: { FACEVAULT_DATABASE_URL: PG_URL }, opts: () => ({ pgSchema: freshPgSchema() }) }] : []),
];
if (!PG_URL) console.log(pgSkipReason);

for (const b of backends) {
  describe(`face library groups (${b.name})`, () => {
    let t: TestServer;
    let c: any;
    beforeAll(async () => {
      t = await startTestServer(b.env, b.opts());
      c = t.iai();
    });
    afterAll(async () => t?.stop());

    it('creates, reads, lists, modifies and deletes a group', async () => {
      const r = await c.CreateGroup({ GroupId: 'g-1', GroupName: 'Staff', GroupExDescriptions: ['badge', 'dept'], Tag: 'hq' });
      expect(r.FaceModelVersion).toBe('3.0');
      const info = await c.GetGroupInfo({ GroupId: 'g-1' });
      expect(info).toMatchObject({ GroupId: 'g-1', GroupName: 'Staff', GroupExDescriptions: ['badge', 'dept'], Tag: 'hq', FaceModelVersion: '3.0' });
      expect(typeof info.CreationTimestamp).toBe('number');
      await c.CreateGroup({ GroupId: 'g-2', GroupName: 'Visitors' });
      const list = await c.GetGroupList({ Limit: 1 });
      expect(list.GroupNum).toBe(2);
      expect(list.GroupInfos).toHaveLength(1);
      expect(list.GroupInfos[0].GroupId).toBe('g-1');
      const page2 = await c.GetGroupList({ Offset: 1, Limit: 10 });
      expect(page2.GroupInfos.map((g: any) => g.GroupId)).toEqual(['g-2']);
      await c.ModifyGroup({ GroupId: 'g-1', GroupName: 'Staff 2', Tag: 'x', GroupExDescriptionInfos: [{ GroupExDescriptionIndex: 1, GroupExDescription: 'team' }, { GroupExDescriptionIndex: 2, GroupExDescription: 'floor' }] });
      expect(await c.GetGroupInfo({ GroupId: 'g-1' })).toMatchObject({ GroupName: 'Staff 2', Tag: 'x', GroupExDescriptions: ['badge', 'team', 'floor'] });
      expect(await c.GetPersonListNum({ GroupId: 'g-1' })).toMatchObject({ PersonNum: 0, FaceNum: 0 });
      await c.DeleteGroup({ GroupId: 'g-2' });
      expect(await errorCode(c.GetGroupInfo({ GroupId: 'g-2' }))).toBe('InvalidParameterValue.GroupIdNotExist');
      expect((await c.GetGroupList({})).GroupNum).toBe(1);
    });

    it('rejects bad group input with Tencent codes and writes nothing', async () => {
      const before = (await c.GetGroupList({})).GroupNum;
      const cases: [Record<string, unknown>, string][] = [
        [{ GroupId: 'a'.repeat(65), GroupName: 'n1' }, 'InvalidParameterValue.GroupIdTooLong'],
        [{ GroupId: 'bad id!', GroupName: 'n1' }, 'InvalidParameterValue.GroupIdIllegal'],
        [{ GroupId: 'ok-1', GroupName: 'x'.repeat(61) }, 'InvalidParameterValue.GroupNameTooLong'],
        [{ GroupId: 'ok-1', GroupName: '' }, 'InvalidParameterValue.GroupNameIllegal'],
        [{ GroupId: 'ok-1', GroupName: 'n1', Tag: 't'.repeat(41) }, 'InvalidParameterValue.GroupTagTooLong'],
        [{ GroupId: 'ok-1', GroupName: 'n1', GroupExDescriptions: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'InvalidParameterValue.GroupExDescriptionsExceed'],
        [{ GroupId: 'ok-1', GroupName: 'n1', GroupExDescriptions: ['a', 'a'] }, 'InvalidParameterValue.GroupExDescriptionsNameIdentical'],
        [{ GroupId: 'ok-1', GroupName: 'n1', GroupExDescriptions: ['x'.repeat(31)] }, 'InvalidParameterValue.GroupExDescriptionsNameTooLong'],
        [{ GroupId: 'ok-1', GroupName: 'n1', GroupExDescriptions: [''] }, 'InvalidParameterValue.GroupExDescriptionsNameIllegal'],
        [{ GroupId: 'ok-1', GroupName: 'n1', FaceModelVersion: '2.0' }, 'InvalidParameterValue.FaceModelVersionIllegal'],
        [{ GroupId: 'g-1', GroupName: 'n1' }, 'InvalidParameterValue.GroupIdAlreadyExist'],
        [{ GroupId: 'ok-1', GroupName: 'Staff 2' }, 'InvalidParameterValue.GroupNameAlreadyExist'],
      ];
      for (const [req, code] of cases) expect(await errorCode(c.CreateGroup(req)), JSON.stringify(req)).toBe(code);
      expect(await errorCode(c.GetGroupList({ Limit: 1001 }))).toBe('InvalidParameterValue.LimitExceed');
      expect(await errorCode(c.GetGroupList({ Offset: -1 }))).toBe('InvalidParameterValue.OffsetExceed');
      expect(await errorCode(c.DeleteGroup({ GroupId: 'nope' }))).toBe('InvalidParameterValue.GroupIdNotExist');
      expect(await errorCode(c.ModifyGroup({ GroupId: 'g-1', GroupExDescriptionInfos: [{ GroupExDescriptionIndex: 4, GroupExDescription: 'far' }] }))).toBe('InvalidParameterValue');
      expect(await errorCode(c.GetPersonList({ GroupId: 'nope' }))).toBe('InvalidParameterValue.GroupIdNotExist');
      expect((await c.GetGroupList({})).GroupNum).toBe(before);
      expect((await c.GetGroupInfo({ GroupId: 'g-1' })).GroupExDescriptions).toEqual(['badge', 'team', 'floor']);
    });

    it('keeps AppIds apart: another account cannot see or change these groups', async () => {
      const other = await t.run.app.accounts.createAccount('other');
      const c2 = t.iai(other);
      expect((await c2.GetGroupList({})).GroupNum).toBe(0);
      expect(await errorCode(c2.GetGroupInfo({ GroupId: 'g-1' }))).toBe('InvalidParameterValue.GroupIdNotExist');
      expect(await errorCode(c2.DeleteGroup({ GroupId: 'g-1' }))).toBe('InvalidParameterValue.GroupIdNotExist');
      expect(await errorCode(c2.ModifyGroup({ GroupId: 'g-1', GroupName: 'hijack' }))).toBe('InvalidParameterValue.GroupIdNotExist');
      expect(await errorCode(c2.GetPersonList({ GroupId: 'g-1' }))).toBe('InvalidParameterValue.GroupIdNotExist');
      // Same ids and names are free in the other AppId; its group has its own data, so a write
      // that crossed AppIds would show in the first one.
      const mine = { GroupId: 'g-1', GroupName: 'Staff 2', Tag: 'x', GroupExDescriptions: ['badge', 'team', 'floor'] };
      expect(await c.GetGroupInfo({ GroupId: 'g-1' })).toMatchObject(mine);
      await c2.CreateGroup({ GroupId: 'g-1', GroupName: 'Guests', Tag: 'lobby', GroupExDescriptions: ['host'] });
      await c2.CreateGroup({ GroupId: 'g-other', GroupName: 'Staff 2' });
      const theirs = { GroupId: 'g-1', GroupName: 'Guests', Tag: 'lobby', GroupExDescriptions: ['host'] };
      expect(await c.GetGroupInfo({ GroupId: 'g-1' })).toMatchObject(mine);
      expect(await c2.GetGroupInfo({ GroupId: 'g-1' })).toMatchObject(theirs);
      const ids = async (client: any) => (await client.GetGroupList({})).GroupInfos.map((g: any) => [g.GroupId, g.GroupName]);
      expect(await ids(c)).toEqual([['g-1', 'Staff 2']]);
      expect(await ids(c2)).toEqual([['g-1', 'Guests'], ['g-other', 'Staff 2']]);
      expect(await errorCode(c.GetGroupInfo({ GroupId: 'g-other' }))).toBe('InvalidParameterValue.GroupIdNotExist');

      // The other AppId's modify and delete of its same-id group leave this one as it was.
      await c2.ModifyGroup({ GroupId: 'g-1', GroupName: 'Guests 2', Tag: 'gate', GroupExDescriptionInfos: [{ GroupExDescriptionIndex: 0, GroupExDescription: 'escort' }] });
      expect(await c2.GetGroupInfo({ GroupId: 'g-1' })).toMatchObject({ GroupName: 'Guests 2', Tag: 'gate', GroupExDescriptions: ['escort'] });
      expect(await c.GetGroupInfo({ GroupId: 'g-1' })).toMatchObject(mine);
      await c2.DeleteGroup({ GroupId: 'g-1' });
      expect(await errorCode(c2.GetGroupInfo({ GroupId: 'g-1' }))).toBe('InvalidParameterValue.GroupIdNotExist');
      expect(await c.GetGroupInfo({ GroupId: 'g-1' })).toMatchObject(mine);
      expect(await ids(c)).toEqual([['g-1', 'Staff 2']]);
      expect(await ids(c2)).toEqual([['g-other', 'Staff 2']]);
    });

    it('answers the upgrade actions honestly', async () => {
      expect(await errorCode(c.UpgradeGroupFaceModelVersion({ GroupId: 'g-1', FaceModelVersion: '3.0' }))).toBe('FailedOperation.GroupCannotUpgrade');
      expect(await errorCode(c.GetUpgradeGroupFaceModelVersionResult({ JobId: 'x' }))).toBe('FailedOperation.UpgradeJobIdNotExist');
      expect(await c.GetUpgradeGroupFaceModelVersionJobList({})).toMatchObject({ JobInfos: [], JobNum: 0 });
    });
  });
}
