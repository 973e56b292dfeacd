// The older API versions through their own official SDK clients: every action of iai
// 2018-03-01 (tencentcloud/services/iai/v20180301) and facefusion 2018-12-01 is called at least
// once (the walk is checked against the client's methods), over TC3 POST and, for a few, over
// GET with the v1 signature, as 2018-era apps often send.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, type TestServer } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason, tdBase64 } from './helpers/testdata.ts';

const require = createRequire(import.meta.url);
const { iai } = require('tencentcloud-sdk-nodejs/tencentcloud/services/iai');
const { facefusion } = require('tencentcloud-sdk-nodejs/tencentcloud/services/facefusion');

let t: TestServer;
const OBAMA = () => tdBase64('faces', 'identities', 'obama', 'obama.jpg');
const OBAMA2 = () => tdBase64('faces', 'identities', 'obama', 'obama2.jpg');
const BIDEN = () => tdBase64('faces', 'identities', 'biden', 'biden.jpg');

/** A client whose calls are recorded, so the test can show it walked every method. */
function recorded(Ctor: any, called: Set<string>, profile: Record<string, unknown> = {}, http: Record<string, unknown> = {}) {
  const c = new Ctor({ credential: { secretId: t.creds.SecretId, secretKey: t.creds.SecretKey }, region: 'ap-guangzhou', profile: { ...profile, httpProfile: { endpoint: t.endpoint, protocol: 'http://', reqTimeout: 120, ...http } } });
  return new Proxy(c, { get: (o, k) => (typeof o[k] === 'function' && /^[A-Z]/.test(String(k)) ? (...a: unknown[]) => { called.add(String(k)); return o[k](...a); } : o[k]) });
}
const methods = (Ctor: any) => Object.getOwnPropertyNames(Ctor.prototype).filter((m) => /^[A-Z]/.test(m)).sort();

describe.skipIf(!hasTestdata)(`iai 2018-03-01 and facefusion 2018-12-01 through their SDK clients${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  beforeAll(async () => { t = await startTestServer({ FACEVAULT_FUSION_THREADS: '1' }); }, 120_000);
  afterAll(async () => { await t?.stop(); });

  it('iai 2018-03-01: every action of the client answers with its 2018 response shape', async () => {
    const called = new Set<string>();
    const c = recorded(iai.v20180301.Client, called);
    const d = await c.DetectFace({ Image: OBAMA(), NeedFaceAttributes: 1, NeedQualityDetection: 1 });
    expect(d.FaceInfos[0].FaceAttributesInfo.Age).toBeGreaterThan(0);
    expect((await c.AnalyzeFace({ Image: OBAMA() })).FaceShapeSet[0].FaceProfile).toHaveLength(21);
    expect(await errorCode(c.AnalyzeDenseLandmarks({ Image: OBAMA() }))).not.toBe('InvalidAction');
    expect((await c.DetectFaceAttributes({ Image: OBAMA(), FaceAttributesType: 'Age,Gender' })).FaceDetailInfos).toHaveLength(1);
    const same = await c.CompareFace({ ImageA: OBAMA(), ImageB: OBAMA2() });
    const other = await c.CompareFace({ ImageA: OBAMA(), ImageB: BIDEN() });
    expect(same.Score).toBeGreaterThan(other.Score);
    // 2018's CompareFace has no FaceMatchingStrategy: sending 2020's field is refused as unknown.
    expect(await errorCode(c.CompareFace({ ImageA: OBAMA(), ImageB: BIDEN(), FaceMatchingStrategy: 1 }))).toBe('UnknownParameter');

    await c.CreateGroup({ GroupId: 'g18', GroupName: 'Group 2018', GroupExDescriptions: ['Dept'] });
    await c.CreateGroup({ GroupId: 'g18b', GroupName: 'Group 2018 b' });
    expect((await c.GetGroupInfo({ GroupId: 'g18' })).GroupExDescriptions).toEqual(['Dept']);
    expect((await c.GetGroupList({})).GroupNum).toBe(2);
    await c.ModifyGroup({ GroupId: 'g18', GroupName: 'Group 2018 renamed' });
    const p = await c.CreatePerson({ GroupId: 'g18', PersonId: 'obama', PersonName: 'Obama', Gender: 1, Image: OBAMA(), PersonExDescriptionInfos: [{ PersonExDescriptionIndex: 0, PersonExDescription: 'Gov' }] });
    expect(typeof p.FaceId).toBe('string');
    const f = await c.CreateFace({ PersonId: 'obama', Images: [OBAMA2()] });
    expect(f.SucFaceNum).toBe(1);
    await c.CreatePerson({ GroupId: 'g18', PersonId: 'biden', PersonName: 'Biden', Image: BIDEN() });
    expect((await c.GetPersonBaseInfo({ PersonId: 'obama' })).FaceIds).toHaveLength(2);
    expect((await c.GetPersonGroupInfo({ PersonId: 'obama' })).PersonGroupInfos[0].PersonExDescriptions).toEqual(['Gov']);
    expect((await c.GetPersonList({ GroupId: 'g18' })).PersonInfos).toHaveLength(2);
    expect((await c.GetPersonListNum({ GroupId: 'g18' })).PersonNum).toBe(2);
    await c.ModifyPersonBaseInfo({ PersonId: 'obama', PersonName: 'Barack Obama' });
    await c.ModifyPersonGroupInfo({ GroupId: 'g18', PersonId: 'obama', PersonExDescriptionInfos: [{ PersonExDescriptionIndex: 0, PersonExDescription: 'President' }] });
    expect((await c.CopyPerson({ PersonId: 'obama', GroupIds: ['g18b'] })).SucGroupNum).toBe(1);
    const s = await c.SearchFaces({ GroupIds: ['g18'], Image: OBAMA2() });
    expect(s.Results[0].Candidates[0].PersonId).toBe('obama');
    expect((await c.SearchFacesReturnsByGroup({ GroupIds: ['g18'], Image: OBAMA2() })).ResultsReturnsByGroup[0].GroupCandidates[0].Candidates[0].PersonId).toBe('obama');
    expect((await c.SearchPersons({ GroupIds: ['g18'], Image: OBAMA2() })).Results[0].Candidates[0].PersonId).toBe('obama');
    expect((await c.SearchPersonsReturnsByGroup({ GroupIds: ['g18'], Image: OBAMA2() })).ResultsReturnsByGroup[0].GroupCandidates[0].Candidates[0].PersonId).toBe('obama');
    expect((await c.VerifyFace({ PersonId: 'obama', Image: OBAMA2() })).IsMatch).toBe(true);
    expect((await c.VerifyPerson({ PersonId: 'biden', Image: OBAMA2() })).IsMatch).toBe(false);
    expect(await errorCode(c.UpgradeGroupFaceModelVersion({ GroupId: 'g18', FaceModelVersion: '9.9' }))).toBe('InvalidParameterValue.FaceModelVersionIllegal');
    expect(await errorCode(c.GetUpgradeGroupFaceModelVersionResult({ JobId: 'nope' }))).toBe('FailedOperation.UpgradeJobIdNotExist');
    expect((await c.GetUpgradeGroupFaceModelVersionJobList({})).JobNum).toBe(0);
    expect(await errorCode(c.RevertGroupFaceModelVersion({ JobId: 'nope' }))).toBe('FailedOperation.UpgradeJobIdNotExist');
    expect((await c.DeleteFace({ PersonId: 'obama', FaceIds: [f.SucFaceIds[0]] })).SucDeletedNum).toBe(1);
    await c.DeletePersonFromGroup({ PersonId: 'obama', GroupId: 'g18b' });
    await c.DeletePerson({ PersonId: 'biden' });
    await c.DeleteGroup({ GroupId: 'g18b' });
    // The same calls over GET with the v1 signature (query parameters, flattened lists).
    const v1 = recorded(iai.v20180301.Client, new Set(), { signMethod: 'HmacSHA256' }, { reqMethod: 'GET' });
    expect((await v1.GetPersonList({ GroupId: 'g18', Limit: 10 })).PersonInfos.map((x: any) => x.PersonId)).toEqual(['obama']);
    await v1.CreateGroup({ GroupId: 'g18c', GroupName: 'Group 2018 c', GroupExDescriptions: ['A', 'B'] });
    expect((await v1.CopyPerson({ PersonId: 'obama', GroupIds: ['g18c'] })).SucGroupIds).toEqual(['g18c']);
    expect((await v1.GetGroupInfo({ GroupId: 'g18c' })).GroupExDescriptions).toEqual(['A', 'B']);

    expect([...called].sort()).toEqual(methods(iai.v20180301.Client));
    expect(methods(iai.v20180301.Client)).toHaveLength(32);
  }, 180_000);

  it('facefusion 2018-12-01: FaceFusion, FuseFace and DescribeMaterialList in their 2018 shapes', async () => {
    const ff = t.common('facefusion');
    const activityId = (await ff.request('CreateActivity', { ActivityName: 'old app', Status: 'PUBLISHED', FuseProfileDegree: 60, FuseFaceDegree: 70 })).ActivityId;
    const materialId = (await ff.request('CreateMaterial', { ActivityId: activityId, Image: OBAMA() })).MaterialId;
    const called = new Set<string>();
    const c = recorded(facefusion.v20181201.Client, called);
    const list = await c.DescribeMaterialList({ ActivityId: activityId });
    expect(list.Count).toBe(1);
    expect(list.MaterialInfos[0]).toMatchObject({ MaterialId: materialId, BlendParamPtu: 60, PositionParamPtu: 70, BlendParamYoutu: 60, PositionParamYoutu: 70, Url: '' });
    expect(list.MaterialInfos[0].MaterialFaceList[0].FaceInfo.Width).toBeGreaterThan(30);
    expect(list.MaterialInfos[0]).not.toHaveProperty('MaterialName'); // a 2022 field
    // 2018 types ActivityId as a number: the digits of at_<digits> are taken too.
    expect((await c.DescribeMaterialList({ ActivityId: activityId.slice(3) })).Count).toBe(1);

    const one = await c.FaceFusion({ ProjectId: activityId, ModelId: materialId, RspImgType: 'base64', Image: BIDEN() });
    expect(Buffer.from(one.Image, 'base64').subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(one.ReviewResultSet).toEqual([]);
    expect(await errorCode(c.FaceFusion({ ProjectId: activityId, ModelId: materialId, RspImgType: 'base64', Image: BIDEN(), CelebrityIdentify: 1 }))).toBe('UnsupportedOperation');
    const fused = await c.FuseFace({ ProjectId: activityId, ModelId: materialId, RspImgType: 'url', MergeInfos: [{ Image: BIDEN() }] });
    expect(fused.FusedImage).toMatch(/^http/);
    // 2018's MergeInfo has no TemplateFaceRect.
    expect(await errorCode(c.FuseFace({ ProjectId: activityId, ModelId: materialId, RspImgType: 'url', MergeInfos: [{ Image: BIDEN(), TemplateFaceRect: { X: 0, Y: 0, Width: 50, Height: 50 } }] }))).toBe('UnknownParameter');
    expect([...called].sort()).toEqual(methods(facefusion.v20181201.Client));
  }, 180_000);
});
