// Attacks by clients that cannot authenticate: they must not be able to write to storage
// (running log, error log, upload spool) beyond a small bound, nor make the server read a
// large body. A known account's failed calls are still logged, redacted by field.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from './helpers/server.ts';
import { tc3Authorization, utcDate } from '../src/api/protocol/tc3-signature.ts';
import { AUTH_FAILURE_LIMITS, AuthFailureLog } from '../src/api/protocol/auth-failure-log.ts';
import { redactParams } from '../src/services/logs/redact.ts';
import { ManualClock } from '../src/domain/clock.ts';

let t: TestServer;
const clock = new ManualClock();
beforeAll(async () => { t = await startTestServer({}, { clock }); });
afterAll(async () => { await t?.stop(); });

const now = () => Math.floor(clock.now() / 1000);
const errorDir = () => path.join(t.dataDir, 'logs', 'error');
const errorLogBytes = () => (fs.existsSync(errorDir()) ? fs.readdirSync(errorDir()).reduce((a, f) => a + fs.statSync(path.join(errorDir(), f)).size, 0) : 0);
const errorLogText = () => fs.readdirSync(errorDir()).map((f) => fs.readFileSync(path.join(errorDir(), f), 'utf8')).join('');
const runningLogRows = async () => Number((await t.run.app.db.kysely.selectFrom('running_log').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
const spoolDir = () => path.join(t.dataDir, 'tmp', 'uploads');
const spoolFiles = () => (fs.existsSync(spoolDir()) ? fs.readdirSync(spoolDir()) : []);

const fakeAuth = (secretId: string, ts: number) => `TC3-HMAC-SHA256 Credential=${secretId}/${utcDate(ts)}/iai/tc3_request, SignedHeaders=content-type;host, Signature=${'ab'.repeat(32)}`;

/** ~100 KB of short strings: what the old error log kept verbatim. */
const paddedBody = (marker: string) => JSON.stringify({ PersonName: marker, Pad: Array.from({ length: 100 }, (_, i) => `${marker} ${i} `.padEnd(1000, '-')) });

async function post(headers: Record<string, string>, body: string) {
  const res = await fetch(`${t.url}/`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-TC-Version': '2020-03-03', 'X-TC-Action': 'DetectFace', ...headers }, body });
  return ((await res.json()) as { Response: { Error?: { Code: string }; RequestId: string } }).Response;
}

/**
 * Streams `total` bytes (declared up front) and stops at the server's answer or close.
 * `sent` is what was handed to the socket by then: far less than `total` means the server did not read it all.
 */
function streamUpload(headers: Record<string, string>, total: number): Promise<{ sent: number; reply: string | null; error: string | null }> {
  return new Promise((resolve) => {
    const req = http.request(`${t.url}/`, { method: 'POST', agent: false, headers: { ...headers, 'content-length': String(total) } });
    let sent = 0;
    let done = false;
    let reply: string | null = null;
    let error: string | null = null;
    const finish = () => {
      if (done) return;
      done = true;
      resolve({ sent, reply, error });
      req.destroy();
    };
    req.on('response', (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => { reply = b; finish(); });
      res.on('error', (e) => { error = e.message; finish(); });
    });
    req.on('error', (e) => { error = e.message; finish(); });
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    const pump = () => {
      while (!done && sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { req.once('drain', pump); return; }
      }
      if (!done) req.end();
    };
    pump();
    setTimeout(() => { error ??= 'timed out'; finish(); }, 20_000);
  });
}

describe('unauthenticated traffic', () => {
  it('a flood of forged requests with large bodies adds no running-log row and at most a burst of small error records', async () => {
    const rowsBefore = await runningLogRows();
    const bytesBefore = errorLogBytes();
    const recordsBefore = t.run.app.errorLog.readAll().length;
    const ts = now();
    const kinds: (() => Promise<{ Error?: { Code: string } }>)[] = [
      () => post({ Authorization: fakeAuth('AKIDnobody0000000000000000000000000', ts), 'X-TC-Timestamp': String(ts) }, paddedBody('flood-unknown-id')),
      () => post({ Authorization: fakeAuth(t.creds.SecretId, ts - 3600), 'X-TC-Timestamp': String(ts - 3600) }, paddedBody('flood-old-ts')),
      () => post({ Authorization: fakeAuth(t.creds.SecretId, ts), 'X-TC-Timestamp': String(ts) }, paddedBody('flood-bad-sig')),
      () => post({ 'X-TC-Timestamp': String(ts) }, paddedBody('flood-no-auth')),
      () => post({ Authorization: fakeAuth(t.creds.SecretId, ts), 'X-TC-Timestamp': String(ts), 'X-TC-Action': 'NoSuchAction' }, paddedBody('flood-no-action')),
    ];
    const codes = new Set<string>();
    const N = 120;
    for (let i = 0; i < N; i += 6) {
      const batch = await Promise.all(Array.from({ length: 6 }, (_, j) => kinds[(i + j) % kinds.length]()));
      for (const r of batch) codes.add(r.Error!.Code);
    }
    expect([...codes].sort()).toEqual(['AuthFailure.InvalidAuthorization', 'AuthFailure.SecretIdNotFound', 'AuthFailure.SignatureExpire', 'AuthFailure.SignatureFailure', 'InvalidAction']);
    expect(await runningLogRows()).toBe(rowsBefore);
    // The clock stands still, so one client gets its burst and no more; each record is small.
    const written = t.run.app.errorLog.readAll().slice(recordsBefore);
    expect(written.length).toBeLessThanOrEqual(AUTH_FAILURE_LIMITS.perClientBurst);
    expect(errorLogBytes() - bytesBefore).toBeLessThanOrEqual(AUTH_FAILURE_LIMITS.perClientBurst * 700);
    for (const r of written) expect(r.params).toBeUndefined();
    expect(errorLogText()).not.toMatch(/flood-/);

    // A minute later the client may log again, and the record says how many were not logged.
    clock.advance(60_000);
    const ts2 = now();
    await post({ Authorization: fakeAuth('AKIDnobody0000000000000000000000000', ts2), 'X-TC-Timestamp': String(ts2) }, '{}');
    const last = t.run.app.errorLog.readAll().at(-1)!;
    expect(last).toMatchObject({ code: 'AuthFailure.SecretIdNotFound', stage: 'authentication', droppedBefore: N - written.length });
    // An unknown SecretId is not kept as sent (it may be a secret key pasted into the wrong field).
    expect(JSON.stringify(last)).not.toContain('AKIDnobody');
  });

  it('a 50 MB multipart upload with an unknown SecretId is refused from its headers: nothing spooled, the body not read', async () => {
    clock.advance(60_000); // a fresh burst, so the refusal is logged
    const ts = now();
    const total = 50 * 1024 * 1024;
    const r = await streamUpload({
      'content-type': 'multipart/form-data; boundary=XyZ', 'x-tc-action': 'CreateMaterial', 'x-tc-version': '2022-09-27',
      'x-tc-timestamp': String(ts), authorization: fakeAuth('AKIDnobody0000000000000000000000000', ts),
    }, total);
    expect(r.error === null || r.reply === null).toBe(true);
    if (r.reply !== null) expect(JSON.parse(r.reply).Response.Error.Code).toBe('AuthFailure.SecretIdNotFound');
    expect(r.sent).toBeLessThan(total / 4);
    expect(spoolFiles()).toEqual([]);
    // Over the upload limit, even with a known SecretId: refused before a byte of the body is spooled.
    const big = await streamUpload({
      'content-type': 'multipart/form-data; boundary=XyZ', 'x-tc-action': 'CreateMaterial', 'x-tc-version': '2022-09-27',
      'x-tc-timestamp': String(ts), authorization: fakeAuth(t.creds.SecretId, ts),
    }, 60 * 1024 * 1024);
    if (big.reply !== null) expect(JSON.parse(big.reply).Response.Error.Code).toBe('RequestSizeLimitExceeded');
    expect(big.sent).toBeLessThan(15 * 1024 * 1024);
    expect(spoolFiles()).toEqual([]);
    // The server is still serving.
    expect((await post({}, '{}')).Error!.Code).toBe('AuthFailure.InvalidAuthorization');
  }, 30_000);

  it('a known account\'s failed calls are still logged (running log and error log), strings redacted by field', async () => {
    clock.set(Date.now());
    const iai = t.iai();
    let requestId = '';
    try {
      await iai.ModifyPersonBaseInfo({ PersonId: 'nobody-7', PersonName: 'alice-secret' });
    } catch (e) {
      requestId = (e as { requestId: string }).requestId;
      expect((e as { code: string }).code).toMatch(/^(ResourceNotFound|InvalidParameterValue)/);
    }
    expect(requestId).not.toBe('');
    expect(await t.run.app.runningLog.byRequestId(requestId)).toMatchObject({ app_id: t.creds.AppId, action: 'ModifyPersonBaseInfo' });
    const rec = t.run.app.errorLog.readAll().find((r) => r.requestId === requestId) as any;
    expect(rec).toMatchObject({ appId: t.creds.AppId, action: 'ModifyPersonBaseInfo', params: { PersonId: 'nobody-7', PersonName: { redacted: true, bytes: 12 } } });
    // The same secret in a forged request's body does not get in either.
    const body = JSON.stringify({ PersonId: 'x', PersonName: 'alice-secret' });
    const ts = now();
    const forged = tc3Authorization(t.creds.SecretId, { secretKey: 'not-the-key-not-the-key', service: 'iai', timestamp: ts, contentType: 'application/json', host: '127.0.0.1', body });
    expect((await post({ Authorization: forged, 'X-TC-Timestamp': String(ts), 'X-TC-Action': 'ModifyPersonBaseInfo' }, body)).Error!.Code).toBe('AuthFailure.SignatureFailure');
    expect(await errorCode(iai.GetGroupInfo({ GroupId: 'missing', Tag: 'alice-secret' }))).not.toBe('OK');
    expect(errorLogText()).not.toContain('alice-secret');
  });
});

describe('the failed-authentication log', () => {
  it('caps all clients together, forgets the least recently seen client past its table size, and counts what it dropped', () => {
    const lines: Record<string, unknown>[] = [];
    const c = new ManualClock(0);
    const limits = { perClientBurst: 2, perClientPerMinute: 1, globalBurst: 5, globalPerMinute: 60, maxClients: 3 };
    const log = new AuthFailureLog({ append: (r) => lines.push(r) }, () => c.now(), limits);
    const f = (ip: string) => log.record({ requestId: 'r', code: 'AuthFailure.SecretIdNotFound', message: 'm'.repeat(5000), clientIp: ip, stage: 'authentication', action: 'x'.repeat(300) });
    for (let i = 0; i < 100; i++) f(`10.0.0.${i}`); // many addresses: the global burst
    expect(lines.length).toBe(5);
    for (let i = 0; i < 10; i++) f('10.0.1.1'); // refused by the global cap: not charged to this client
    expect(lines.length).toBe(5);
    c.advance(60_000); // one global minute = 60 more, but one client gets only its own burst
    for (let i = 0; i < 10; i++) f('10.0.1.1');
    expect(lines.length).toBe(7);
    expect(lines[5].droppedBefore).toBe(95 + 10);
    expect(lines[6].droppedBefore).toBeUndefined();
    expect((lines[5].message as string).length).toBeLessThanOrEqual(200);
    expect(lines[5].action).toEqual({ bytes: 300 });
    expect((log as unknown as { clients: Map<string, unknown> }).clients.size).toBeLessThanOrEqual(3);
  });

  it('the redactor keeps ids, enumerations and numbers; other strings only by length; URLs by origin', () => {
    const r = redactParams({ GroupId: 'g-1', PersonIds: ['p1', 'p2'], FaceModelVersion: '3.0', RspImgType: 'url', Limit: 10, NeedPersonInfo: 1, Ok: true, PersonName: 'alice-secret', Tag: 'x', Url: 'https://img.example:8443/u/alice.jpg?X-Amz-Signature=s', GroupId2: 'no' }) as any;
    expect(r).toMatchObject({ GroupId: 'g-1', PersonIds: ['p1', 'p2'], FaceModelVersion: '3.0', RspImgType: 'url', Limit: 10, NeedPersonInfo: 1, Ok: true });
    expect(r.PersonName).toEqual({ redacted: true, bytes: 12 });
    expect(r.Tag).toEqual({ redacted: true, bytes: 1 });
    expect(r.GroupId2).toEqual({ redacted: true, bytes: 2 });
    expect(r.Url).toEqual({ redacted: true, bytes: 54, origin: 'https://img.example:8443' });
    // An "id" that is not token-shaped is not an id: it could be anything.
    expect((redactParams({ PersonId: 'Alice Smith, 12 Main St' }) as any).PersonId).toEqual({ redacted: true, bytes: 23 });
  });
});
