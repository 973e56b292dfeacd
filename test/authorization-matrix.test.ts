// Issue 9: every action x {root, *, iai:*, facefusion:*, named actions, none}, against a table
// written here (not imported from src, so a change of ownership in the code fails it). Each call
// sends empty parameters: an allowed call fails later (MissingParameter, UnsupportedOperation…)
// or succeeds without side effects; a denied one is AuthFailure.UnauthorizedOperation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, type TestServer } from './helpers/server.ts';
import { createRequire } from 'node:module';
import { ACTIONS, VERSION_ACTIONS } from '../src/api/actions/table.ts';

const { CommonClient } = createRequire(import.meta.url)('tencentcloud-sdk-nodejs/tencentcloud/common/common_client');


const IAI = [
  'AnalyzeDenseLandmarks', 'AnalyzeFace', 'CompareFace', 'CompareMaskFace', 'CopyPerson', 'CreateFace', 'CreateGroup',
  'CreatePerson', 'DeleteFace', 'DeleteGroup', 'DeletePerson', 'DeletePersonFromGroup', 'DetectFace', 'DetectFaceAttributes',
  'DetectFaceSimilarity', 'DetectLiveFace', 'DetectLiveFaceAccurate', 'GetGroupInfo', 'GetGroupList', 'GetPersonBaseInfo', 'GetPersonGroupInfo',
  'GetPersonList', 'GetPersonListNum', 'GetUpgradeGroupFaceModelVersionJobList', 'GetUpgradeGroupFaceModelVersionResult',
  'ModifyGroup', 'ModifyPersonBaseInfo', 'ModifyPersonGroupInfo', 'RevertGroupFaceModelVersion', 'SearchFaces',
  'SearchFacesReturnsByGroup', 'SearchPersons', 'SearchPersonsReturnsByGroup', 'UpgradeGroupFaceModelVersion', 'VerifyFace', 'VerifyPerson',
];
const FACEFUSION = [
  'CreateActivity', 'CreateMaterial', 'DeleteActivity', 'DeleteMaterial', 'DescribeActivities', 'DescribeMaterialImage', 'DescribeMaterialList', 'FuseFace',
  'FuseFaceUltra', 'ModifyActivity', 'QueryVideoFaceFusionJob', 'SubmitVideoFaceFusionJob',
];
const VCLM = ['DescribeVideoFaceFusionJob', 'SubmitVideoFaceFusionJob'];
/** The older versions' own action sets (their SDK clients'); the same owners as the current ones. */
const IAI_2018 = IAI.filter((a) => !['CompareMaskFace', 'DetectFaceSimilarity', 'DetectLiveFace', 'DetectLiveFaceAccurate'].includes(a));
const FACEFUSION_2018 = ['DescribeMaterialList', 'FaceFusion', 'FuseFace'];
const STS = ['AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetCallerIdentity', 'GetFederationToken', 'GetSessionToken', 'QueryApiKey'];
/** Privacy, usage, keys and audit administration: owned by facevault under every version header. */
const ADMIN = [
  'CreateDeletionRequest', 'DescribeDeletionRequests', 'DescribePrivacyPolicy', 'DescribeRetentionPolicy', 'DescribeUsage', 'SetPrivacyPolicy',
  'DescribeUsageLatency', 'DescribeSubUsers', 'CreateSubUserKey', 'SetSubUserPolicy', 'DisableKey', 'EnableKey', 'DescribeAuditLog',
];


/** [service, version, its actions]: every version served, the older ones included. */
const SURFACES = [
  ['iai', '2020-03-03', IAI], ['facefusion', '2022-09-27', FACEFUSION], ['vclm', '2024-05-23', VCLM],
  ['iai', '2018-03-01', IAI_2018], ['facefusion', '2018-12-01', FACEFUSION_2018], ['sts', '2018-08-13', STS],
] as const;

type Principal = 'root' | 'star' | 'iaiStar' | 'fusionStar' | 'named' | 'none';
const POLICIES: Record<Exclude<Principal, 'root'>, string[]> = {
  star: ['*'],
  iaiStar: ['iai:*'],
  fusionStar: ['facefusion:*'],
  named: ['iai:DetectFace', 'facefusion:FuseFace', 'facevault:DescribeUsage'],
  none: [],
};
/** The table: may `who` call `action` sent under `service`'s version? */
function expected(who: Principal, service: 'iai' | 'facefusion' | 'vclm' | 'sts', action: string): boolean {
  const admin = ADMIN.includes(action);
  switch (who) {
    case 'root': return true;
    case 'star': return !admin; // `*` was granted for the APIs, not for erasing people or changing policy
    case 'iaiStar': return !admin && service === 'iai';
    case 'fusionStar': return !admin && service === 'facefusion';
    case 'named': return admin ? action === 'DescribeUsage' : (service === 'iai' && action === 'DetectFace') || (service === 'facefusion' && action === 'FuseFace');
    case 'none': return false;
  }
}

describe('authorisation matrix', () => {
  let t: TestServer;
  const keys = {} as Record<Principal, { SecretId: string; SecretKey: string }>;

  beforeAll(async () => {
    t = await startTestServer();
    keys.root = t.creds;
    for (const [who, policy] of Object.entries(POLICIES)) keys[who as Principal] = await t.run.app.accounts.createKey(t.creds.AppId, { subUser: `u-${who}`, policy });
  }, 120_000);
  afterAll(() => t?.stop());

  it('the table lists exactly the actions the server knows', () => {
    expect([...ACTIONS.iai].sort()).toEqual([...IAI, ...ADMIN].sort());
    expect([...ACTIONS.facefusion].sort()).toEqual([...FACEFUSION, ...ADMIN].sort());
    expect([...ACTIONS.vclm].sort()).toEqual([...VCLM, ...ADMIN].sort());
    expect([...VERSION_ACTIONS['2018-03-01']].sort()).toEqual([...IAI_2018, ...ADMIN].sort());
    expect([...VERSION_ACTIONS['2018-12-01']].sort()).toEqual([...FACEFUSION_2018, ...ADMIN].sort());
    expect([...ACTIONS.sts].sort()).toEqual([...STS].sort()); // no admin extensions under sts
  });

  for (const [service, version, list] of SURFACES) {
    it(`${service} ${version}: every action x every principal matches the table`, async () => {
      const actions = [...list, ...(service === 'sts' ? [] : ADMIN)];
      const mismatches: string[] = [];
      let allowed = 0, denied = 0;
      for (const who of Object.keys(keys) as Principal[]) {
        const client = new CommonClient(t.endpoint, version, { credential: { secretId: keys[who].SecretId, secretKey: keys[who].SecretKey }, region: 'ap-guangzhou', profile: { httpProfile: { endpoint: t.endpoint, protocol: 'http://' } } });
        for (const action of actions) {
          const code = await errorCode(client.request(action, {}));
          const got = code !== 'AuthFailure.UnauthorizedOperation';
          if (got !== expected(who, service, action)) mismatches.push(`${who} ${service}:${action} -> ${code}`);
          if (got) allowed++; else denied++;
          // An allowed call with no parameters must still be refused cleanly or do nothing harmful.
          expect(code, `${who} ${service}:${action}`).not.toBe('InternalError');
        }
      }
      expect(mismatches).toEqual([]);
      expect(allowed).toBeGreaterThan(0);
      expect(denied).toBeGreaterThan(0);
    }, 120_000);
  }
});
