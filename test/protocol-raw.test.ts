// What the SDK cannot send: bad signatures, stale timestamps, malformed bodies, oversize
// bodies, Go/Python-style host signing, UNSIGNED-PAYLOAD; and the envelope's exact shape.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { tc3Authorization } from '../src/api/protocol/tc3-signature.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer({ FACEVAULT_BODY_LIMIT: String(64 * 1024) }); });
afterAll(async () => { await t?.stop(); });

interface RawOpts {
  action?: string; version?: string; body?: string | Buffer; timestamp?: number; secretKey?: string;
  signHost?: string; service?: string; contentType?: string; headers?: Record<string, string>; unsigned?: boolean;
}

async function raw(o: RawOpts = {}) {
  const body = o.body ?? '{}';
  const ts = o.timestamp ?? Math.floor(Date.now() / 1000);
  const contentType = o.contentType ?? 'application/json';
  const host = o.signHost ?? t.endpoint.split(':')[0];
  const authorization = tc3Authorization(t.creds.SecretId, {
    secretKey: o.secretKey ?? t.creds.SecretKey, service: o.service ?? 'iai', timestamp: ts, contentType, host, body, unsignedPayload: o.unsigned,
  });
  const res = await fetch(`${t.url}/`, {
    method: 'POST',
    headers: {
      'Content-Type': contentType, Authorization: authorization, 'X-TC-Action': o.action ?? 'DescribeRetentionPolicy',
      'X-TC-Version': o.version ?? '2020-03-03', 'X-TC-Timestamp': String(ts), 'X-TC-Region': 'ap-guangzhou', ...(o.unsigned ? { 'X-TC-Content-SHA256': 'UNSIGNED-PAYLOAD' } : {}), ...o.headers,
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) as { Response: any } };
}

describe('raw TC3 protocol', () => {
  it('a correctly signed request succeeds; envelope is HTTP 200, exactly application/json, with a uuid RequestId and the echoed trace id', async () => {
    const r = await raw({ headers: { 'X-TC-TraceId': 'trace-123' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('x-tc-traceid')).toBe('trace-123');
    expect(r.json.Response.Error).toBeUndefined();
    expect(r.json.Response.RequestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('accepts the host signed with its port (Go/Python SDKs) and any service name in the scope', async () => {
    expect((await raw({ signHost: t.endpoint, service: '127' })).json.Response.Error).toBeUndefined();
    expect((await raw({ service: 'facefusion', version: '2022-09-27' })).json.Response.Error).toBeUndefined();
  });

  it('accepts UNSIGNED-PAYLOAD', async () => {
    expect((await raw({ unsigned: true, action: 'DescribeDeletionRequests', body: '{"Limit":1}' })).json.Response.Error).toBeUndefined();
  });

  it('bad signature -> AuthFailure.SignatureFailure, with an error RequestId', async () => {
    const r = await raw({ secretKey: 'wrong-key-wrong-key-wrong' });
    expect(r.status).toBe(200);
    expect(r.json.Response.Error.Code).toBe('AuthFailure.SignatureFailure');
    expect(r.json.Response.RequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a body changed after signing -> AuthFailure.SignatureFailure', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const authorization = tc3Authorization(t.creds.SecretId, { secretKey: t.creds.SecretKey, service: 'iai', timestamp: ts, contentType: 'application/json', host: '127.0.0.1', body: '{"Limit":1}' });
    const res = await fetch(`${t.url}/`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: authorization, 'X-TC-Action': 'DescribeRetentionPolicy', 'X-TC-Version': '2020-03-03', 'X-TC-Timestamp': String(ts) }, body: '{"Limit":2}' });
    expect((await res.json() as any).Response.Error.Code).toBe('AuthFailure.SignatureFailure');
  });

  it('stale or future timestamp -> AuthFailure.SignatureExpire (5 minute window)', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await raw({ timestamp: now - 301 })).json.Response.Error.Code).toBe('AuthFailure.SignatureExpire');
    expect((await raw({ timestamp: now + 400 })).json.Response.Error.Code).toBe('AuthFailure.SignatureExpire');
    expect((await raw({ timestamp: now - 200 })).json.Response.Error).toBeUndefined();
  });

  it('missing or malformed Authorization -> AuthFailure.InvalidAuthorization', async () => {
    const r = await fetch(`${t.url}/`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-TC-Action': 'DescribeRetentionPolicy', 'X-TC-Version': '2020-03-03', 'X-TC-Timestamp': String(Math.floor(Date.now() / 1000)), Authorization: 'SKIP' }, body: '{}' });
    expect((await r.json() as any).Response.Error.Code).toBe('AuthFailure.InvalidAuthorization');
  });

  it('malformed JSON with a valid signature -> InvalidParameter; a JSON array -> InvalidParameter', async () => {
    const r = await raw({ body: '{"Image": ' });
    expect(r.json.Response.Error.Code).toBe('InvalidParameter');
    expect(r.json.Response.Error.Message).toMatch(/JSON/);
    expect((await raw({ body: '[1,2]' })).json.Response.Error.Code).toBe('InvalidParameter');
  });

  it('a body over the limit -> RequestSizeLimitExceeded envelope, and the server keeps serving', async () => {
    const big = JSON.stringify({ Image: 'A'.repeat(100 * 1024) });
    const r = await raw({ body: big });
    expect(r.status).toBe(200);
    expect(r.json.Response.Error.Code).toBe('RequestSizeLimitExceeded');
    expect((await raw()).json.Response.Error).toBeUndefined();
  });

  it('missing X-TC-Action / X-TC-Version -> MissingParameter naming the header', async () => {
    const r = await raw({ action: '' });
    expect(r.json.Response.Error.Code).toBe('MissingParameter');
    expect(r.json.Response.Error.Message).toMatch(/X-TC-Action/);
  });

  it('health and readiness', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const r = await fetch(`${t.url}/readyz`);
    expect(r.status).toBe(200);
    expect((await r.json() as any).checks).toMatchObject({ database: 'ok', objectStore: 'ok' });
  });
});

describe('request records', () => {
  it('every authenticated call writes a running-log record; its failures also write a redacted error-log record', async () => {
    const image = 'B'.repeat(40_000);
    const failed = await raw({ action: 'DetectFace', body: JSON.stringify({ Image: image, MaxFaceNum: 1, MinFaceSize: 'big' }) });
    expect(failed.json.Response.Error.Code).toMatch(/^InvalidParameter/);
    const ok = await raw();
    const okRow = await t.run.app.runningLog.byRequestId(ok.json.Response.RequestId);
    expect(okRow).toMatchObject({ app_id: t.creds.AppId, uin: t.creds.Uin, sub_uin: t.creds.SubUin, action: 'DescribeRetentionPolicy', code: '', client_ip: '127.0.0.1', region: 'ap-guangzhou' });
    expect(typeof okRow!.latency_ms).toBe('number');
    const badRow = await t.run.app.runningLog.byRequestId(failed.json.Response.RequestId);
    expect(badRow).toMatchObject({ app_id: t.creds.AppId, action: 'DetectFace', code: failed.json.Response.Error.Code, billed: 0 });

    const records = t.run.app.errorLog.readAll();
    const rec = records.find((r) => r.requestId === failed.json.Response.RequestId)!;
    expect(rec).toMatchObject({ appId: t.creds.AppId, action: 'DetectFace', clientIp: '127.0.0.1', params: { MaxFaceNum: 1, Image: { redacted: true, bytes: 40_000 } } });
    expect((rec.params as any).Image.sha256).toBe(crypto.createHash('sha256').update(image).digest('hex'));
    expect(JSON.stringify(records)).not.toContain('BBBBBBBBBB');
  });

  it('a request whose signature fails leaves no running-log row and a small error record without its body', async () => {
    const image = 'D'.repeat(40_000);
    const failed = await raw({ action: 'DetectFace', body: JSON.stringify({ Image: image, MaxFaceNum: 1 }), secretKey: 'bad-bad-bad-bad-bad-bad' });
    expect(failed.json.Response.Error.Code).toBe('AuthFailure.SignatureFailure');
    expect(await t.run.app.runningLog.byRequestId(failed.json.Response.RequestId)).toBeUndefined();
    const rec = t.run.app.errorLog.readAll().find((r) => r.requestId === failed.json.Response.RequestId)!;
    // The SecretId is this deployment's, so the record names it and its AppId (erasure finds it).
    expect(rec).toMatchObject({ code: 'AuthFailure.SignatureFailure', stage: 'authentication', action: 'DetectFace', clientIp: '127.0.0.1', appId: t.creds.AppId, secretId: t.creds.SecretId });
    expect(rec.params).toBeUndefined();
    expect(JSON.stringify(rec).length).toBeLessThan(700);
  });

  it('the redactor replaces every image payload, nested too, and keeps ids', async () => {
    const { redactParams } = await import('../src/services/logs/redact.ts');
    const r = redactParams({ Image: 'C'.repeat(2000), Urls: ['http://x/y.jpg?X-Amz-Signature=abc'], MergeInfos: [{ Image: 'abc' }], PersonId: 'p1' }) as any;
    expect(r.Image).toMatchObject({ redacted: true, bytes: 2000 });
    expect(r.Image.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.MergeInfos[0].Image.redacted).toBe(true);
    expect(r.PersonId).toBe('p1');
    // A URL keeps only where it points (its path and query may carry personal data or a signature).
    expect(r.Urls).toEqual([{ redacted: true, bytes: 34, origin: 'http://x' }]);
  });
});
