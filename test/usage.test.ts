// DescribeUsage through the official SDK and `facevault usage`: per AppId, action and period,
// billed vs unbilled (failed calls and calls that found no face are not billed).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason, tdBase64 } from './helpers/testdata.ts';

const run = promisify(execFile);

describe.skipIf(!hasTestdata)(`usage${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let t: TestServer;
  let other: { AppId: number; SecretId: string; SecretKey: string };
  const month = new Date().toISOString().slice(0, 7);

  beforeAll(async () => {
    t = await startTestServer();
    other = await t.run.app.accounts.createAccount('other');
    const iai = t.iai();
    const face = tdBase64('faces', 'identities', 'obama', 'obama.jpg');
    await iai.DetectFace({ Image: face });
    await iai.DetectFace({ Image: face });
    // No face: Tencent answers with an error and does not bill it.
    expect(await errorCode(iai.DetectFace({ Image: tdBase64('faces', 'edge', 'white.png') }))).toBe('FailedOperation.ImageFacedetectFailed');
    expect(await errorCode(iai.CreateGroup({ GroupId: 'g' }))).not.toBe('OK');
    await t.iai(other).DetectFace({ Image: face });
    // An earlier month, over two days, written as the server writes every call.
    const rl = t.run.app.runningLog;
    const rec = (time: number, action: string, billed: boolean, code = '') => rl.append({
      requestId: `r-${time}-${action}`, time, appId: t.creds.AppId, uin: t.creds.Uin, subUin: t.creds.SubUin, clientIp: '127.0.0.1',
      service: 'iai', action, region: 'ap-guangzhou', billed, code, latencyMs: 1,
    });
    await rec(Date.UTC(2025, 1, 3, 23, 59), 'SearchFaces', true);
    await rec(Date.UTC(2025, 1, 4, 0, 1), 'SearchFaces', true);
    await rec(Date.UTC(2025, 1, 4, 0, 2), 'SearchFaces', false, 'FailedOperation.ImageFacedetectFailed');
    await rec(Date.UTC(2025, 2, 1, 0, 0), 'SearchFaces', true); // March: outside February
  }, 180_000);
  afterAll(async () => { await t?.stop(); });

  it('DescribeUsage: this month, per action, billed vs unbilled, only the caller\'s AppId', async () => {
    const r = await t.common('iai').request('DescribeUsage', { Month: month });
    expect(r.AppId).toBe(t.creds.AppId);
    expect(r.Granularity).toBe('Month');
    const detect = r.Items.find((i: any) => i.Action === 'DetectFace');
    expect(detect).toEqual({ Period: month, Service: 'iai', Action: 'DetectFace', Calls: 3, Billed: 2, Unbilled: 1, UnbilledFailed: 1, UnbilledNoResult: 0 });
    const group = r.Items.find((i: any) => i.Action === 'CreateGroup');
    expect(group).toMatchObject({ Calls: 1, Billed: 0, UnbilledFailed: 1 });
    expect(r.Items.some((i: any) => i.Action === 'SearchFaces')).toBe(false);
    const mine = await t.common('iai', other).request('DescribeUsage', { Month: month, Action: 'DetectFace' });
    expect(mine.AppId).toBe(other.AppId);
    expect(mine.Items).toEqual([{ Period: month, Service: 'iai', Action: 'DetectFace', Calls: 1, Billed: 1, Unbilled: 0, UnbilledFailed: 0, UnbilledNoResult: 0 }]);
  });

  it('DescribeUsage: by UTC day and by date range; bad input is refused', async () => {
    const day = await t.common('iai').request('DescribeUsage', { Month: '2025-02', Granularity: 'Day' });
    expect(day.Items).toEqual([
      { Period: '2025-02-03', Service: 'iai', Action: 'SearchFaces', Calls: 1, Billed: 1, Unbilled: 0, UnbilledFailed: 0, UnbilledNoResult: 0 },
      { Period: '2025-02-04', Service: 'iai', Action: 'SearchFaces', Calls: 2, Billed: 1, Unbilled: 1, UnbilledFailed: 1, UnbilledNoResult: 0 },
    ]);
    expect([day.TotalCalls, day.TotalBilled, day.StartDate, day.EndDate]).toEqual([3, 2, '2025-02-01', '2025-02-28']);
    const range = await t.common('facefusion').request('DescribeUsage', { StartDate: '2025-02-04', EndDate: '2025-03-01' });
    expect(range.Items).toEqual([
      { Period: '2025-02', Service: 'iai', Action: 'SearchFaces', Calls: 2, Billed: 1, Unbilled: 1, UnbilledFailed: 1, UnbilledNoResult: 0 },
      { Period: '2025-03', Service: 'iai', Action: 'SearchFaces', Calls: 1, Billed: 1, Unbilled: 0, UnbilledFailed: 0, UnbilledNoResult: 0 },
    ]);
    const c = t.common('iai');
    expect(await errorCode(c.request('DescribeUsage', { Month: '2025-13' }))).toBe('InvalidParameterValue');
    expect(await errorCode(c.request('DescribeUsage', { StartDate: '2025-02-30', EndDate: '2025-03-01' }))).toBe('InvalidParameterValue');
    expect(await errorCode(c.request('DescribeUsage', { StartDate: '2025-02-01' }))).toBe('MissingParameter');
    expect(await errorCode(c.request('DescribeUsage', { Month: '2025-02', Granularity: 'Week' }))).toBe('InvalidParameterValue');
  });

  it('facevault usage --month prints every AppId (or one) as JSON', async () => {
    const cli = async (args: string[]) => JSON.parse((await run(process.execPath, [path.resolve('bin/facevault.mjs'), 'usage', ...args], { env: { ...process.env, FACEVAULT_DATA_DIR: t.dataDir }, timeout: 60_000 })).stdout);
    const all = await cli(['--month', month]);
    expect(all.Month).toBe(month);
    const apps = new Set(all.Items.map((i: any) => i.AppId));
    expect(apps.has(t.creds.AppId) && apps.has(other.AppId)).toBe(true);
    const one = await cli(['--month', month, '--app-id', String(other.AppId)]);
    expect(one.Items.filter((i: any) => i.Action === 'DetectFace')).toEqual([{ AppId: other.AppId, Period: month, Service: 'iai', Action: 'DetectFace', Calls: 1, Billed: 1, Unbilled: 0, UnbilledFailed: 0, UnbilledNoResult: 0 }]);
  }, 120_000);
});
