// The official tencentcloud-sdk-nodejs client against a real server: success and each
// authentication/protocol error it can provoke.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, type TestServer } from './helpers/server.ts';
import { ACTIONS } from '../src/api/actions/table.ts';
import { ManualClock } from '../src/domain/clock.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.stop(); });

describe('official SDK client', () => {
  it('calls an action successfully and gets the Response body with a RequestId', async () => {
    const r = await t.common('iai').request('DescribeRetentionPolicy', {});
    expect(r.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.Region).toBe('ap-guangzhou');
    expect(r.Rules.find((x: any) => x.DataClass === 'fusion_log').RetentionSeconds).toBe(7 * 86400);
  });

  it('unknown SecretId -> AuthFailure.SecretIdNotFound', async () => {
    expect(await errorCode(t.common('iai', { SecretId: 'AKIDdoesnotexist000000000000000000', SecretKey: 'x'.repeat(32) }).request('DescribeRetentionPolicy', {}))).toBe('AuthFailure.SecretIdNotFound');
  });

  it('wrong secret key -> AuthFailure.SignatureFailure', async () => {
    expect(await errorCode(t.common('iai', { SecretId: t.creds.SecretId, SecretKey: 'y'.repeat(32) }).request('DescribeRetentionPolicy', {}))).toBe('AuthFailure.SignatureFailure');
  });

  it('other region -> UnsupportedRegion', async () => {
    expect(await errorCode(t.iai(undefined, 'ap-beijing').DetectFace({ Image: 'x' }))).toBe('UnsupportedRegion');
  });

  it('unknown action -> InvalidAction; unsupported version -> NoSuchVersion', async () => {
    expect(await errorCode(t.common('iai').request('NoSuchThing', {}))).toBe('InvalidAction');
    const { createRequire } = await import('node:module');
    const { CommonClient } = createRequire(import.meta.url)('tencentcloud-sdk-nodejs/tencentcloud/common/common_client');
    const c = new CommonClient(t.endpoint, '2018-01-01', { credential: { secretId: t.creds.SecretId, secretKey: t.creds.SecretKey }, region: 'ap-guangzhou', profile: { httpProfile: { endpoint: t.endpoint, protocol: 'http://' } } });
    expect(await errorCode(c.request('DetectFace', {}))).toBe('NoSuchVersion');
  });

  it('an action in the table that is not implemented -> UnsupportedOperation, not InvalidAction', async () => {
    const implemented = new Set(t.run.app.registry.implemented());
    const pending = [...ACTIONS.vclm, ...ACTIONS.facefusion, ...ACTIONS.iai].find((a) => !implemented.has(`vclm:${a}`) && ACTIONS.vclm.has(a))
      ?? [...ACTIONS.iai].find((a) => !implemented.has(`iai:${a}`));
    expect(pending, 'every action is implemented; this test has nothing left to check').toBeDefined();
    const service = ACTIONS.vclm.has(pending!) && !implemented.has(`vclm:${pending}`) ? 'vclm' : 'iai';
    expect(await errorCode(t.common(service).request(pending!, {}))).toBe('UnsupportedOperation');
  });

  it('sub-user policy: allowed action passes, others -> AuthFailure.UnauthorizedOperation', async () => {
    // Administrative extensions belong to `facevault` under every version header, and only a
    // policy that names them allows them (test/authorization-matrix.test.ts walks them all).
    const sub = await t.run.app.accounts.createKey(t.creds.AppId, { subUser: 'detector', policy: ['iai:DetectFace', 'facevault:DescribeRetentionPolicy'] });
    expect(await errorCode(t.common('iai', sub).request('DescribeRetentionPolicy', {}))).toBe('OK');
    expect(await errorCode(t.common('facefusion', sub).request('DescribeRetentionPolicy', {}))).toBe('OK');
    expect(await errorCode(t.common('iai', sub).request('GetGroupList', {}))).toBe('AuthFailure.UnauthorizedOperation');
    const wild = await t.run.app.accounts.createKey(t.creds.AppId, { subUser: 'iai-all', policy: ['iai:*'] });
    expect(await errorCode(t.common('iai', wild).request('GetGroupList', {}))).toBe('OK');
    expect(await errorCode(t.common('iai', wild).request('DescribeRetentionPolicy', {}))).toBe('AuthFailure.UnauthorizedOperation');
    expect(await errorCode(t.common('facefusion', wild).request('DescribeActivities', {}))).toBe('AuthFailure.UnauthorizedOperation');
  });

  it('a disabled key is refused like an unknown one, and works again when enabled', async () => {
    const k = await t.run.app.accounts.createKey(t.creds.AppId);
    await t.run.app.accounts.setKeyStatus(t.creds.AppId, k.SecretId, 'disabled');
    expect(await errorCode(t.common('iai', k).request('DescribeRetentionPolicy', {}))).toBe('AuthFailure.SecretIdNotFound');
    await t.run.app.accounts.setKeyStatus(t.creds.AppId, k.SecretId, 'active');
    expect(await errorCode(t.common('iai', k).request('DescribeRetentionPolicy', {}))).toBe('OK');
  });
});

describe('official SDK client against a server whose clock is ahead', () => {
  it('timestamp more than 5 minutes off -> AuthFailure.SignatureExpire', async () => {
    const clock = new ManualClock(Date.now() + 6 * 60 * 1000);
    const s = await startTestServer({}, { clock });
    try {
      expect(await errorCode(s.common('iai').request('DescribeRetentionPolicy', {}))).toBe('AuthFailure.SignatureExpire');
      clock.set(Date.now() + 4 * 60 * 1000);
      expect(await errorCode(s.common('iai').request('DescribeRetentionPolicy', {}))).toBe('OK');
    } finally {
      await s.stop();
    }
  });
});
