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
import { tc3SignatureForHash, utcDate } from '../src/api/protocol/tc3-signature.ts';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
/** A full collection, without running vitest with --expose-gc. */
const gc = vm.runInNewContext('gc') as () => void;

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

/**
 * A video material uploaded as multipart at Tencent's sizes (up to 1 GB), above
 * FACEVAULT_UPLOAD_LIMIT: accepted only when the signature can be checked from the headers
 * (X-TC-Content-SHA256: the body's SHA-256, or UNSIGNED-PAYLOAD), so a client that has not proved
 * its key still cannot make the server spool more than FACEVAULT_UPLOAD_LIMIT. The body is the
 * face-api clip with a `free` box of zeros appended (a valid mp4 of any size; nothing big is
 * stored in the repository), streamed from one reused chunk, never held whole on either side.
 */
describe.skipIf(!hasTestdata)(`video material upload above FACEVAULT_UPLOAD_LIMIT${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  const MiB = 1 << 20;
  let t: TestServer;
  beforeAll(async () => { t = await startTestServer({ FACEVAULT_UPLOAD_LIMIT: String(MiB), FACEVAULT_VIDEO_UPLOAD_LIMIT: String(210 * MiB) }); });
  afterAll(async () => { await t?.stop(); });
  const clip = hasTestdata ? fs.readFileSync(td('video', 'face_api_test_clip.mp4')) : Buffer.alloc(0);
  const B = 'vid-boundary-7d1f';
  const zeros = Buffer.alloc(MiB);
  const uploadsDir = () => path.join(t.dataDir, 'tmp', 'uploads');
  const spoolFiles = () => (fs.existsSync(uploadsDir()) ? fs.readdirSync(uploadsDir()) : []);

  /** The multipart body as chunks: ActivityId, then Image = the clip + a free box of `pad` zero bytes. */
  function* body(activityId: string, pad: number): Generator<Buffer> {
    yield Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="ActivityId"\r\n\r\n${activityId}\r\n--${B}\r\nContent-Disposition: form-data; name="Image"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
    yield clip;
    const box = Buffer.alloc(8);
    box.writeUInt32BE(8 + pad, 0);
    box.write('free', 4, 'latin1');
    yield box;
    for (let left = pad; left > 0; left -= zeros.length) yield left >= zeros.length ? zeros : zeros.subarray(0, left);
    yield Buffer.from(`\r\n--${B}--\r\n`);
  }
  const sizeOf = (a: string, pad: number) => { let n = 0; for (const c of body(a, pad)) n += c.length; return n; };
  const hashOf = (a: string, pad: number) => { const h = crypto.createHash('sha256'); for (const c of body(a, pad)) h.update(c); return h.digest('hex'); };

  /**
   * POSTs CreateMaterial with `declared` bytes announced, streaming `chunks` (or zeros), signed
   * over `signedHash` (or UNSIGNED-PAYLOAD) with `secretKey`; `contentSha` is the
   * X-TC-Content-SHA256 header sent (none if undefined). Stops at the server's answer.
   */
  function upload(o: { chunks: Iterable<Buffer>; declared: number | null; signedHash: string | 'UNSIGNED-PAYLOAD'; contentSha?: string; secretKey?: string }) {
    const ts = Math.floor(Date.now() / 1000);
    const host = new URL(t.url).host, contentType = `multipart/form-data; boundary=${B}`;
    const unsigned = o.signedHash === 'UNSIGNED-PAYLOAD';
    const sig = tc3SignatureForHash({ secretKey: o.secretKey ?? t.creds.SecretKey, service: 'facefusion', timestamp: ts, contentType, host, payloadHash: unsigned ? '' : o.signedHash, unsignedPayload: unsigned });
    const headers: Record<string, string> = {
      'content-type': contentType, ...(o.declared === null ? {} : { 'content-length': String(o.declared) }), 'x-tc-action': 'CreateMaterial', 'x-tc-version': '2022-09-27', 'x-tc-timestamp': String(ts), 'x-tc-region': 'ap-guangzhou',
      authorization: `TC3-HMAC-SHA256 Credential=${t.creds.SecretId}/${utcDate(ts)}/facefusion/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`,
      ...(o.contentSha !== undefined ? { 'x-tc-content-sha256': o.contentSha } : {}),
    };
    return new Promise<{ sent: number; response: { Error?: { Code: string; Message: string }; MaterialId?: string } | null }>((resolve) => {
      const req = http.request(`${t.url}/`, { method: 'POST', agent: false, headers });
      let sent = 0, done = false;
      const finish = (response: { Error?: { Code: string; Message: string }; MaterialId?: string } | null) => { if (!done) { done = true; resolve({ sent, response }); req.destroy(); } };
      req.on('response', (res) => { let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => finish(JSON.parse(b).Response)); });
      // A refusal closes the connection: the write may fail (EPIPE) before the answer is read.
      req.on('error', () => { setTimeout(() => finish(null), 2000); });
      const it = o.chunks[Symbol.iterator]();
      const pump = () => {
        for (;;) {
          if (done) return;
          const n = it.next();
          if (n.done) { req.end(); return; }
          sent += n.value.length;
          if (!req.write(n.value)) { req.once('drain', pump); return; }
        }
      };
      pump();
    });
  }
  /** `n` bytes of zeros as 1 MiB chunks (a body that is refused before it matters what it holds). */
  function* filler(n: number): Generator<Buffer> { for (let left = n; left > 0; left -= MiB) yield left >= MiB ? zeros : zeros.subarray(0, left); }

  it('over FACEVAULT_UPLOAD_LIMIT without a header-checkable signature, with a wrong key, or over the video limit: refused from the headers, the body not read', async () => {
    const total = 150 * MiB;
    // Signed over the body's hash, as the Node SDK signs, but the hash not declared: the signature could only be checked after 150 MB.
    const plain = await upload({ chunks: filler(total), declared: total, signedHash: 'ab'.repeat(32) });
    expect(plain.response?.Error?.Code).toBe('RequestSizeLimitExceeded');
    expect(plain.response?.Error?.Message).toMatch(/X-TC-Content-SHA256/);
    expect(plain.sent).toBeLessThan(total / 4);
    // Declared, but signed with another key: the signature fails before the body.
    const forged = await upload({ chunks: filler(total), declared: total, signedHash: 'cd'.repeat(32), contentSha: 'cd'.repeat(32), secretKey: 'q'.repeat(32) });
    expect(forged.response?.Error?.Code).toBe('AuthFailure.SignatureFailure');
    expect(forged.sent).toBeLessThan(total / 4);
    // Over the video upload limit, even properly declared: the error names the file part.
    const over = 211 * MiB;
    const big = await upload({ chunks: filler(over), declared: over, signedHash: 'ef'.repeat(32), contentSha: 'ef'.repeat(32) });
    expect(big.response?.Error?.Code).toBe('RequestSizeLimitExceeded');
    expect(big.response?.Error?.Message).toMatch(/Image/);
    expect(big.sent).toBeLessThan(over / 4);
    expect(spoolFiles()).toEqual([]);
  }, 60_000);

  /** One CreateMaterial upload of the clip padded by `pad` bytes, its hash declared: the peak RSS growth while it ran. */
  async function uploadVideo(pad: number): Promise<{ size: number; growth: number; materialId: string; act: string }> {
    const act = (await t.common('facefusion').request('CreateActivity', { ActivityName: `video ${pad}` })).ActivityId as string;
    const size = sizeOf(act, pad), hash = hashOf(act, pad);
    gc(); // the baseline without the garbage of what ran before
    const base = process.memoryUsage().rss;
    let peak = base;
    const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 2);
    let r;
    try {
      r = await upload({ chunks: body(act, pad), declared: size, signedHash: hash, contentSha: hash });
    } finally {
      clearInterval(sample);
    }
    expect(r.response?.Error).toBeUndefined();
    expect(r.response?.MaterialId).toMatch(/^mt_/);
    return { size, growth: peak - base, materialId: r.response!.MaterialId!, act };
  }

  it('a 200 MB mp4 with its hash declared is stored as a video material; RSS grows by a small fraction of it, not with its size; no temp file left', async () => {
    // Each upload starts a tracking pass after its answer (the first loads the vision models,
    // hundreds of MB): each is waited for, so the next measurement holds the upload path only.
    const tracked = async (u: { act: string; materialId: string }) => {
      for (let i = 0; i < 600; i++) {
        const l = await t.common('facefusion').request('DescribeMaterialList', { ActivityId: u.act, MaterialId: u.materialId });
        if (l.MaterialInfos[0]?.MaterialStatus !== 0) return l.MaterialInfos[0].MaterialStatus as number;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error('the tracking pass did not end');
    };
    expect(await tracked(await uploadVideo(MiB))).toBe(32); // the face-api clip's faces are below the detector's size: "failed", as documented
    const short = await uploadVideo(20 * MiB);
    await tracked(short);
    const long = await uploadVideo(200 * MiB);
    const mb = (b: number) => (b / 1e6).toFixed(1);
    console.log(`video upload: ${mb(short.size)} MB body -> RSS +${mb(short.growth)} MB; ${mb(long.size)} MB body -> RSS +${mb(long.growth)} MB (ratio ${(long.growth / long.size).toFixed(3)})`);
    // Code holding the body (or the part) in memory would grow by at least its size (ratio ≥ 1),
    // and by the size difference between the two. The bounds leave room for the garbage of
    // 64 KiB stream chunks that a collection has not freed yet (measured: +6.6 to +34 MB).
    expect(long.growth / long.size).toBeLessThan(0.35);
    expect(long.growth - short.growth).toBeLessThan(0.3 * (long.size - short.size));
    expect(await tracked(long)).toBe(32);
    for (let i = 0; i < 200 && spoolFiles().length; i++) await new Promise((res) => setTimeout(res, 25));
    expect(spoolFiles()).toEqual([]);
  }, 240_000);

  it('without a Content-Length (chunked) the larger limit holds only with a header-checkable signature', async () => {
    const act = (await t.common('facefusion').request('CreateActivity', { ActivityName: 'chunked' })).ActivityId as string;
    // Over the effective upload limit: FACEVAULT_UPLOAD_LIMIT, raised to the body limit (10 MB) when smaller.
    const pad = 12 * MiB, hash = hashOf(act, pad);
    const ok = await upload({ chunks: body(act, pad), declared: null, signedHash: hash, contentSha: hash });
    expect(ok.response?.MaterialId).toMatch(/^mt_/);
    // The same body signed over its hash but not declared: stopped at FACEVAULT_UPLOAD_LIMIT while it streams.
    const plain = await upload({ chunks: body(act, pad), declared: null, signedHash: hash });
    expect(plain.response?.Error?.Code).toBe('RequestSizeLimitExceeded');
    for (let i = 0; i < 200 && spoolFiles().length; i++) await new Promise((res) => setTimeout(res, 25));
    expect(spoolFiles()).toEqual([]);
  }, 60_000);

  it('UNSIGNED-PAYLOAD is accepted at the larger size; a body that is not the declared one fails its signature once in, and its temp file goes', async () => {
    const act = (await t.common('facefusion').request('CreateActivity', { ActivityName: 'unsigned' })).ActivityId as string;
    const pad = 12 * MiB, size = sizeOf(act, pad); // over the effective upload limit (10 MB, the body limit)
    const ok = await upload({ chunks: body(act, pad), declared: size, signedHash: 'UNSIGNED-PAYLOAD', contentSha: 'UNSIGNED-PAYLOAD' });
    expect(ok.response?.MaterialId).toMatch(/^mt_/);
    // Signed and declared for one body, another sent (same size): the signature is checked again over the hash of what arrived.
    const declaredHash = hashOf(act, pad);
    const other = await upload({ chunks: body(`${act.slice(0, -1)}x`, pad), declared: size, signedHash: declaredHash, contentSha: declaredHash });
    expect(other.response?.Error?.Code).toBe('AuthFailure.SignatureFailure');
    for (let i = 0; i < 200 && spoolFiles().length; i++) await new Promise((res) => setTimeout(res, 25));
    expect(spoolFiles()).toEqual([]);
  }, 60_000);
});
