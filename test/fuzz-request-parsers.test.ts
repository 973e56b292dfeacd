// Fuzzing the parsers a request's untrusted bytes meet before any handler: the TC3
// Authorization header, the multipart/form-data boundary and body, and base64 Image fields
// (with the Image/Url selection in front of it). Arbitrary and mutated inputs must give a
// result of the documented shape or a TcError with a Tencent code (never a TypeError,
// RangeError or InternalError), within a deadline (run in a worker, so a catastrophic regex
// or a loop that does not advance fails the test instead of freezing it). Valid inputs built
// the way clients build them must round-trip.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { tc3Authorization } from '../src/api/protocol/tc3-signature.ts';
import { MAX_IMAGE_BASE64 } from '../src/services/media/image-input.ts';
import { DeadlineWorker, type FuzzOutcome } from './helpers/deadline-worker.ts';
import { expectClean, workerFuzzParams } from './helpers/fuzz.ts';

const worker = new DeadlineWorker(2000);
afterAll(() => worker.close());

function value(o: FuzzOutcome): unknown {
  if (!o.ok) throw new Error(`expected a result, got ${o.errorClass}${'code' in o && o.code ? ` ${o.code}` : ''}: ${o.message}`);
  return o.value;
}

/** Random edits of a valid string: insert, delete or replace characters at random places. */
const edits = fc.array(fc.record({ at: fc.nat(), del: fc.integer({ min: 0, max: 3 }), ins: fc.string({ maxLength: 4, unit: 'binary' }) }), { minLength: 1, maxLength: 4 });
function applyEdits(s: string, es: { at: number; del: number; ins: string }[]): string {
  for (const e of es) {
    const at = e.at % (s.length + 1);
    s = s.slice(0, at) + e.ins + s.slice(at + e.del);
  }
  return s;
}

describe('TC3 Authorization header parser under fuzz', () => {
  const AUTH_SHAPE = { secretId: /^[^/\s]+$/, date: /^\d{4}-\d{2}-\d{2}$/, service: /^[^/\s]+$/, signedHeaders: /^[a-z0-9-]+$/, signature: /^[0-9a-f]{64}$/ };
  const checkShape = (v: unknown) => {
    if (v === null) return;
    for (const [k, re] of Object.entries(AUTH_SHAPE)) {
      const field = (v as Record<string, unknown>)[k];
      // SignedHeaders comes back as its list of header names, each well-formed.
      if (Array.isArray(field)) { expect(field.length, k).toBeGreaterThan(0); for (const h of field) expect(h, k).toMatch(re); }
      else expect(field, k).toMatch(re);
    }
  };

  it('any header value (up to the 16 KB Node accepts): null or well-formed fields, never a throw or a hang', async () => {
    const header = fc.oneof(
      fc.string({ maxLength: 200, unit: 'binary' }),
      fc.string({ maxLength: 16_000 }),
      fc.tuple(fc.constantFrom('TC3-HMAC-SHA256 ', 'TC3-HMAC-SHA256 Credential=', 'TC3-HMAC-SHA256\t\tCredential=a/2024-01-01/'), fc.string({ maxLength: 16_000 })).map(([a, b]) => a + b),
      // Long runs of the characters each sub-pattern repeats, the classic catastrophic-backtracking shape.
      fc.tuple(fc.constantFrom(' ', 'a', '/', ';', '0', ',', '\t'), fc.integer({ min: 1000, max: 16_000 }), fc.constantFrom('', '!', ' x', '/tc3_request')).map(([c, n, end]) => `TC3-HMAC-SHA256 Credential=a/2024-01-01/iai/tc3_request, SignedHeaders=${c.repeat(n)}${end}`),
    );
    await fc.assert(fc.asyncProperty(header, async (h) => {
      const o = await worker.run('parseAuthorization', h);
      expectClean(o, []);
      checkShape(value(o));
    }), workerFuzzParams(400));
  });

  const secretId = fc.stringMatching(/^AKID[A-Za-z0-9]{1,36}$/);
  const service = fc.constantFrom('iai', 'facefusion', 'vclm', '127');
  const timestamp = fc.integer({ min: 0, max: 4102444800 }); // 1970 .. 2100

  it('what the SDK signing code writes parses back to the same credential scope', async () => {
    await fc.assert(fc.asyncProperty(secretId, service, timestamp, async (id, svc, ts) => {
      const h = tc3Authorization(id, { secretKey: 'k', service: svc, timestamp: ts, contentType: 'application/json', host: 'h', body: '{}' });
      const v = value(await worker.run('parseAuthorization', h)) as Record<string, string>;
      expect([v.secretId, v.date, v.service, v.signedHeaders]).toEqual([id, new Date(ts * 1000).toISOString().slice(0, 10), svc, ['content-type', 'host']]);
    }), workerFuzzParams(200));
  });

  it('valid headers with random edits: null or well-formed fields', async () => {
    await fc.assert(fc.asyncProperty(secretId, service, timestamp, edits, async (id, svc, ts, es) => {
      const h = applyEdits(tc3Authorization(id, { secretKey: 'k', service: svc, timestamp: ts, contentType: 'application/json', host: 'h', body: '' }), es);
      const o = await worker.run('parseAuthorization', h);
      expectClean(o, []);
      checkShape(value(o));
    }), workerFuzzParams(300));
  });
});

describe('multipart parser under fuzz', () => {
  const MULTIPART_CODES = ['InvalidRequest', 'InvalidParameter'] as const;
  const CLEAN = [{ errorClass: 'TcError', codes: MULTIPART_CODES }];
  const boundaryChars = fc.stringMatching(/^[A-Za-z0-9'()+_,.:=?-]{1,70}$/);

  it('multipartBoundary: any Content-Type gives null or a non-empty boundary; the forms clients send round-trip', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 300, unit: 'binary' }), async (ct) => {
      const o = await worker.run('multipartBoundary', ct);
      expectClean(o, []);
      const b = value(o);
      if (b !== null) expect(typeof b === 'string' && b.length > 0).toBe(true);
    }), workerFuzzParams(300));
    await fc.assert(fc.asyncProperty(boundaryChars, fc.boolean(), fc.constantFrom('', '; charset=utf-8'), async (b, quoted, tail) => {
      expect(value(await worker.run('multipartBoundary', `multipart/form-data; boundary=${quoted ? `"${b}"` : b}${tail}`))).toBe(b);
    }), workerFuzzParams(200));
  });

  type Part = { name: string; text: string; style: 'plain' | 'typed' } | { name: string; file: Uint8Array; style: 'filename' | 'typed' | 'both' };
  const part: fc.Arbitrary<Omit<Part, 'name'>> = fc.oneof(
    fc.record({ text: fc.string({ maxLength: 200, unit: 'grapheme' }), style: fc.constantFrom('plain' as const, 'typed' as const) }),
    fc.record({ file: fc.uint8Array({ maxLength: 400 }), style: fc.constantFrom('filename' as const, 'typed' as const, 'both' as const) }),
  );
  const form = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,15}$/), part), { selector: ([n]) => n, maxLength: 6 })
    .map((ps) => ps.map(([name, p]) => ({ name, ...p }) as Part));

  /** A body as browsers, curl and the form-data package (the Tencent Node SDK) write it: text
   *  parts with or without `Content-Type: text/plain`, files with a filename and/or a type. */
  function build(parts: Part[], boundary: string): Buffer {
    const chunks: Buffer[] = [];
    for (const p of parts) {
      let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
      if ('text' in p) head += p.style === 'typed' ? '\r\nContent-Type: text/plain; charset=utf-8' : '';
      else if (p.style === 'filename') head += '; filename="face.jpg"';
      else if (p.style === 'typed') head += '\r\nContent-Type: application/octet-stream';
      else head += '; filename="face.jpg"\r\nContent-Type: image/jpeg';
      chunks.push(Buffer.from(`${head}\r\n\r\n`), 'text' in p ? Buffer.from(p.text, 'utf8') : Buffer.from(p.file), Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return Buffer.concat(chunks);
  }
  const boundary = fc.stringMatching(/^[A-Za-z0-9-]{24,40}$/);

  it('well-formed bodies round-trip: text parts as strings (typed text/plain or not), file parts as bytes', async () => {
    await fc.assert(fc.asyncProperty(form.filter((f) => f.length > 0), boundary, async (parts, b) => {
      const got = value(await worker.run('multipart', build(parts, b), b));
      const want = Object.fromEntries(parts.map((p) => [p.name, 'text' in p ? { text: p.text } : { file: Uint8Array.from(p.file) }]));
      expect(got).toEqual(want);
    }), workerFuzzParams(300));
  });

  it('regression: a text part sent with `Content-Type: text/plain; charset=utf-8` is a string, not a file', async () => {
    const b = 'b0undary';
    const body = Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="ActivityId"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nat_1\r\n--${b}--\r\n`);
    expect(value(await worker.run('multipart', body, b))).toEqual({ ActivityId: { text: 'at_1' } });
  });

  it('truncated, bit-flipped and edited bodies, and arbitrary bytes: parsed fields or InvalidRequest/InvalidParameter', async () => {
    const mutated = fc.tuple(form, boundary, fc.array(fc.nat(), { maxLength: 6 }), fc.option(fc.nat())).map(([parts, b, flips, cut]) => {
      const body = build(parts, b);
      for (const f of flips) body[(f >>> 3) % body.length] ^= 1 << (f & 7);
      return { body: cut === null ? body : body.subarray(0, cut % (body.length + 1)), b };
    });
    const arbitrary = fc.tuple(fc.uint8Array({ maxLength: 600 }), fc.string({ minLength: 1, maxLength: 20 })).map(([body, b]) => ({ body: Buffer.from(body), b }));
    const delimiterSoup = fc.tuple(fc.array(fc.constantFrom('--xx', '\r\n', '--', 'name="a"', 'Content-Disposition: form-data; ', '\r\n\r\n', 'filename="', 'x'), { maxLength: 40 })).map(([ts]) => ({ body: Buffer.from(ts.join('')), b: 'xx' }));
    await fc.assert(fc.asyncProperty(fc.oneof(mutated, arbitrary, delimiterSoup), async ({ body, b }) => {
      expectClean(await worker.run('multipart', body, b), CLEAN);
    }), workerFuzzParams(500));
  });
});

describe('base64 Image fields under fuzz', () => {
  const CODES = ['FailedOperation.ImageDecodeFailed', 'InvalidParameterValue.ImageEmpty', 'FailedOperation.ImageSizeExceed', 'InvalidParameter'] as const;
  const CLEAN = [{ errorClass: 'TcError', codes: CODES }];

  it('any string: non-empty bytes or a clean Tencent image error', async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 300, unit: 'binary' }),
      fc.stringMatching(/^[A-Za-z0-9+/=_\s-]{0,300}$/),
      fc.tuple(fc.constantFrom('data:', 'data:image/png;base64,', 'data:,'), fc.string({ maxLength: 100 })).map(([a, b]) => a + b),
    );
    await fc.assert(fc.asyncProperty(text, async (s) => {
      const o = await worker.run('base64', s);
      expectClean(o, CLEAN);
      if (o.ok) expect((o.value as Uint8Array).length).toBeGreaterThan(0);
    }), workerFuzzParams(400));
  });

  it('what clients send decodes to the original bytes: standard or URL-safe alphabet, with or without padding, line breaks, a data URI', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.boolean(), fc.boolean(), fc.constantFrom(0, 64, 76), fc.boolean(), async (bytes, urlSafe, pad, wrap, dataUri) => {
      let s = Buffer.from(bytes).toString(urlSafe ? 'base64url' : 'base64');
      if (!pad) s = s.replace(/=+$/, '');
      else if (urlSafe) s += '='.repeat((4 - (s.length % 4)) % 4);
      if (wrap) s = s.replace(new RegExp(`(.{${wrap}})`, 'g'), '$1\r\n');
      if (dataUri) s = `data:image/jpeg;base64,${s}`;
      expect(value(await worker.run('base64', s))).toEqual(Uint8Array.from(bytes));
    }), workerFuzzParams(300));
  });

  it('just over the 5 MB limit: FailedOperation.ImageSizeExceed', async () => {
    const o = await worker.run('base64', 'A'.repeat(MAX_IMAGE_BASE64 + 1));
    expect(o.ok ? 'ok' : 'code' in o && o.code).toBe('FailedOperation.ImageSizeExceed');
  });

  it('Image/Url parameters of any JSON type (no Url to fetch): bytes or a clean error naming the field', async () => {
    const json = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined));
    const url = fc.oneof(fc.constantFrom(undefined, null, ''), fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
    await fc.assert(fc.asyncProperty(json, url, async (image, u) => {
      const params: Record<string, unknown> = {};
      if (image !== undefined) params.Image = image;
      if (u !== undefined) params.Url = u;
      const o = await worker.run('imageInput', params);
      expectClean(o, CLEAN);
      if (!o.ok) expect(o.message).toMatch(/^(Image|Url)\b/);
    }), workerFuzzParams(300));
  });
});
