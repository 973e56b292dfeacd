// Every way the official Node SDK talks, against a real server: POST and GET, TC3 and the v1
// signature (HmacSHA256, HmacSHA1), temporary credentials minted by its own sts client, and
// https with a certificate made here. Plus what the SDK cannot show: a replayed v1 nonce, a
// forwarded Host from a trusted (and an untrusted) proxy.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, tempDir, type TestServer } from './helpers/server.ts';
import { signV1 } from '../src/api/protocol/v1-signature.ts';

const require = createRequire(import.meta.url);
const { iai } = require('tencentcloud-sdk-nodejs/tencentcloud/services/iai');
const { sts } = require('tencentcloud-sdk-nodejs/tencentcloud/services/sts');
const { facefusion } = require('tencentcloud-sdk-nodejs/tencentcloud/services/facefusion');

let t: TestServer;
beforeAll(async () => { t = await startTestServer({ FACEVAULT_TRUSTED_PROXIES: '127.0.0.1/32' }); });
afterAll(async () => { await t?.stop(); });

type Creds = { SecretId: string; SecretKey: string; Token?: string };
function client(Ctor: any, c: Creds, profile: Record<string, unknown> = {}, http: Record<string, unknown> = {}) {
  return new Ctor({
    credential: { secretId: c.SecretId, secretKey: c.SecretKey, token: c.Token },
    region: 'ap-guangzhou',
    profile: { ...profile, httpProfile: { endpoint: t.endpoint, protocol: 'http://', reqTimeout: 60, ...http } },
  });
}
const iaiClient = (c: Creds = t.creds, profile = {}, http = {}) => client(iai.v20200303.Client, c, profile, http);

const PATHS: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ['POST TC3', {}, {}],
  ['GET TC3', {}, { reqMethod: 'GET' }],
  ['POST HmacSHA256', { signMethod: 'HmacSHA256' }, {}],
  ['GET HmacSHA256', { signMethod: 'HmacSHA256' }, { reqMethod: 'GET' }],
  ['POST HmacSHA1', { signMethod: 'HmacSHA1' }, {}],
  ['GET HmacSHA1', { signMethod: 'HmacSHA1' }, { reqMethod: 'GET' }],
];

describe.each(PATHS)('official SDK, %s', (_name, profile, http) => {
  it('creates a group with nested fields, reads it back, and gets Tencent codes for bad values', async () => {
    const c = iaiClient(t.creds, profile, http);
    const id = `g-${_name.replace(/\W/g, '')}`;
    await c.CreateGroup({ GroupId: id, GroupName: `n ${_name}`, GroupExDescriptions: ['a', 'b'], Tag: 't' });
    const g = await c.GetGroupInfo({ GroupId: id });
    expect(g).toMatchObject({ GroupId: id, GroupName: `n ${_name}`, GroupExDescriptions: ['a', 'b'], Tag: 't' });
    // Numbers arrive as strings in the query/form; the declaration decides they are numbers.
    const list = await c.GetGroupList({ Offset: 0, Limit: 1000 });
    expect(list.GroupInfos.map((x: any) => x.GroupId)).toContain(id);
    expect(await errorCode(c.GetGroupList({ Limit: 5000 }))).toBe('InvalidParameterValue.LimitExceed');
    expect(await errorCode(c.GetGroupInfo({ GroupId: 'nope' }))).toBe('InvalidParameterValue.GroupIdNotExist');
    // A string where the declaration wants a string stays a string, even when it looks like a number.
    const digits = String(1000 + PATHS.findIndex((p) => p[0] === _name));
    await c.CreateGroup({ GroupId: `${id}-123`, GroupName: digits });
    expect((await c.GetGroupInfo({ GroupId: `${id}-123` })).GroupName).toBe(digits);
  });

  it('a wrong secret key -> AuthFailure.SignatureFailure', async () => {
    expect(await errorCode(iaiClient({ SecretId: t.creds.SecretId, SecretKey: 'y'.repeat(32) }, profile, http).GetGroupList({}))).toBe('AuthFailure.SignatureFailure');
  });
});

describe.each(PATHS)('the 2018 clients (iai 2018-03-01, facefusion 2018-12-01), %s', (_name, profile, http) => {
  it('answer under their own version, with its codes', async () => {
    const c = client(iai.v20180301.Client, t.creds, profile, http);
    const id = `old-${_name.replace(/\W/g, '')}`;
    await c.CreateGroup({ GroupId: id, GroupName: `old ${_name}`, GroupExDescriptions: ['x'] });
    expect((await c.GetGroupInfo({ GroupId: id })).GroupExDescriptions).toEqual(['x']);
    expect(await errorCode(c.GetGroupList({ Limit: 5000 }))).toBe('InvalidParameterValue.LimitExceed');
    const ff = client(facefusion.v20181201.Client, t.creds, profile, http);
    expect(await errorCode(ff.DescribeMaterialList({ ActivityId: 12345 }))).toBe('InvalidParameterValue.ActivityIdNotFound');
  });
});

async function raw(method: 'GET' | 'POST', query: string, body?: string, headers: Record<string, string> = {}): Promise<any> {
  const r = await fetch(`${t.url}/${query ? '?' + query : ''}`, { method, body, headers: body ? { 'content-type': 'application/x-www-form-urlencoded', ...headers } : headers });
  return ((await r.json()) as any).Response;
}
const v1Fields = (extra: Record<string, string> = {}) => ({
  Action: 'GetGroupList', Version: '2020-03-03', Region: 'ap-guangzhou', Timestamp: String(Math.floor(Date.now() / 1000)),
  Nonce: String(Math.floor(Math.random() * 1e9)), SecretId: t.creds.SecretId, SignatureMethod: 'HmacSHA256', ...extra,
});

describe('v1 signature rules', () => {
  it('a replayed request (same SecretId, Timestamp, Nonce) is refused; a new nonce passes', async () => {
    const signed = signV1(t.creds.SecretKey, 'POST', t.endpoint, v1Fields());
    const body = new URLSearchParams(signed).toString();
    expect((await raw('POST', '', body)).Error).toBeUndefined();
    const again = await raw('POST', '', body);
    expect(again.Error.Code).toBe('AuthFailure.SignatureFailure');
    expect(again.Error.Message).toMatch(/Nonce .* already used/);
    // The same request over GET is the same replay.
    expect((await raw('GET', new URLSearchParams(signed).toString())).Error?.Code).toBe('AuthFailure.SignatureFailure');
  });

  it('two honest requests that drew the same Nonce in the same second both pass (the Node SDK draws from 0..65535)', async () => {
    const fields = v1Fields();
    const a = signV1(t.creds.SecretKey, 'POST', t.endpoint, fields);
    const b = signV1(t.creds.SecretKey, 'POST', t.endpoint, { ...fields, Limit: '7' });
    expect((await raw('POST', '', new URLSearchParams(a).toString())).Error).toBeUndefined();
    expect((await raw('POST', '', new URLSearchParams(b).toString())).Error).toBeUndefined();
    // Re-signed by the key holder over GET: another request, not a replay.
    const { Signature: _s, ...unsigned } = a;
    expect((await raw('GET', new URLSearchParams(signV1(t.creds.SecretKey, 'GET', t.endpoint, unsigned)).toString())).Error).toBeUndefined();
    // Each of them again is.
    expect((await raw('POST', '', new URLSearchParams(b).toString())).Error?.Code).toBe('AuthFailure.SignatureFailure');
    // The replay cache is keyed on the signature, so a replay must not pass with the signature
    // written another way (its base64 padding dropped): only the exact string verifies.
    const c = signV1(t.creds.SecretKey, 'POST', t.endpoint, v1Fields());
    expect(c.Signature.endsWith('=')).toBe(true);
    expect((await raw('POST', '', new URLSearchParams(c).toString())).Error).toBeUndefined();
    expect((await raw('POST', '', new URLSearchParams({ ...c, Signature: c.Signature.replace(/=+$/, '') }).toString())).Error?.Code).toBe('AuthFailure.SignatureFailure');
  });

  it('an old timestamp -> SignatureExpire; an unknown method -> SignatureFailure; no Nonce -> MissingParameter', async () => {
    const old = signV1(t.creds.SecretKey, 'GET', t.endpoint, v1Fields({ Timestamp: String(Math.floor(Date.now() / 1000) - 400) }));
    expect((await raw('GET', new URLSearchParams(old).toString())).Error.Code).toBe('AuthFailure.SignatureExpire');
    const md5 = signV1(t.creds.SecretKey, 'GET', t.endpoint, v1Fields({ SignatureMethod: 'HmacSHA256' }));
    md5.SignatureMethod = 'HmacMD5';
    expect((await raw('GET', new URLSearchParams(md5).toString())).Error.Code).toBe('AuthFailure.SignatureFailure');
    const f = v1Fields();
    delete (f as any).Nonce;
    expect((await raw('GET', new URLSearchParams(signV1(t.creds.SecretKey, 'GET', t.endpoint, f)).toString())).Error.Code).toBe('MissingParameter');
  });

  it('GET queries up to Tencent\'s 32 KB are read (Node alone stops at 16 KiB); longer ones get the envelope', async () => {
    const q = (n: number) => new URLSearchParams(signV1(t.creds.SecretKey, 'GET', t.endpoint, v1Fields({ Pad: 'a'.repeat(n) }))).toString();
    expect((await raw('GET', q(20_000))).Error.Code).toBe('UnknownParameter'); // authenticated, then Pad is not a parameter
    expect((await raw('GET', q(33_000))).Error.Code).toBe('RequestSizeLimitExceeded');
  });

  it('a v1 form body over 1 MB is refused before it is read', async () => {
    const big = new URLSearchParams({ ...v1Fields(), Signature: 'x', Pad: 'a'.repeat(1024 * 1024) }).toString();
    expect((await raw('POST', '', big)).Error.Code).toBe('RequestSizeLimitExceeded');
  });

  it('a parameter changed after signing -> SignatureFailure', async () => {
    const s = signV1(t.creds.SecretKey, 'GET', t.endpoint, v1Fields({ Limit: '5' }));
    s.Limit = '6';
    expect((await raw('GET', new URLSearchParams(s).toString())).Error.Code).toBe('AuthFailure.SignatureFailure');
  });
});

const stsClient = (c: Creds = t.creds, profile = {}) => client(sts.v20180813.Client, c, profile);
const camPolicy = (allow: string[], deny: string[] = []) => JSON.stringify({
  version: '2.0',
  statement: [{ effect: 'allow', action: allow, resource: '*' }, ...(deny.length ? [{ effect: 'deny', action: deny, resource: '*' }] : [])],
});
async function mint(parent: Creds, allow: string[], deny: string[] = [], duration = 900): Promise<Creds & { expiredTime: number }> {
  const r = await stsClient(parent).GetFederationToken({ Name: 'browser', Policy: encodeURIComponent(camPolicy(allow, deny)), DurationSeconds: duration });
  expect(r.Credentials.Token.length).toBeGreaterThan(32);
  return { SecretId: r.Credentials.TmpSecretId, SecretKey: r.Credentials.TmpSecretKey, Token: r.Credentials.Token, expiredTime: r.ExpiredTime };
}

describe('temporary credentials (sts GetFederationToken, minted by the SDK\'s sts client)', () => {
  it('work with X-TC-Token (POST, GET) and the v1 Token field, within the policy only', async () => {
    const tmp = await mint(t.creds, ['iai:GetGroupList', 'iai:GetGroupInfo']);
    expect(tmp.expiredTime - Math.floor(Date.now() / 1000)).toBeGreaterThan(890);
    for (const [profile, http] of [[{}, {}], [{}, { reqMethod: 'GET' }], [{ signMethod: 'HmacSHA256' }, {}], [{ signMethod: 'HmacSHA1' }, { reqMethod: 'GET' }]] as const) {
      for (const c of [iaiClient(tmp, profile, http), client(iai.v20180301.Client, tmp, profile, http)]) {
        expect(await errorCode(c.GetGroupList({}))).toBe('OK');
        expect(await errorCode(c.CreateGroup({ GroupId: 'tmp-x', GroupName: 'tmp x' }))).toBe('AuthFailure.UnauthorizedOperation');
      }
    }
    // Without the token the temporary SecretId is no key at all; with a wrong one, TokenFailure.
    expect(await errorCode(iaiClient({ SecretId: tmp.SecretId, SecretKey: tmp.SecretKey }).GetGroupList({}))).toBe('AuthFailure.SecretIdNotFound');
    expect(await errorCode(iaiClient({ ...tmp, Token: tmp.Token + 'x' }).GetGroupList({}))).toBe('AuthFailure.TokenFailure');
  });

  it('carry at most the intersection of the parent\'s and the policy\'s permissions; admin extensions need their name', async () => {
    const sub = await t.run.app.accounts.createKey(t.creds.AppId, { subUser: 'minter', policy: ['iai:GetGroupInfo', 'sts:GetFederationToken'] });
    const tmp = await mint(sub, ['iai:*']);
    expect(await errorCode(iaiClient(tmp).GetGroupInfo({ GroupId: 'nope' }))).toBe('InvalidParameterValue.GroupIdNotExist'); // allowed, and ran
    expect(await errorCode(iaiClient(tmp).GetGroupList({}))).toBe('AuthFailure.UnauthorizedOperation'); // the policy allows it, the parent does not
    const root = await mint(t.creds, ['*'], ['iai:GetGroupInfo']);
    expect(await errorCode(iaiClient(root).GetGroupList({}))).toBe('OK');
    expect(await errorCode(iaiClient(root).GetGroupInfo({ GroupId: 'nope' }))).toBe('AuthFailure.UnauthorizedOperation'); // denied
    const common = (c: Creds) => client(require('tencentcloud-sdk-nodejs/tencentcloud/common/common_client').CommonClient.bind(null, t.endpoint, '2020-03-03'), c);
    expect(await errorCode(common(root).request('DescribeRetentionPolicy', {}))).toBe('AuthFailure.UnauthorizedOperation');
    const admin = await mint(t.creds, ['facevault:DescribeRetentionPolicy']);
    expect(await errorCode(common(admin).request('DescribeRetentionPolicy', {}))).toBe('OK');
  });

  it('GetFederationToken: only a root or permitted key, only a permanent one, DurationSeconds 900-7200, enforceable policies', async () => {
    const noSts = await t.run.app.accounts.createKey(t.creds.AppId, { subUser: 'no-sts', policy: ['iai:*'] });
    expect(await errorCode(stsClient(noSts).GetFederationToken({ Name: 'x', Policy: camPolicy(['iai:*']) }))).toBe('AuthFailure.UnauthorizedOperation');
    const tmp = await mint(t.creds, ['*', 'sts:GetFederationToken']);
    expect(await errorCode(stsClient(tmp).GetFederationToken({ Name: 'x', Policy: camPolicy(['iai:*']) }))).toBe('UnauthorizedOperation');
    for (const d of [899, 7201]) expect(await errorCode(stsClient().GetFederationToken({ Name: 'x', Policy: camPolicy(['iai:*']), DurationSeconds: d }))).toBe('InvalidParameterValue');
    const resource = JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: ['iai:*'], resource: 'qcs::iai::uin/1:group/g1' }] });
    expect(await errorCode(stsClient().GetFederationToken({ Name: 'x', Policy: resource }))).toBe('InvalidParameterValue');
    expect(await errorCode(stsClient().GetFederationToken({ Name: 'x', Policy: '{"version":"2.0","statement":[{"effect":"allow","action":["iai:Detect Face"]}]}' }))).toBe('InvalidParameterValue');
  });

  it('are refused once their parent key is disabled, and after they expire; only the token hash is stored', async () => {
    const parent = await t.run.app.accounts.createKey(t.creds.AppId);
    const tmp = await mint(parent, ['iai:GetGroupList']);
    expect(await errorCode(iaiClient(tmp).GetGroupList({}))).toBe('OK');
    await t.run.app.accounts.setKeyStatus(t.creds.AppId, parent.SecretId, 'disabled');
    expect(await errorCode(iaiClient(tmp).GetGroupList({}))).toBe('AuthFailure.TokenFailure');
    await t.run.app.accounts.setKeyStatus(t.creds.AppId, parent.SecretId, 'active');

    const row = await t.run.app.db.kysely.selectFrom('federation_tokens').selectAll().where('tmp_secret_id', '=', tmp.SecretId).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(tmp.Token);
    expect(row.tmp_secret_key_enc.includes(Buffer.from(tmp.SecretKey))).toBe(false);
    // Expiry, on the service with a clock moved past it (the HTTP path would first refuse the skewed timestamp).
    const { FederationTokens } = await import('../src/services/accounts/federation.ts');
    const { FederationRepo } = await import('../src/store/accounts/federation-repo.ts');
    const { AccountsRepo } = await import('../src/store/accounts/accounts-repo.ts');
    const { ManualClock } = await import('../src/domain/clock.ts');
    const clock = new ManualClock();
    const svc = new FederationTokens(new FederationRepo(t.run.app.db), new AccountsRepo(t.run.app.db), t.run.app.keyring, clock);
    await expect(svc.authenticate(tmp.SecretId, tmp.Token!)).resolves.toMatchObject({ caller: { appId: t.creds.AppId } });
    clock.set(tmp.expiredTime * 1000 - 1);
    await expect(svc.authenticate(tmp.SecretId, tmp.Token!)).resolves.toBeTruthy();
    clock.set(tmp.expiredTime * 1000);
    await expect(svc.authenticate(tmp.SecretId, tmp.Token!)).rejects.toMatchObject({ code: 'AuthFailure.TokenFailure', message: expect.stringMatching(/expired/) });
    expect(await svc.sweepExpired()).toBeGreaterThanOrEqual(1);
    await expect(svc.authenticate(tmp.SecretId, tmp.Token!)).rejects.toMatchObject({ code: 'AuthFailure.TokenFailure' });
  });
});

function tc3Post(url: string, signedHost: string, headers: Record<string, string>, ca?: Buffer): Promise<any> {
  return import('../src/api/protocol/tc3-signature.ts').then(({ tc3Authorization }) => new Promise((resolve, reject) => {
    const body = '{}';
    const timestamp = Math.floor(Date.now() / 1000);
    const authorization = tc3Authorization(t.creds.SecretId, { secretKey: t.creds.SecretKey, service: 'iai', timestamp, contentType: 'application/json', host: signedHost, body });
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : require('node:http');
    const req = mod.request({
      host: u.hostname, port: u.port, method: 'POST', path: '/', ca,
      headers: { 'content-type': 'application/json', 'x-tc-action': 'GetGroupList', 'x-tc-version': '2020-03-03', 'x-tc-timestamp': String(timestamp), authorization, ...headers },
    }, (res: any) => {
      let data = '';
      res.on('data', (c: Buffer) => { data += c; });
      res.on('end', () => resolve(JSON.parse(data).Response));
    });
    req.on('error', reject);
    req.end(body);
  }));
}

describe('behind a reverse proxy (FACEVAULT_TRUSTED_PROXIES=127.0.0.1/32)', () => {
  it('a trusted proxy\'s X-Forwarded-Host is the Host the signature is checked against; without it the rewritten Host fails', async () => {
    const ok = await tc3Post(t.url, 'api.example.com', { 'x-forwarded-host': 'api.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' });
    expect(ok.Error).toBeUndefined();
    // ... and the client IP the running log keeps is the forwarded one.
    const logged = await t.run.app.db.kysely.selectFrom('running_log').select('client_ip').where('request_id', '=', ok.RequestId).executeTakeFirstOrThrow();
    expect(logged.client_ip).toBe('203.0.113.9');
    expect((await tc3Post(t.url, 'api.example.com', {})).Error.Code).toBe('AuthFailure.SignatureFailure');
    // A client cannot claim a Host it did not reach: the forwarded value replaces the Host header, never adds to it.
    expect((await tc3Post(t.url, t.endpoint, { 'x-forwarded-host': 'api.example.com' })).Error.Code).toBe('AuthFailure.SignatureFailure');
  });
});

describe('https (FACEVAULT_TLS_CERT/KEY, a certificate made here with openssl)', () => {
  let s: TestServer;
  let ca: Buffer;
  let httpsUrl: string;
  beforeAll(async () => {
    const dir = tempDir('facevault-tls-');
    const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    ca = fs.readFileSync(cert);
    // This server trusts no proxy on loopback: forwarded headers from the test are ignored.
    s = await startTestServer({ FACEVAULT_TLS_CERT: cert, FACEVAULT_TLS_KEY: key, FACEVAULT_TRUSTED_PROXIES: '10.0.0.0/8' });
    httpsUrl = s.url;
  });
  afterAll(async () => { await s?.stop(); });

  it('serves https: the SDK with its default protocol and a CA it trusts calls it (TC3, v1, GET)', async () => {
    expect(httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // The listener limits hold for the https server too (Fastify builds it from its own options).
    expect(s.run.server.server.headersTimeout).toBe(t.run.server.server.headersTimeout);
    expect(s.run.server.server.headersTimeout).toBeLessThanOrEqual(10_000);
    const endpoint = httpsUrl.replace('https://', '');
    const agent = new https.Agent({ ca });
    for (const [profile, http] of [[{}, {}], [{ signMethod: 'HmacSHA256' }, { reqMethod: 'GET' }]] as const) {
      const c = new iai.v20200303.Client({
        credential: { secretId: s.creds.SecretId, secretKey: s.creds.SecretKey }, region: 'ap-guangzhou',
        profile: { ...profile, httpProfile: { endpoint, agent, ...http } }, // protocol left at the SDK's default, https://
      });
      expect(await errorCode(c.GetGroupList({}))).toBe('OK');
      const old = new iai.v20180301.Client({
        credential: { secretId: s.creds.SecretId, secretKey: s.creds.SecretKey }, region: 'ap-guangzhou', profile: { ...profile, httpProfile: { endpoint, agent, ...http } },
      });
      expect(await errorCode(old.GetGroupList({}))).toBe('OK');
    }
    // Without the CA the client refuses the self-signed certificate: it really is TLS.
    const untrusting = new iai.v20200303.Client({ credential: { secretId: s.creds.SecretId, secretKey: s.creds.SecretKey }, region: 'ap-guangzhou', profile: { httpProfile: { endpoint } } });
    expect(await errorCode(untrusting.GetGroupList({}))).toMatch(/self[- ]signed|certificate/i);
  });

  it('X-Forwarded-Host from a peer outside FACEVAULT_TRUSTED_PROXIES is ignored', async () => {
    const r = await new Promise<any>((resolve, reject) => {
      // Signed by this server's own account for a forwarded host it must not believe.
      void (async () => {
        const { tc3Authorization } = await import('../src/api/protocol/tc3-signature.ts');
        const timestamp = Math.floor(Date.now() / 1000);
        const authorization = tc3Authorization(s.creds.SecretId, { secretKey: s.creds.SecretKey, service: 'iai', timestamp, contentType: 'application/json', host: 'api.example.com', body: '{}' });
        const u = new URL(httpsUrl);
        const req = https.request({ host: u.hostname, port: u.port, method: 'POST', path: '/', ca, headers: { 'content-type': 'application/json', 'x-tc-action': 'GetGroupList', 'x-tc-version': '2020-03-03', 'x-tc-timestamp': String(timestamp), authorization, 'x-forwarded-host': 'api.example.com' } }, (res) => {
          let d = '';
          res.on('data', (c) => { d += c; });
          res.on('end', () => resolve(JSON.parse(d).Response));
        });
        req.on('error', reject);
        req.end('{}');
      })().catch(reject);
    });
    expect(r.Error.Code).toBe('AuthFailure.SignatureFailure');
  });
});
