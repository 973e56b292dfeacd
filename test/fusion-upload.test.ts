// Materials uploaded as multipart/form-data through the official SDK (CommonClient with
// { multipart: true }): the file part may exceed the ordinary body limit, up to
// FACEVAULT_UPLOAD_LIMIT, and only for upload actions.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, type TestServer } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { parseMultipart } from '../src/api/multipart.ts';

const TEMPLATE = td('faces', 'identities', 'obama', 'obama-720p.jpg');

describe('multipart parser', () => {
  it('reads text fields as strings and file parts as bytes, and rejects malformed bodies', () => {
    const b = 'XyZ';
    const bin = Buffer.from([0, 1, 2, 13, 10, 45, 45, 255]);
    const body = Buffer.concat([
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="ActivityId"\r\n\r\nat_1\r\n--${b}\r\nContent-Disposition: form-data; name="Image"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      bin, Buffer.from(`\r\n--${b}--\r\n`),
    ]);
    const p = parseMultipart(body, b);
    expect(p.ActivityId).toBe('at_1');
    expect(Buffer.isBuffer(p.Image) && (p.Image as Buffer).equals(bin)).toBe(true);
    expect(() => parseMultipart(Buffer.from('garbage'), b)).toThrow(/boundary/);
    expect(() => parseMultipart(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end`), b)).toThrow(/not terminated/);
  });
});

describe.skipIf(!hasTestdata)(`material upload${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let t: TestServer;
  const bytes = hasTestdata ? fs.readFileSync(TEMPLATE) : Buffer.alloc(0);
  beforeAll(async () => {
    // An ordinary body limit smaller than the template, so only the upload path can take it.
    t = await startTestServer({ FACEVAULT_BODY_LIMIT: String(Math.floor(bytes.length / 2)), FACEVAULT_UPLOAD_LIMIT: String(bytes.length * 4) });
  });
  afterAll(async () => { await t?.stop(); });

  it('CreateMaterial takes a multipart file part larger than the body limit and analyses it', async () => {
    const ff = t.common('facefusion');
    const act = (await ff.request('CreateActivity', { ActivityName: 'upload' })).ActivityId;
    // The JSON route refuses the same image: it is over the ordinary limit as base64.
    expect(await errorCode(ff.request('CreateMaterial', { ActivityId: act, Image: bytes.toString('base64') }))).toBe('RequestSizeLimitExceeded');
    const m = await ff.request('CreateMaterial', { ActivityId: act, MaterialName: 'big', Image: bytes }, { multipart: true });
    expect(m.MaterialId).toMatch(/^mt_/);
    const list = await ff.request('DescribeMaterialList', { ActivityId: act, MaterialId: m.MaterialId });
    expect(list.MaterialInfos[0].MaterialFaceList.length).toBeGreaterThanOrEqual(1);
  });

  it('other actions do not get the larger limit, and a tampered multipart body fails its signature', async () => {
    const ff = t.common('facefusion');
    expect(await errorCode(ff.request('DescribeActivities', { Padding: bytes }, { multipart: true }))).toBe('RequestSizeLimitExceeded');
    expect(await errorCode(t.common('facefusion', { SecretId: t.creds.SecretId, SecretKey: 'q'.repeat(32) }).request('CreateMaterial', { ActivityId: 'at_x', Image: bytes }, { multipart: true }))).toBe('AuthFailure.SignatureFailure');
  });

  it('the error log records the file part by size and hash only', async () => {
    const records = t.run.app.errorLog.readAll();
    const rec = records.find((r) => r.action === 'DescribeActivities' && r.code === 'RequestSizeLimitExceeded');
    expect(rec).toBeDefined();
    expect(JSON.stringify(records).length).toBeLessThan(bytes.length);
  });
});
