// Persons, faces, search and verification through the official SDK with real photos,
// on SQLite and (with FACEVAULT_TEST_PG) PostgreSQL.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';
import { hasTestdata, td, tdBase64, testdataSkipReason } from './helpers/testdata.ts';

const backends: { name: string; env: Record<string, string>; opts: () => { pgSchema?: string } }[] = [
  { name: 'sqlite', env: {}, opts: () => ({}) },
  ...(PG_URL ? [{ name: 'postgres', env: { FACEVAULT_DATABASE_URL: PG_URL }, opts: () => ({ pgSchema: freshPgSchema() }) }] : []),
];
if (!PG_URL) console.log(pgSkipReason);
if (!hasTestdata) console.log(testdataSkipReason);

const img = (who: string, file: string) => tdBase64('faces', 'identities', who, file);

for (const b of backends) {
  describe.skipIf(!hasTestdata)(`face library persons and search (${b.name})`, () => {
    let t: TestServer;
    let c: any;
    // Url inputs: a loopback file server, allow-listed (loopback is refused by default).
    let files: http.Server;
    let filesUrl = '';
    beforeAll(async () => {
      files = http.createServer((req, res) => {
        const m = /^\/([a-z]+)\/([a-z0-9]+\.png)$/.exec(req.url ?? '');
        if (m && fs.existsSync(td('faces', 'identities', m[1], m[2]))) { res.writeHead(200, { 'content-type': 'image/png' }); res.end(fs.readFileSync(td('faces', 'identities', m[1], m[2]))); }
        else { res.writeHead(404); res.end(); }
      });
      await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
      const port = (files.address() as AddressInfo).port;
      filesUrl = `http://127.0.0.1:${port}`;
      t = await startTestServer({ ...b.env, FACEVAULT_URL_ALLOWLIST: `127.0.0.1:${port}` }, b.opts());
      c = t.iai();
      await c.CreateGroup({ GroupId: 'cast', GroupName: 'Cast', GroupExDescriptions: ['role'] });
      await c.CreateGroup({ GroupId: 'other', GroupName: 'Other' });
    }, 180_000);
    afterAll(async () => { await t?.stop(); await new Promise((r) => files?.close(r)); });

    it('enrols persons and finds them with SearchFaces/SearchPersons', async () => {
      const r = await c.CreatePerson({ GroupId: 'cast', PersonId: 'amy', PersonName: 'Amy', Gender: 2, Image: img('amy', 'amy1.png'), PersonExDescriptionInfos: [{ PersonExDescriptionIndex: 0, PersonExDescription: 'neuro' }] });
      expect(r.FaceId).toMatch(/^\d+$/);
      expect(r.FaceRect.Width).toBeGreaterThan(30);
      expect(r.FaceModelVersion).toBe('3.0');
      await c.CreatePerson({ GroupId: 'cast', PersonId: 'raj', PersonName: 'Raj', Image: img('raj', 'raj1.png') });
      await c.CreatePerson({ GroupId: 'cast', PersonId: 'penny', PersonName: 'Penny', Image: img('penny', 'penny1.png') });
      const s = await c.SearchFaces({ GroupIds: ['cast'], Image: img('amy', 'amy3.png'), MaxPersonNum: 3, NeedPersonInfo: 1 });
      expect(s.FaceNum).toBe(3);
      expect(s.Results[0].RetCode).toBe(0);
      const top = s.Results[0].Candidates[0];
      expect(top).toMatchObject({ PersonId: 'amy', FaceId: r.FaceId, PersonName: 'Amy', Gender: 2 });
      expect(top.PersonGroupInfos).toEqual([{ GroupId: 'cast', PersonExDescriptions: ['neuro'] }]);
      expect(top.Score).toBeGreaterThan(s.Results[0].Candidates[1].Score);
      const p = await c.SearchPersons({ GroupIds: ['cast'], Image: img('raj', 'raj2.png') });
      expect(p.PersonNum).toBe(3);
      expect(p.Results[0].Candidates[0].PersonId).toBe('raj');
      const byGroup = await c.SearchFacesReturnsByGroup({ GroupIds: ['cast'], Image: img('penny', 'penny2.png'), MaxPersonNumPerGroup: 2 });
      expect(byGroup.ResultsReturnsByGroup[0].GroupCandidates[0]).toMatchObject({ GroupId: 'cast' });
      expect(byGroup.ResultsReturnsByGroup[0].GroupCandidates[0].Candidates[0].PersonId).toBe('penny');
      const th = await c.SearchFaces({ GroupIds: ['cast'], Image: img('sheldon', 'sheldon1.png'), FaceMatchThreshold: 60 });
      expect(th.Results[0].Candidates).toEqual([]);
    });

    it('takes Url inputs for enrolment, faces, search and verification', async () => {
      await c.CreatePerson({ GroupId: 'other', PersonId: 'url-howard', PersonName: 'Howard', Url: `${filesUrl}/howard/howard1.png` });
      const f = await c.CreateFace({ PersonId: 'url-howard', Urls: [`${filesUrl}/howard/howard2.png`, `${filesUrl}/howard/missing.png`] });
      expect(f.RetCode).toEqual([0, -1102]);
      const s = await c.SearchFaces({ GroupIds: ['other'], Url: `${filesUrl}/howard/howard3.png` });
      expect(s.Results[0].Candidates[0].PersonId).toBe('url-howard');
      expect((await c.VerifyPerson({ PersonId: 'url-howard', Url: `${filesUrl}/howard/howard4.png` })).IsMatch).toBe(true);
      // Not allow-listed: refused before any download.
      expect(await errorCode(c.SearchFaces({ GroupIds: ['other'], Url: 'http://127.0.0.2/x.png' }))).toBe('FailedOperation.ImageDownloadError');
      await c.DeletePerson({ PersonId: 'url-howard' });
    });

    it('adds and deletes faces with Tencent RetCodes and limits', async () => {
      const r = await c.CreateFace({ PersonId: 'amy', Images: [img('amy', 'amy2.png'), 'bm90IGFuIGltYWdl', img('raj', 'raj3.png')] });
      expect(r.RetCode).toEqual([0, -1102, -1604]);
      expect(r.SucIndexes).toEqual([0]);
      expect(r.SucFaceNum).toBe(1);
      expect((await c.GetPersonBaseInfo({ PersonId: 'amy' })).FaceIds).toHaveLength(2);
      expect(await errorCode(c.CreateFace({ PersonId: 'amy', Images: Array(5).fill(img('amy', 'amy4.png')) }))).toBe('InvalidParameterValue.UploadFaceNumExceed');
      expect(await errorCode(c.CreateFace({ PersonId: 'nobody', Images: [img('amy', 'amy4.png')] }))).toBe('InvalidParameterValue.PersonIdNotExist');
      const more = await c.CreateFace({ PersonId: 'amy', Images: [img('amy', 'amy4.png'), img('amy', 'amy5.png'), img('amy', 'amy3.png')] });
      expect(more.SucFaceNum).toBe(3);
      expect(await errorCode(c.CreateFace({ PersonId: 'amy', Images: [img('amy', 'amy1.png')] }))).toBe('InvalidParameterValue.PersonFaceNumExceed');
      const ids: string[] = (await c.GetPersonBaseInfo({ PersonId: 'amy' })).FaceIds;
      expect(ids).toHaveLength(5);
      expect(await errorCode(c.DeleteFace({ PersonId: 'amy', FaceIds: ids }))).toBe('InvalidParameterValue.DeleteFaceNumExceed');
      const del = await c.DeleteFace({ PersonId: 'amy', FaceIds: [ids[0], 'not-a-face'] });
      expect(del).toMatchObject({ SucDeletedNum: 1, SucFaceIds: [ids[0]] });
      // The deleted face is never returned again.
      for (let i = 0; i < 3; i++) {
        const s = await c.SearchFaces({ GroupIds: ['cast'], Image: img('amy', 'amy1.png'), MaxPersonNum: 5 });
        expect(s.Results[0].Candidates.map((x: any) => x.FaceId)).not.toContain(ids[0]);
        expect(s.Results[0].Candidates[0].PersonId).toBe('amy');
      }
    });

    it('verifies against one person (VerifyFace max over faces, VerifyPerson combined)', async () => {
      const v = await c.VerifyFace({ PersonId: 'raj', Image: img('raj', 'raj4.png') });
      expect(v.IsMatch).toBe(true);
      expect(v.Score).toBeGreaterThanOrEqual(60);
      const no = await c.VerifyFace({ PersonId: 'raj', Image: img('penny', 'penny3.png') });
      expect(no.IsMatch).toBe(false);
      const vp = await c.VerifyPerson({ PersonId: 'amy', Image: img('amy', 'amy2.png') });
      expect(vp.IsMatch).toBe(true);
      expect((await c.VerifyPerson({ PersonId: 'amy', Image: img('raj', 'raj2.png') })).IsMatch).toBe(false);
      expect(await errorCode(c.VerifyFace({ PersonId: 'nobody', Image: img('raj', 'raj4.png') }))).toBe('InvalidParameterValue.PersonIdNotExist');
    });

    it('manages persons across groups and refuses bad input', async () => {
      expect(await errorCode(c.CreatePerson({ GroupId: 'cast', PersonId: 'amy', PersonName: 'Amy', Image: img('amy', 'amy1.png') }))).toBe('InvalidParameterValue.PersonIdAlreadyExist');
      expect(await errorCode(c.CreatePerson({ GroupId: 'nope', PersonId: 'x1', PersonName: 'X', Image: img('amy', 'amy1.png') }))).toBe('InvalidParameterValue.GroupIdNotExist');
      expect(await errorCode(c.CreatePerson({ GroupId: 'cast', PersonId: 'x1', PersonName: 'X', Image: tdBase64('faces', 'edge', 'white.png') }))).toBe('InvalidParameterValue.NoFaceInPhoto');
      expect(await errorCode(c.CreatePerson({ GroupId: 'cast', PersonId: 'x1', PersonName: 'X', Gender: 3, Image: img('amy', 'amy1.png') }))).toBe('InvalidParameterValue.PersonGenderIllegal');
      expect(await errorCode(c.CreatePerson({ GroupId: 'cast', PersonId: 'x1', PersonName: 'X', UniquePersonControl: 5, Image: img('amy', 'amy1.png') }))).toBe('InvalidParameterValue.UniquePersonControlIllegal');
      expect(await errorCode(c.SearchFaces({ GroupIds: Array.from({ length: 101 }, (_, i) => `g${i}`), Image: img('amy', 'amy1.png') }))).toBe('InvalidParameterValue.GroupIdsExceed');
      expect(await errorCode(c.SearchFaces({ GroupIds: ['other'], Image: img('amy', 'amy1.png') }))).toBe('InvalidParameterValue.NoFaceInGroups');
      expect(await errorCode(c.SearchFaces({ GroupIds: ['cast'], Image: img('amy', 'amy1.png'), FaceMatchThreshold: 101 }))).toBe('InvalidParameterValue.FaceMatchThresholdIllegal');
      // A duplicate of an enrolled person is reported, not created.
      const dup = await c.CreatePerson({ GroupId: 'cast', PersonId: 'amy-again', PersonName: 'Amy', UniquePersonControl: 1, Image: img('amy', 'amy5.png') });
      expect(dup.SimilarPersonId).toBe('amy');
      expect(await errorCode(c.GetPersonBaseInfo({ PersonId: 'amy-again' }))).toBe('InvalidParameterValue.PersonIdNotExist');

      expect(await c.CopyPerson({ PersonId: 'raj', GroupIds: ['other'] })).toMatchObject({ SucGroupNum: 1, SucGroupIds: ['other'] });
      expect(await errorCode(c.CopyPerson({ PersonId: 'raj', GroupIds: ['other'] }))).toBe('InvalidParameterValue.PersonExistInGroup');
      const gi = await c.GetPersonGroupInfo({ PersonId: 'raj' });
      expect(gi.GroupNum).toBe(2);
      expect(gi.PersonGroupInfos.map((x: any) => x.GroupId).sort()).toEqual(['cast', 'other']);
      expect((await c.SearchFaces({ GroupIds: ['other'], Image: img('raj', 'raj5.png') })).Results[0].Candidates[0].PersonId).toBe('raj');
      await c.ModifyPersonBaseInfo({ PersonId: 'raj', PersonName: 'Rajesh' });
      await c.ModifyPersonGroupInfo({ GroupId: 'cast', PersonId: 'raj', PersonExDescriptionInfos: [{ PersonExDescriptionIndex: 0, PersonExDescription: 'astro' }] });
      const list = await c.GetPersonList({ GroupId: 'cast' });
      expect(list.PersonNum).toBe(3);
      expect(list.PersonInfos.find((x: any) => x.PersonId === 'raj')).toMatchObject({ PersonName: 'Rajesh', PersonExDescriptions: ['astro'] });
      // Leaving one group keeps the person; leaving the last deletes it.
      await c.DeletePersonFromGroup({ PersonId: 'raj', GroupId: 'cast' });
      expect((await c.SearchFaces({ GroupIds: ['cast'], Image: img('raj', 'raj5.png'), MaxPersonNum: 10 })).Results[0].Candidates.map((x: any) => x.PersonId)).not.toContain('raj');
      expect((await c.GetPersonBaseInfo({ PersonId: 'raj' })).PersonName).toBe('Rajesh');
      expect(await errorCode(c.DeletePersonFromGroup({ PersonId: 'raj', GroupId: 'cast' }))).toBe('FailedOperation.GroupPersonMapNotExist');
      await c.DeletePersonFromGroup({ PersonId: 'raj', GroupId: 'other' });
      expect(await errorCode(c.GetPersonBaseInfo({ PersonId: 'raj' }))).toBe('InvalidParameterValue.PersonIdNotExist');
    });

    it('keeps AppIds apart for persons and search', async () => {
      const other = await t.run.app.accounts.createAccount('other-p');
      const c2 = t.iai(other);
      expect(await errorCode(c2.GetPersonBaseInfo({ PersonId: 'amy' }))).toBe('InvalidParameterValue.PersonIdNotExist');
      expect(await errorCode(c2.DeletePerson({ PersonId: 'amy' }))).toBe('InvalidParameterValue.PersonIdNotExist');
      expect(await errorCode(c2.VerifyFace({ PersonId: 'amy', Image: img('amy', 'amy2.png') }))).toBe('InvalidParameterValue.PersonIdNotExist');
      expect(await errorCode(c2.SearchFaces({ GroupIds: ['cast'], Image: img('amy', 'amy2.png') }))).toBe('InvalidParameterValue.GroupIdNotExist');
      expect(await errorCode(c2.CreateFace({ PersonId: 'amy', Images: [img('amy', 'amy2.png')] }))).toBe('InvalidParameterValue.PersonIdNotExist');
      expect((await c.GetPersonBaseInfo({ PersonId: 'amy' })).PersonName).toBe('Amy');
    });

    it('deletes persons and groups so that search never returns them again', async () => {
      await c.DeletePerson({ PersonId: 'penny' });
      const s = await c.SearchFaces({ GroupIds: ['cast'], Image: img('penny', 'penny1.png'), MaxPersonNum: 10 });
      expect(s.Results[0].Candidates.map((x: any) => x.PersonId)).not.toContain('penny');
      await c.DeleteGroup({ GroupId: 'cast' });
      expect(await errorCode(c.SearchFaces({ GroupIds: ['cast'], Image: img('amy', 'amy1.png') }))).toBe('InvalidParameterValue.GroupIdNotExist');
      expect(await errorCode(c.GetPersonBaseInfo({ PersonId: 'amy' }))).toBe('InvalidParameterValue.PersonIdNotExist');
    });
  });
}
