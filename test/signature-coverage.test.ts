// The signature covers exactly the headers its SignedHeaders lists: a client that signs
// X-TC-Action (as Tencent's own example does) is protected against a captured request being
// replayed as another action; one that signs only content-type;host (the official SDKs) is
// not, unless FACEVAULT_REQUIRE_SIGNED_ACTION refuses such signatures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { tc3SignCanonical, utcDate } from '../src/api/protocol/tc3-signature.ts';
import crypto from 'node:crypto';

let t: TestServer;
let strict: TestServer;
beforeAll(async () => {
  [t, strict] = await Promise.all([startTestServer(), startTestServer({ FACEVAULT_REQUIRE_SIGNED_ACTION: '1' })]);
});
afterAll(async () => { await Promise.all([t?.stop(), strict?.stop()]); });

interface Signed {
  /** Header names and values as the client signs them (any case, any order). */
  sign: [string, string][];
  /** SignedHeaders as written in the Authorization header; default: the signed names, lower-cased and sorted. */
  listed?: string;
  /** The headers sent; default: the signed ones. */
  send: Record<string, string>;
  body: string;
  ts: number;
}

/** A hand-written client: signs the given headers over the body, Tencent's canonical form. */
function handSign(s: TestServer, action: string, body: string, extra: (a: string) => [string, string][] = (a) => [['X-TC-Action', a]]): Signed {
  const ts = Math.floor(Date.now() / 1000);
  const host = s.endpoint; // as Go/Python sign it: with the port
  const sign: [string, string][] = [['Content-Type', 'application/json'], ['Host', host], ...extra(action)];
  return { sign, send: { 'Content-Type': 'application/json', 'X-TC-Action': action, 'X-TC-Version': '2020-03-03', 'X-TC-Timestamp': String(ts), 'X-TC-Region': 'ap-guangzhou' }, body, ts };
}

async function send(s: TestServer, r: Signed, override: Record<string, string> = {}) {
  const signature = tc3SignCanonical({ secretKey: s.creds.SecretKey, service: 'iai', timestamp: r.ts, headers: r.sign, payloadHash: crypto.createHash('sha256').update(r.body).digest('hex') });
  const listed = r.listed ?? r.sign.map(([n]) => n.toLowerCase()).sort().join(';');
  const authorization = `TC3-HMAC-SHA256 Credential=${s.creds.SecretId}/${utcDate(r.ts)}/iai/tc3_request, SignedHeaders=${listed}, Signature=${signature}`;
  const res = await fetch(`${s.url}/`, { method: 'POST', headers: { ...r.send, Authorization: authorization, ...override }, body: r.body });
  return ((await res.json()) as { Response: { Error?: { Code: string; Message: string } } & Record<string, unknown> }).Response;
}

const groupExists = async (s: TestServer, id: string) => (await s.iai().GetGroupList({})).GroupInfos.some((g: { GroupId: string }) => g.GroupId === id);

describe('signature coverage', () => {
  it('a request signed over content-type;host;x-tc-action is accepted', async () => {
    await t.iai().CreateGroup({ GroupId: 'cov-1', GroupName: 'one' });
    const r = await send(t, handSign(t, 'GetGroupInfo', JSON.stringify({ GroupId: 'cov-1' })));
    expect(r.Error).toBeUndefined();
    expect(r.GroupName).toBe('one');
  });

  it('the same captured request replayed with another X-TC-Action is refused, and changes nothing', async () => {
    await t.iai().CreateGroup({ GroupId: 'cov-2', GroupName: 'two' });
    const captured = handSign(t, 'GetGroupInfo', JSON.stringify({ GroupId: 'cov-2' }));
    expect((await send(t, captured)).Error).toBeUndefined();
    const replay = await send(t, captured, { 'X-TC-Action': 'DeleteGroup' });
    expect(replay.Error?.Code).toBe('AuthFailure.SignatureFailure');
    expect(await groupExists(t, 'cov-2')).toBe(true);
  });

  it('any other signed header is covered too: a signed X-TC-Region changed after signing fails', async () => {
    const r = handSign(t, 'GetGroupList', '{}', (a) => [['X-TC-Action', a], ['X-TC-Region', 'ap-guangzhou']]);
    expect((await send(t, r)).Error).toBeUndefined();
    expect((await send(t, r, { 'X-TC-Region': 'ap-shanghai' })).Error?.Code).toBe('AuthFailure.SignatureFailure');
  });

  it('an SDK-style content-type;host signature replayed as another action is accepted by default (the SDKs sign no more)', async () => {
    await t.iai().CreateGroup({ GroupId: 'cov-3', GroupName: 'three' });
    const captured = handSign(t, 'GetGroupInfo', JSON.stringify({ GroupId: 'cov-3' }), () => []);
    expect((await send(t, captured)).Error).toBeUndefined();
    expect((await send(t, captured, { 'X-TC-Action': 'DeleteGroup' })).Error).toBeUndefined();
    expect(await groupExists(t, 'cov-3')).toBe(false);
  });

  it('with FACEVAULT_REQUIRE_SIGNED_ACTION=1 that replay, and any signature without x-tc-action, is refused', async () => {
    const sdk = handSign(strict, 'GetGroupList', '{}', () => []);
    const refused = await send(strict, sdk);
    expect(refused.Error?.Code).toBe('AuthFailure.InvalidAuthorization');
    expect(refused.Error?.Message).toMatch(/x-tc-action/);
    expect((await send(strict, sdk, { 'X-TC-Action': 'CreateGroup' })).Error?.Code).toBe('AuthFailure.InvalidAuthorization');
    // The official SDK is refused too (it cannot sign the action).
    await expect(strict.iai().GetGroupList({})).rejects.toMatchObject({ code: 'AuthFailure.InvalidAuthorization' });
    // A signature that covers the action is served.
    const r = await send(strict, handSign(strict, 'GetGroupList', '{}'));
    expect(r.Error).toBeUndefined();
    expect(r.GroupNum).toBe(0);
  });

  it('SignedHeaders without host or content-type, listing a name twice, or naming a header the request lacks, is refused', async () => {
    const noHost = handSign(t, 'GetGroupList', '{}');
    noHost.sign = noHost.sign.filter(([n]) => n !== 'Host');
    expect((await send(t, noHost)).Error).toMatchObject({ Code: 'AuthFailure.InvalidAuthorization', Message: expect.stringMatching(/content-type and host/) });
    const noType = handSign(t, 'GetGroupList', '{}');
    noType.sign = noType.sign.filter(([n]) => n !== 'Content-Type');
    expect((await send(t, noType)).Error).toMatchObject({ Code: 'AuthFailure.InvalidAuthorization', Message: expect.stringMatching(/content-type and host/) });
    // A signed header the request does not carry counts as empty, so the signature over its value fails.
    const absent = handSign(t, 'GetGroupList', '{}', (a) => [['X-TC-Action', a], ['X-Custom', 'v']]);
    expect((await send(t, absent)).Error?.Code).toBe('AuthFailure.SignatureFailure');
    const twice = handSign(t, 'GetGroupList', '{}');
    twice.listed = 'content-type;host;x-tc-action;host';
    expect((await send(t, twice)).Error?.Code).toBe('AuthFailure.InvalidAuthorization');
  });

  it('header names in any case and order: the list is canonicalised (lower-cased, sorted) as Tencent specifies', async () => {
    // Signed in the canonical form, listed in odd case and order, sent with odd-case names.
    const r = handSign(t, 'GetGroupList', '{}');
    r.listed = 'X-TC-Action;Host;Content-Type';
    r.send = Object.fromEntries(Object.entries(r.send).map(([k, v]) => [k.toLowerCase() === 'x-tc-action' ? 'x-Tc-AcTiOn' : k.toUpperCase(), v]));
    expect((await send(t, r)).Error).toBeUndefined();
    // Tencent's specification lower-cases values too ("x-tc-action:describeinstances"); the SDKs do not: both hold.
    const lower = handSign(t, 'GetGroupList', '{}');
    lower.sign = lower.sign.map(([n, v]) => [n, v.toLowerCase()]);
    expect((await send(t, lower)).Error).toBeUndefined();
    // A signature over a non-canonical order of the lines is not Tencent's canonical request.
    const unsorted = handSign(t, 'GetGroupList', '{}');
    const payloadHash = crypto.createHash('sha256').update('{}').digest('hex');
    const hmac = (k: Buffer | string, m: string) => crypto.createHmac('sha256', k).update(m).digest();
    const canonical = ['POST', '/', '', `x-tc-action:GetGroupList\nhost:${t.endpoint}\ncontent-type:application/json\n`, 'x-tc-action;host;content-type', payloadHash].join('\n');
    const date = utcDate(unsorted.ts);
    const sts = ['TC3-HMAC-SHA256', String(unsorted.ts), `${date}/iai/tc3_request`, crypto.createHash('sha256').update(canonical).digest('hex')].join('\n');
    const sig = crypto.createHmac('sha256', hmac(hmac(hmac('TC3' + t.creds.SecretKey, date), 'iai'), 'tc3_request')).update(sts).digest('hex');
    const res = await fetch(`${t.url}/`, { method: 'POST', headers: { ...unsorted.send, Authorization: `TC3-HMAC-SHA256 Credential=${t.creds.SecretId}/${date}/iai/tc3_request, SignedHeaders=x-tc-action;host;content-type, Signature=${sig}` }, body: '{}' });
    expect(((await res.json()) as any).Response.Error.Code).toBe('AuthFailure.SignatureFailure');
  });
});
