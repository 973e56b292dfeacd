// Issue 9.1: hostile BMP headers. The reported attack (bit masks 0xFFFFFFFF) spun the mask-shift
// loop forever; every header field that sizes a loop or allocation must end in a clean decode
// error within a deadline. Decoding runs in a worker thread here so a hang is a failed deadline,
// not a frozen test run.
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileBmp, MASK_ATTACK_BMP, type BmpFields } from './helpers/hostile-bmp.ts';

type Outcome = { ok: true; width: number; height: number } | { ok: false; name: string; kind?: string; message: string } | { hang: true };

const DEADLINE_MS = 3000;
let worker: Worker;
async function startWorker(): Promise<void> {
  worker = new Worker(new URL('./helpers/decode-worker.mjs', import.meta.url));
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => resolve());
  });
}
async function decode(bytes: Buffer): Promise<Outcome> {
  const out = await new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => resolve({ hang: true }), DEADLINE_MS);
    worker.once('message', (m: Outcome) => { clearTimeout(timer); resolve(m); });
    worker.postMessage(bytes);
  });
  if ('hang' in out) {
    worker.removeAllListeners('message');
    await worker.terminate();
    await startWorker();
  }
  return out;
}
/** A decode error, or too_large_pixels where the header claims more pixels than allowed (checked first). */
const isCleanDecodeError = (o: Outcome) => !('hang' in o) && !o.ok && o.name === 'ImageError' && (o.kind === 'decode' || o.kind === 'too_large_pixels');

describe('BMP headers from an attacker', () => {
  beforeAll(startWorker, 60_000);
  afterAll(async () => { await worker?.terminate(); });

  it('the reported attack (64x64 BI_BITFIELDS, masks 0xFFFFFFFF) is refused at once, naming the mask', async () => {
    const bytes = MASK_ATTACK_BMP();
    expect(bytes.length).toBeLessThan(17 * 1024);
    const t0 = performance.now();
    const o = await decode(bytes);
    expect(o).toMatchObject({ ok: false, name: 'ImageError', kind: 'decode' });
    expect((o as { message: string }).message).toMatch(/red bit mask 0xffffffff/);
    expect(performance.now() - t0).toBeLessThan(DEADLINE_MS);
  });

  it('each malformed field gives a decode error that names it', async () => {
    const base: BmpFields = { width: 64, height: 64, bpp: 32, compression: 3, masks: [0xff0000, 0xff00, 0xff] };
    const cases: [string, BmpFields, RegExp][] = [
      ['zero mask', { ...base, masks: [0, 0xff00, 0xff] }, /red bit mask is 0/],
      ['mask wider than the 16-bit pixel', { ...base, bpp: 16, masks: [0xf0000, 0x3e0, 0x1f] }, /beyond the 16-bit pixel/],
      ['non-contiguous mask', { ...base, masks: [0xff0000, 0xf0f0, 0xff] }, /green bit mask 0x0000f0f0 is not one contiguous/],
      ['mask of 17+ bits', { ...base, masks: [0xffffe000, 0x1f00, 0xff] }, /19 bits wide/],
      ['RLE8', { width: 64, height: 64, bpp: 8, compression: 1 }, /RLE8/],
      ['RLE4', { width: 64, height: 64, bpp: 4, compression: 2 }, /RLE4/],
      ['unknown compression', { width: 64, height: 64, bpp: 24, compression: 0x7fffffff }, /compression 2147483647/],
      ['bit depth 0', { width: 64, height: 64, bpp: 0, compression: 0 }, /bit depth 0/],
      ['bit depth 65535', { width: 64, height: 64, bpp: 65535, compression: 0 }, /bit depth 65535/],
      ['palette larger than the bit depth allows', { width: 64, height: 64, bpp: 8, compression: 0, colors: 0xffffffff, dataBytes: 64 * 64 }, /palette has 4294967295 colours/],
      ['height -2^31', { width: 64, height: -2147483648, bpp: 24, compression: 0, dataBytes: 10 }, /invalid BMP dimensions/],
      ['huge height, tiny file', { width: 64, height: 2147483647, bpp: 24, compression: 0, dataBytes: 100 }, /64x2147483647, more than/],
      ['huge negative (top-down) height', { width: 64, height: -2147483647, bpp: 24, compression: 0, dataBytes: 100 }, /64x2147483647, more than/],
      ['huge width', { width: 2147483647, height: 1, bpp: 32, compression: 0, dataBytes: 100 }, /2147483647x1, more than/],
      ['tall image, rows missing', { width: 64, height: 4000, bpp: 24, compression: 0, dataBytes: 100 }, /truncated: 4000 rows/],
      ['zero width', { width: 0, height: 64, bpp: 24, compression: 0 }, /invalid BMP dimensions/],
      ['row stride beyond the file', { width: 64, height: 64, bpp: 24, compression: 0, dataBytes: 64 * 64 * 3 - 1 }, /truncated/],
      ['pixel offset beyond the file', { width: 64, height: 64, bpp: 24, compression: 0, pixelOffset: 0xfffffff0 }, /truncated/],
      ['pixel offset inside the header', { width: 64, height: 64, bpp: 24, compression: 0, pixelOffset: 20 }, /offset 20 points into its header/],
      ['header size 2^32-1', { width: 64, height: 64, bpp: 24, compression: 0, headerSize: 0xffffffff }, /unsupported BMP header/],
      ['OS/2 core header', { width: 64, height: 64, bpp: 24, compression: 0, headerSize: 12 }, /unsupported BMP header/],
    ];
    for (const [what, fields, message] of cases) {
      const o = await decode(hostileBmp(fields));
      expect(isCleanDecodeError(o), `${what}: ${JSON.stringify(o)}`).toBe(true);
      expect((o as { message: string }).message, what).toMatch(message);
    }
    // Still decodes what it should: a well-formed BI_BITFIELDS image.
    expect(await decode(hostileBmp(base))).toMatchObject({ ok: true, width: 64, height: 64 });
  }, 60_000);

  it('property: any header either decodes or is refused with a decode error within the deadline', async () => {
    const u32 = fc.oneof(fc.constantFrom(0, 1, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat({ max: 0xffffffff }));
    const fields = fc.record({
      width: fc.oneof(fc.integer({ min: -3, max: 300 }), fc.constantFrom(0x7fffffff, -0x80000000)),
      height: fc.oneof(fc.integer({ min: -300, max: 300 }), fc.constantFrom(0x7fffffff, -0x80000000, -0x7fffffff)),
      bpp: fc.constantFrom(0, 1, 2, 4, 8, 15, 16, 24, 32, 64, 65535),
      compression: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 0xffffffff),
      masks: fc.option(fc.tuple(u32, u32, u32), { nil: undefined }),
      colors: fc.option(u32, { nil: undefined }),
      headerSize: fc.option(fc.constantFrom(0, 12, 39, 40, 52, 56, 108, 124, 125, 0xffffffff), { nil: undefined }),
      pixelOffset: fc.option(fc.oneof(fc.nat({ max: 400 }), fc.constantFrom(0xffffffff)), { nil: undefined }),
      dataBytes: fc.option(fc.nat({ max: 300_000 }), { nil: undefined }),
    });
    await fc.assert(fc.asyncProperty(fields, async (f) => {
      const o = await decode(hostileBmp(f));
      if ('hang' in o) return false;
      return o.ok || (o.name === 'ImageError' && o.kind !== undefined);
    }), { numRuns: 300, seed: 9 });
  }, 120_000);
});
