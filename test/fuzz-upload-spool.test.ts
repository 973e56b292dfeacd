// Fuzzing the upload spool (src/api/protocol/upload-spool.ts) with arbitrary chunkings, limits and
// endings (clean end, client gone, stream error at any point). Each run must settle within a
// deadline: a complete upload within the limit resolves with its exact size, SHA-256 and bytes
// in a 0600 file; anything else rejects (UploadError for over-the-limit and aborted uploads,
// the stream's own error otherwise), and no file is left behind in any failing case.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { spoolUpload, UploadError, type SpooledBody } from '../src/api/protocol/upload-spool.ts';
import { fuzzParams } from './helpers/fuzz.ts';
import { tempDir } from './helpers/server.ts';

const root = tempDir('facevault-spool-fuzz-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const DEADLINE_MS = 3000;
type Ending = { kind: 'end' } | { kind: 'abort'; after: number } | { kind: 'error'; after: number };

/** A request stream as Node's http.IncomingMessage behaves: destroyed with an error, it emits
 *  'error' only when someone listens (otherwise just 'close'), so an unheard error cannot crash. */
class RequestStream extends Readable {
  constructor() { super({ read() {} }); }
  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    cb(this.listenerCount('error') > 0 ? err : null);
  }
}

/** Feeds the chunks one per macrotask (as a socket would), then ends, aborts or errors. */
function feed(chunks: Uint8Array[], ending: Ending): Readable {
  const r = new RequestStream();
  const stopAt = ending.kind === 'end' ? chunks.length : Math.min(ending.after, chunks.length);
  let i = 0;
  const step = () => {
    if (r.destroyed) return;
    if (i < stopAt) {
      r.push(Buffer.from(chunks[i++]));
      setImmediate(step);
    } else if (ending.kind === 'end') r.push(null);
    else if (ending.kind === 'abort') r.destroy();
    else r.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  };
  setImmediate(step);
  return r;
}

type Settled = { ok: true; v: SpooledBody; hang?: undefined } | { ok: false; e: unknown; hang?: undefined } | { ok: false; hang: true };

async function settle(p: Promise<SpooledBody>): Promise<Settled> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Settled>((resolve) => { timer = setTimeout(() => resolve({ ok: false, hang: true }), DEADLINE_MS); });
  try {
    return await Promise.race([p.then((v): Settled => ({ ok: true, v }), (e): Settled => ({ ok: false, e })), hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe('upload spool under fuzz', () => {
  const chunks = fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 12 });
  const ending: fc.Arbitrary<Ending> = fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'end' } as Ending) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), after: fc.nat({ max: 12 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('error' as const), after: fc.nat({ max: 12 }) }) },
  );

  it('any chunking, limit and ending: settles in time with the right outcome, and leaves no file when it fails', async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(chunks, fc.nat({ max: 40_000 }), ending, async (cs, limit, end) => {
      const dir = path.join(root, String(run++));
      let announced: string | null = null;
      const r = await settle(spoolUpload(feed(cs, end), dir, limit, (f) => { announced = f; }));
      expect(r.hang === true, `spoolUpload did not settle within ${DEADLINE_MS} ms`).toBe(false);

      const sent = cs.slice(0, end.kind === 'end' ? cs.length : end.after);
      const sentBytes = Buffer.concat(sent.map((c) => Buffer.from(c)));
      // Over the limit is detected on the chunk that crosses it, whatever happens after.
      const overLimit = sentBytes.length > limit;
      if (end.kind === 'end' && !overLimit) {
        expect(r.ok, `a complete upload within the limit was refused: ${'e' in r ? String(r.e) : ''}`).toBe(true);
        const v = (r as { v: SpooledBody }).v;
        expect(v.path).toBe(announced);
        expect(path.dirname(v.path)).toBe(dir);
        expect(v.size).toBe(sentBytes.length);
        expect(v.sha256).toBe(crypto.createHash('sha256').update(sentBytes).digest('hex'));
        expect(fs.readFileSync(v.path).equals(sentBytes)).toBe(true);
        expect(fs.statSync(v.path).mode & 0o777).toBe(0o600);
        fs.rmSync(v.path);
      } else {
        expect(r.ok).toBe(false);
        const e = (r as { e: unknown }).e;
        if (overLimit) expect((e as UploadError).code).toBe('FV_UPLOAD_TOO_LARGE');
        else if (end.kind === 'abort') expect((e as UploadError).code).toBe('FV_UPLOAD_ABORTED');
        else expect(e instanceof UploadError || (e as NodeJS.ErrnoException).code === 'ECONNRESET').toBe(true);
        if (e instanceof UploadError) expect([413, 400]).toContain(e.statusCode);
      }
      expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([]);
    }), fuzzParams<[Uint8Array[], number, Ending]>(150, { examples: [[[], 0, { kind: 'abort', after: 0 }], [[], 0, { kind: 'error', after: 0 }]] }));
  });

  it('regression: a client gone before or just as the spool starts is an aborted upload, not a promise left pending', async () => {
    const before = new RequestStream();
    before.destroy();
    await new Promise((r) => setImmediate(r)); // its 'close' has been emitted
    const a = await settle(spoolUpload(before, path.join(root, 'gone-before'), 1000, () => {}));
    expect(a.hang ? 'hang' : a.ok ? 'ok' : ((a as { e: unknown }).e as UploadError).code).toBe('FV_UPLOAD_ABORTED');

    const during = new RequestStream();
    const p = spoolUpload(during, path.join(root, 'gone-during'), 1000, () => {});
    during.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const b = await settle(p);
    expect(b.hang ? 'hang' : b.ok ? 'ok' : ((b as { e: unknown }).e as NodeJS.ErrnoException).code).toBe('ECONNRESET'); // heard, so reported
    for (const d of ['gone-before', 'gone-during']) expect(fs.readdirSync(path.join(root, d))).toEqual([]);
  });
});
