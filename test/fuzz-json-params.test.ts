// Fuzzing the JSON request-body path (src/api/server.ts: raw body -> JSON.parse -> object check
// -> each action's parameter checks) through a started server, with correctly signed requests
// so the body reaches the parsers: arbitrary bytes, arbitrary JSON values, and each action's
// valid parameters with one field replaced by an arbitrary JSON value, removed, or joined by an
// unknown or duplicated key. Every reply must be the Tencent envelope with a RequestId and
// either no Error or an Error whose Code is a Tencent code other than InternalError, within a
// deadline. Only actions that do no image work are called (image inputs are fuzzed in
// fuzz-image-decode/fuzz-request-parsers, without loading models).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tc3Authorization } from '../src/api/protocol/tc3-signature.ts';
import { fuzzParams, TENCENT_CODE } from './helpers/fuzz.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer({ FACEVAULT_BODY_LIMIT: String(64 * 1024) }); });
afterAll(async () => { await t?.stop(); });

const VERSION = { iai: '2020-03-03', facefusion: '2022-09-27' } as const;
/** Action -> a valid parameter set (ids may not exist: not-found is a clean answer too). */
const ACTIONS: Record<string, [keyof typeof VERSION, Record<string, unknown>]> = {
  CreateGroup: ['iai', { GroupId: 'fz-g1', GroupName: 'fuzz', GroupExDescriptions: ['a', 'b'], Tag: 't' }],
  GetGroupList: ['iai', { Offset: 0, Limit: 10 }],
  GetGroupInfo: ['iai', { GroupId: 'fz-g1' }],
  ModifyGroup: ['iai', { GroupId: 'fz-g1', GroupName: 'renamed', Tag: 'u' }],
  GetPersonListNum: ['iai', { GroupId: 'fz-g1' }],
  GetPersonList: ['iai', { GroupId: 'fz-g1', Offset: 0, Limit: 10 }],
  GetPersonBaseInfo: ['iai', { PersonId: 'fz-p1' }],
  GetPersonGroupInfo: ['iai', { PersonId: 'fz-p1', Offset: 0, Limit: 10 }],
  ModifyPersonBaseInfo: ['iai', { PersonId: 'fz-p1', PersonName: 'x', Gender: 1 }],
  ModifyPersonGroupInfo: ['iai', { GroupId: 'fz-g1', PersonId: 'fz-p1', PersonExDescriptionInfos: [{ PersonExDescriptionIndex: 0, PersonExDescription: 'x' }] }],
  DeletePersonFromGroup: ['iai', { PersonId: 'fz-p1', GroupId: 'fz-g1' }],
  CopyPerson: ['iai', { PersonId: 'fz-p1', GroupIds: ['fz-g1'] }],
  DeletePerson: ['iai', { PersonId: 'fz-p9' }],
  DeleteFace: ['iai', { PersonId: 'fz-p1', FaceIds: ['f1'] }],
  DeleteGroup: ['iai', { GroupId: 'fz-g9' }],
  GetUpgradeGroupFaceModelVersionJobList: ['iai', { Offset: 0, Limit: 10 }],
  GetUpgradeGroupFaceModelVersionResult: ['iai', { JobId: 'job-1' }],
  DescribeMaterialList: ['facefusion', { ActivityId: 'at_1', Limit: 10, Offset: 0 }],
  CreateActivity: ['facefusion', { ActivityName: 'fz', Status: 'DRAFT', FuseProfileDegree: 10, FuseFaceDegree: 10 }],
  DescribeActivities: ['facefusion', { Limit: 10, Offset: 0 }],
  ModifyActivity: ['facefusion', { ActivityId: 'at_1', ActivityName: 'fz2', Status: 'PUBLISHED' }],
  DeleteActivity: ['facefusion', { ActivityId: 'at_9' }],
  DeleteMaterial: ['facefusion', { MaterialId: 'mt_9' }],
  DescribeRetentionPolicy: ['iai', {}],
  DescribeUsage: ['iai', {}],
  DescribeDeletionRequests: ['iai', { Offset: 0, Limit: 10 }],
  DescribePrivacyPolicy: ['iai', {}],
  SetPrivacyPolicy: ['iai', { MinAge: 0, InactivePersonDays: 0 }],
};
const actionNames = Object.keys(ACTIONS);

async function call(action: string, body: string | Buffer): Promise<{ status: number; response: Record<string, any> }> {
  const [service] = ACTIONS[action] ?? ['iai'];
  const ts = Math.floor(Date.now() / 1000);
  const authorization = tc3Authorization(t.creds.SecretId, { secretKey: t.creds.SecretKey, service, timestamp: ts, contentType: 'application/json', host: '127.0.0.1', body });
  const res = await fetch(`${t.url}/`, {
    method: 'POST', body, signal: AbortSignal.timeout(10_000),
    headers: { 'Content-Type': 'application/json', Authorization: authorization, 'X-TC-Action': action, 'X-TC-Version': VERSION[service], 'X-TC-Timestamp': String(ts), 'X-TC-Region': 'ap-guangzhou' },
  });
  return { status: res.status, response: (JSON.parse(await res.text()) as { Response: Record<string, any> }).Response };
}

function expectCleanReply(r: { status: number; response: Record<string, any> }, what: string): void {
  expect(r.status).toBe(200);
  expect(r.response.RequestId, what).toMatch(/^[0-9a-f-]{36}$/);
  const err = r.response.Error as { Code: string; Message: string } | undefined;
  if (!err) return;
  expect(err.Code, `${what}: ${err.Message}`).toMatch(TENCENT_CODE);
  expect(err.Code, `${what}: ${err.Message}`).not.toBe('InternalError');
  expect(err.Message).not.toMatch(/\n\s+at |node_modules|\/src\//); // no stack or path leaks
}

const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -1, 0.5, '', ' ', '\u0000', '\u202e', 'a'.repeat(5000), [], {}, [null], { '': null }),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

describe('JSON parameters under fuzz, through the server', () => {
  it('arbitrary bodies (bytes, text, any JSON value): a clean Tencent reply', async () => {
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 300, unit: 'binary' }),
      anyJson.map((v) => JSON.stringify(v) ?? 'null'),
      fc.constantFrom('{', '{"a":', '[1,2', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '\uFEFF{}', '{}garbage', '{"a":1,"a":2}', 'null', '"str"', '1e999'),
    );
    await fc.assert(fc.asyncProperty(fc.constantFrom(...actionNames), body, async (action, b) => {
      expectCleanReply(await call(action, b), `${action} ${String(b).slice(0, 80)}`);
    }), fuzzParams(120));
  });

  it("each action's valid parameters with one field replaced, removed, or an unknown or duplicated key added: a clean Tencent reply", async () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: anyJson }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('add' as const), key: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', 'Image', 'Url', 'AppId', 'RequestId')), value: anyJson }),
      fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat(), value: anyJson }),
    );
    await fc.assert(fc.asyncProperty(fc.constantFrom(...actionNames), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (action, ms) => {
      const params: Record<string, unknown> = { ...ACTIONS[action][1] };
      let extra = '';
      for (const m of ms) {
        const keys = Object.keys(params);
        if (m.kind === 'add') params[m.key] = m.value;
        else if (!keys.length) continue;
        else if (m.kind === 'replace') params[keys[m.pick % keys.length]] = m.value;
        else if (m.kind === 'remove') delete params[keys[m.pick % keys.length]];
        // JSON.parse keeps the last of duplicated keys; the signature covers the text as sent.
        else extra += `,${JSON.stringify(keys[m.pick % keys.length])}:${JSON.stringify(m.value) ?? 'null'}`;
      }
      const text = JSON.stringify(params);
      const body = extra ? (text === '{}' ? `{${extra.slice(1)}}` : `${text.slice(0, -1)}${extra}}`) : text;
      expectCleanReply(await call(action, body), `${action} ${body.slice(0, 200)}`);
    }), fuzzParams(250));
  });
});
