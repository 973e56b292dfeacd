// Materials uploaded as multipart/form-data through the official SDK (CommonClient with
// { multipart: true }): the file part may exceed the ordinary body limit, up to
// FACEVAULT_UPLOAD_LIMIT, and only for upload actions.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, type TestServer } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { parseMultipart } from '../src/api/protocol/multipart.ts';
import { utcDate } from '../src/api/protocol/tc3-signature.ts';

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

  const uploadsDir = () => path.join(t.dataDir, 'tmp', 'uploads');
  const spoolFiles = () => (fs.existsSync(uploadsDir()) ? fs.readdirSync(uploadsDir()) : []);
  /** Polls (the temp file is removed when the response closes, asynchronously). */
  const waitFor = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
    if (!cond()) throw new Error(`timed out waiting until ${what}`);
  };
  /**
   * A chunked multipart POST (no Content-Length, so only the streaming limit can stop it). Its
   * headers pass the checks made before the body is read (a known SecretId, a fresh timestamp);
   * the signature, which needs the body, would fail.
   */
  const rawUpload = () => {
    const ts = Math.floor(Date.now() / 1000);
    const authorization = `TC3-HMAC-SHA256 Credential=${t.creds.SecretId}/${utcDate(ts)}/facefusion/tc3_request, SignedHeaders=content-type;host, Signature=${'ab'.repeat(32)}`;
    const req = http.request(t.url, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=XyZ', 'x-tc-action': 'CreateMaterial', 'x-tc-version': '2022-09-27', 'x-tc-timestamp': String(ts), authorization, 'transfer-encoding': 'chunked' } });
    const reply = new Promise<string>((resolve, reject) => {
      req.on('response', (res) => { let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => resolve(b)); });
      req.on('error', reject);
    });
    req.write('--XyZ\r\nContent-Disposition: form-data; name="Image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n');
    return { req, reply };
  };

  it('leaves no temp file after an upload, and refuses one over the limit up front (Content-Length)', async () => {
    await waitFor(() => spoolFiles().length === 0, 'the earlier uploads\' temp files are gone');
    const ff = t.common('facefusion');
    expect(await errorCode(ff.request('CreateMaterial', { ActivityId: 'at_x', Image: Buffer.alloc(bytes.length * 4 + 1) }, { multipart: true }))).toBe('RequestSizeLimitExceeded');
    expect(spoolFiles()).toEqual([]);
  });

  it('streams to a 0600 temp file, stops at the limit while streaming and removes the file', async () => {
    const { req, reply } = rawUpload();
    req.write(Buffer.alloc(64 * 1024, 1));
    await waitFor(() => spoolFiles().length === 1, 'the upload is spooled to a file');
    expect(fs.statSync(path.join(uploadsDir(), spoolFiles()[0])).mode & 0o777).toBe(0o600);
    const chunk = Buffer.alloc(256 * 1024, 2);
    // Keep sending past the limit (bytes × 4) until the server answers.
    let answered = false;
    void reply.then(() => { answered = true; }, () => { answered = true; });
    for (let sent = 0; !answered && sent < bytes.length * 8; sent += chunk.length) {
      await new Promise<void>((r) => { if (req.write(chunk)) r(); else req.once('drain', () => r()); });
    }
    req.end();
    const body = JSON.parse(await reply);
    expect(body.Response.Error.Code).toBe('RequestSizeLimitExceeded');
    await waitFor(() => spoolFiles().length === 0, 'the over-limit temp file is removed');
  });

  it('removes the temp file when the client goes away mid-upload', async () => {
    const { req, reply } = rawUpload();
    reply.catch(() => {});
    req.write(Buffer.alloc(64 * 1024, 3));
    await waitFor(() => spoolFiles().length === 1, 'the upload is spooled to a file');
    req.destroy();
    await waitFor(() => spoolFiles().length === 0, 'the aborted upload\'s temp file is removed');
  });

  it('the error log records the file part by size and hash only', async () => {
    const records = t.run.app.errorLog.readAll();
    const rec = records.find((r) => r.action === 'DescribeActivities' && r.code === 'RequestSizeLimitExceeded');
    expect(rec).toBeDefined();
    expect(JSON.stringify(records).length).toBeLessThan(bytes.length);
  });
});

describe('spooled uploads left by a crash', () => {
  it('are removed at start when older than any request can live; recent ones are kept', async () => {
    const { tempDir } = await import('./helpers/server.ts');
    const dataDir = tempDir();
    const dir = path.join(dataDir, 'tmp', 'uploads');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'upload-old'), 'partial');
    fs.writeFileSync(path.join(dir, 'upload-new'), 'in flight elsewhere');
    const old = new Date(Date.now() - 60 * 60_000);
    fs.utimesSync(path.join(dir, 'upload-old'), old, old);
    const s = await startTestServer({ FACEVAULT_DATA_DIR: dataDir });
    try {
      expect(fs.readdirSync(dir)).toEqual(['upload-new']);
    } finally {
      await s.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
