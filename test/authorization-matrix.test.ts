// Issue 9: every action x {root, *, iai:*, facefusion:*, named actions, none}, against a table
// written here (not imported from src, so a change of ownership in the code fails it). Each call
// sends empty parameters: an allowed call fails later (MissingParameter, UnsupportedOperation…)
// or succeeds without side effects; a denied one is AuthFailure.UnauthorizedOperation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, type TestServer } from './helpers/server.ts';
import { ACTIONS } from '../src/api/actions/table.ts';

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
/** Privacy, usage, keys and audit administration: owned by facevault under every version header. */
const ADMIN = [
  'CreateDeletionRequest', 'DescribeDeletionRequests', 'DescribePrivacyPolicy', 'DescribeRetentionPolicy', 'DescribeUsage', 'SetPrivacyPolicy',
  'DescribeUsageLatency', 'DescribeSubUsers', 'CreateSubUserKey', 'SetSubUserPolicy', 'DisableKey', 'EnableKey', 'DescribeAuditLog',
];

type Principal = 'root' | 'star' | 'iaiStar' | 'fusionStar' | 'named' | 'none';
const POLICIES: Record<Exclude<Principal, 'root'>, string[]> = {
  star: ['*'],
  iaiStar: ['iai:*'],
  fusionStar: ['facefusion:*'],
  named: ['iai:DetectFace', 'facefusion:FuseFace', 'facevault:DescribeUsage'],
  none: [],
};
/** The table: may `who` call `action` sent under `service`'s version? */
function expected(who: Principal, service: 'iai' | 'facefusion' | 'vclm', action: string): boolean {
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
  });

  for (const service of ['iai', 'facefusion', 'vclm'] as const) {
    it(`${service}: every action x every principal matches the table`, async () => {
      const actions = [...{ iai: IAI, facefusion: FACEFUSION, vclm: VCLM }[service], ...ADMIN];
      const mismatches: string[] = [];
      let allowed = 0, denied = 0;
      for (const who of Object.keys(keys) as Principal[]) {
        const client = t.common(service, keys[who]);
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
