// Fuzzing the BMP reader (src/vision/bmp.ts) with structure-aware inputs: headers with random
// bit depths, compressions, header sizes, palettes and BI_BITFIELDS masks (all-ones 0xFFFFFFFF,
// zero, non-contiguous, wrapped), then truncated, bit-flipped and overwritten. Each input is
// decoded in a worker under a deadline: it must decode to a well-formed image or throw an
// ImageError, never hang (issue 9: a 0xFFFFFFFF mask spun the mask-shift loop forever) and
// never throw anything else (RangeError from an out-of-bounds read, TypeError, ...).
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { DeadlineWorker } from './helpers/deadline-worker.ts';
import { expectClean, workerFuzzParams } from './helpers/fuzz.ts';

const worker = new DeadlineWorker(2000);
afterAll(() => worker.close());

const CLEAN = [{ errorClass: 'ImageError' }];

const MASKS = [0xffffffff, 0, 0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000, 0x7c00, 0x03e0, 0x001f, 0xf800, 0x07e0,
  0xf0f0f0f0, 0x80000001, 0xfffffffe, 0x7fffffff, 0x80000000, 0x00000001, 0x0000aaaa];
const mask = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...MASKS) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

interface BmpSpec {
  width: number; height: number; topDown: boolean; encoding: [number, number]; headerSize: number;
  colors: number; masks: [number, number, number]; pixelOffsetDelta: number; seed: Uint8Array;
}

const spec: fc.Arbitrary<BmpSpec> = fc.record({
  width: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 64 }) }, { weight: 1, arbitrary: fc.integer({ min: -2147483648, max: 2147483647 }) }),
  height: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 64 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2147483647 }) }),
  topDown: fc.boolean(),
  encoding: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<[number, number]>([16, 3], [32, 3]) }, // BI_BITFIELDS: where the masks matter
    { weight: 6, arbitrary: fc.constantFrom<[number, number]>([1, 0], [4, 0], [8, 0], [16, 0], [24, 0], [32, 0]) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 0xffff }), u32) },
  ),
  headerSize: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(40, 52, 56, 108, 124) }, { weight: 1, arbitrary: u32 }),
  colors: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }) }, { weight: 1, arbitrary: u32 }),
  masks: fc.tuple(mask, mask, mask),
  pixelOffsetDelta: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -200, max: 200 }) }),
  seed: fc.uint8Array({ minLength: 1, maxLength: 64 }),
});

/** Writes the header as described, a palette and masks where the spec wants them, and pixel
 *  bytes for the declared size (capped, so a huge declared size gives a truncated file). */
function buildBmp(s: BmpSpec): Buffer {
  const hs = s.headerSize >= 40 && s.headerSize <= 124 ? s.headerSize : 40;
  const [bpp, compression] = s.encoding;
  const paletteEntries = bpp >= 1 && bpp <= 8 ? Math.min(s.colors || 2 ** bpp, 256) : 0;
  const maskBytes = compression === 3 && hs < 52 ? 12 : 0;
  const stride = Math.ceil((Math.abs(s.width) * bpp) / 32) * 4;
  const pixelBytes = Math.min(stride * s.height, 64 * 64 * 4 + 64);
  const pixelOffset = 14 + hs + maskBytes + paletteEntries * 4;
  const b = Buffer.alloc(pixelOffset + pixelBytes);
  b.write('BM', 0, 'ascii');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(Math.max(0, pixelOffset + s.pixelOffsetDelta), 10);
  b.writeUInt32LE(s.headerSize, 14);
  b.writeInt32LE(s.width, 18);
  b.writeInt32LE(s.topDown ? -s.height | 0 : s.height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(bpp, 28);
  b.writeUInt32LE(compression, 30);
  b.writeUInt32LE(s.colors, 46);
  if (compression === 3) {
    const at = 14 + 40;
    for (let c = 0; c < 3; c++) if (at + 4 * c + 4 <= b.length) b.writeUInt32LE(s.masks[c], at + 4 * c);
  }
  for (let i = 14 + hs + maskBytes; i < b.length; i++) b[i] = s.seed[i % s.seed.length] ^ (i * 31);
  return b;
}

type Mutation = { kind: 'none' } | { kind: 'truncate'; at: number } | { kind: 'flip'; at: number[]; bit: number } | { kind: 'set'; at: number; value: number };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' } as Mutation) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.integer({ min: 0, max: 70 }), value: fc.integer({ min: 0, max: 255 }) }) },
);

function mutate(b: Buffer, m: Mutation): Buffer {
  if (m.kind === 'truncate') return b.subarray(0, m.at % (b.length + 1));
  const out = Buffer.from(b);
  if (m.kind === 'flip') for (const at of m.at) out[at % out.length] ^= 1 << m.bit;
  if (m.kind === 'set' && m.at < out.length) out[m.at] = m.value;
  return out;
}

/** The file from issue 9: 64x64, 32 bits, BI_BITFIELDS with an all-ones red mask. */
const ISSUE_9_HANG: BmpSpec = {
  width: 64, height: 64, topDown: false, encoding: [32, 3], headerSize: 40, colors: 0,
  masks: [0xffffffff, 0x0000ff00, 0x000000ff], pixelOffsetDelta: 0, seed: new Uint8Array([7]),
};

describe('BMP reader under fuzz', () => {
  it('structure-aware BMPs (random fields, masks, truncations, bit flips): an image or an ImageError, within the deadline', async () => {
    await fc.assert(
      fc.asyncProperty(spec, mutation, async (s, m) => {
        expectClean(await worker.run('bmp', mutate(buildBmp(s), m)), CLEAN);
      }),
      workerFuzzParams(1000, { examples: [[ISSUE_9_HANG, { kind: 'none' }]] }),
    );
  });

  it('arbitrary bytes after the BM magic: an image or an ImageError, within the deadline', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (tail) => {
        expectClean(await worker.run('bmp', Buffer.concat([Buffer.from('BM'), tail])), CLEAN);
      }),
      workerFuzzParams(500),
    );
  });
});
