// Materials uploaded as multipart/form-data through the official SDK (CommonClient with
// { multipart: true }): the file part may exceed the ordinary body limit, up to
// FACEVAULT_UPLOAD_LIMIT, and only for upload actions.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, type TestServer } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import crypto from 'node:crypto';
import fc from 'fast-check';
import { parseMultipart, parseMultipartFile, isSpooledPart, MAX_MULTIPART_PARTS } from '../src/api/protocol/multipart.ts';
import { tempDir } from './helpers/server.ts';
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

  // The spooled-file parser (large file parts stay in the file) must read every body as the
  // in-memory one does: same fields, same bytes, same errors.
  const dir = tempDir('multipart-');
  const viaFile = async (body: Buffer, b: string, inlineMax: number) => {
    const f = path.join(dir, 'body');
    fs.writeFileSync(f, body);
    try {
      const out = await parseMultipartFile(f, b, inlineMax);
      const plain: Record<string, string | Buffer> = {};
      for (const [k, v] of Object.entries(out)) {
        if (!isSpooledPart(v)) { plain[k] = v; continue; }
        const got = Buffer.alloc(v.size);
        const fd = fs.openSync(v.file, 'r');
        fs.readSync(fd, got, 0, v.size, v.offset);
        fs.closeSync(fd);
        plain[k] = got;
      }
      return { ok: digest(plain) };
    } catch (e) { return { error: (e as Error).message }; }
  };
  const viaBuffer = (body: Buffer, b: string) => { try { return { ok: digest(parseMultipart(body, b)) }; } catch (e) { return { error: (e as Error).message }; } };
  /** File parts by length and hash (deep equality on MiB buffers is slow). */
  const digest = (o: Record<string, string | Buffer>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Buffer.isBuffer(v) ? { file: v.length, sha256: crypto.createHash('sha256').update(v).digest('hex') } : v]));

  it('the spooled-file parser agrees with the in-memory one (random bodies, parts left in the file)', async () => {
    const b = 'XyZ';
    const part = fc.record({
      name: fc.constantFrom('Image', 'ActivityId', 'Url', 'x'),
      file: fc.boolean(),
      // Sometimes a delimiter inside the content, which ends the part early (or breaks the body).
      content: fc.tuple(fc.uint8Array({ maxLength: 64 }), fc.boolean()).map(([u, d]) => Buffer.concat([Buffer.from(u), d ? Buffer.from(`\r\n--${b}`) : Buffer.alloc(0)])),
    });
    await fc.assert(fc.asyncProperty(fc.array(part, { maxLength: 4 }), fc.boolean(), fc.constantFrom(0, 8, 1 << 20), async (parts, close, inlineMax) => {
      const body = Buffer.concat([
        ...parts.map((p) => Buffer.concat([Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${p.name}"${p.file ? '; filename="f"' : ''}\r\n\r\n`), p.content, Buffer.from('\r\n')])),
        Buffer.from(close ? `--${b}--\r\n` : ''),
      ]);
      expect(await viaFile(body, b, inlineMax)).toEqual(viaBuffer(body, b));
    }), { numRuns: 300 });
  });

  it('a delimiter across the parser\'s 1 MiB read steps is found; a 3 MiB part stays in the file', async () => {
    const b = 'boundary-1234567890';
    for (const shift of [-20, -7, -1, 0, 1]) {
      const big = Buffer.alloc((1 << 20) - 80 + shift, 7);
      const body = Buffer.concat([Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="Image"; filename="v.mp4"\r\n\r\n`), big, Buffer.from(`\r\n--${b}\r\nContent-Disposition: form-data; name="ActivityId"\r\n\r\nat_1\r\n--${b}--\r\n`)]);
      expect(await viaFile(body, b, 1 << 10)).toEqual(viaBuffer(body, b));
    }
    const huge = Buffer.alloc(3 << 20, 9);
    const f = path.join(dir, 'huge');
    fs.writeFileSync(f, Buffer.concat([Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="Image"; filename="v.mp4"\r\n\r\n`), huge, Buffer.from(`\r\n--${b}--\r\n`)]));
    const out = await parseMultipartFile(f, b);
    expect(out.Image).toMatchObject({ spooledPart: true, file: f, size: 3 << 20 });
  });

  it('a body of many tiny parts: up to the cap both parsers agree, past it both refuse it cleanly', async () => {
    // 50,000 one-byte fields took the file parser 8.7 s (a linear search and a 64 KiB read per part).
    const b = 'boundary-many';
    const body = (n: number) => Buffer.concat([...Array.from({ length: n }, (_, i) => Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="F${i}"\r\n\r\nx\r\n`)), Buffer.from(`--${b}--\r\n`)]);
    const atCap = body(MAX_MULTIPART_PARTS);
    const parsed = await viaFile(atCap, b, 1 << 10);
    expect(parsed).toEqual(viaBuffer(atCap, b));
    expect(Object.keys((parsed as { ok: object }).ok)).toHaveLength(MAX_MULTIPART_PARTS);
    for (const n of [MAX_MULTIPART_PARTS + 1, 50_000]) {
      const over = body(n);
      const f = path.join(dir, `many-${n}`);
      fs.writeFileSync(f, over);
      await expect(parseMultipartFile(f, b)).rejects.toMatchObject({ code: 'InvalidRequest', message: `the multipart body has more than ${MAX_MULTIPART_PARTS} parts` });
      expect(() => parseMultipart(over, b)).toThrow(`more than ${MAX_MULTIPART_PARTS} parts`);
    }
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
