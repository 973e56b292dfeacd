// A body nested 200k deep (issue 9, item 7): JSON.parse copes, but the error-log redactor used to
// recurse once per level and overflow the stack, so the caller got InternalError and the error
// record was lost. Now the call fails cleanly as InvalidParameter and its record is written,
// with the deep part replaced by a marker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { tc3Authorization } from '../src/api/protocol/tc3-signature.ts';
import { MAX_REDACT_DEPTH, redactParams } from '../src/services/logs/redact.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.stop(); });

async function call(action: string, body: string) {
  const ts = Math.floor(Date.now() / 1000);
  const authorization = tc3Authorization(t.creds.SecretId, { secretKey: t.creds.SecretKey, service: 'iai', timestamp: ts, contentType: 'application/json', host: t.endpoint.split(':')[0], body });
  const res = await fetch(`${t.url}/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: authorization, 'X-TC-Action': action, 'X-TC-Version': '2020-03-03', 'X-TC-Timestamp': String(ts), 'X-TC-Region': 'ap-guangzhou' },
    body,
  });
  return (await res.json()) as { Response: { Error?: { Code: string; Message: string }; RequestId: string } };
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('deeply nested JSON', () => {
  it('the redactor replaces what lies below its depth cap by a marker, without recursing further', () => {
    let v: unknown = 'leaf';
    for (let i = 0; i < 250_000; i++) v = [v];
    const r = redactParams({ A: v }) as any;
    let x = r.A, levels = 1;
    while (Array.isArray(x)) { x = x[0]; levels++; }
    expect(levels).toBe(MAX_REDACT_DEPTH);
    expect(x).toEqual({ redacted: true, nestedDeeperThan: MAX_REDACT_DEPTH });
    expect(() => JSON.stringify(r)).not.toThrow();
  });

  it('a 200k-deep parameter is a clean InvalidParameter, and its error record is written', async () => {
    const r = await call('GetPersonBaseInfo', `{"PersonId":${deep(200_000)}}`);
    expect(r.Response.Error?.Code).toBe('InvalidParameter');
    expect(r.Response.Error?.Message).toMatch(/PersonId/);
    const rec = t.run.app.errorLog.readAll().find((x) => x.requestId === r.Response.RequestId);
    expect(rec).toMatchObject({ code: 'InvalidParameter', action: 'GetPersonBaseInfo' });
    expect(JSON.stringify(rec)).toContain('nestedDeeperThan');
    // The server still answers.
    expect((await call('GetPersonBaseInfo', '{"PersonId":"nobody-x"}')).Response.Error?.Code).toBe('InvalidParameterValue.PersonIdNotExist');
  });
});
