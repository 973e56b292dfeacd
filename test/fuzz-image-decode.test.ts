// Fuzzing the image-decode entry (src/vision/image-decode.ts): JPEG, PNG and WebP files whose
// header dimensions are rewritten to arbitrary values (with and without a valid PNG CRC), bit
// flips and truncations of valid files, and arbitrary bytes behind each format's magic. Each
// runs in a worker under a deadline and must end in a well-formed image within the pixel limit
// it was given (the header check), or an ImageError; never a hang or another error type.
import zlib from 'node:zlib';
import fc from 'fast-check';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { DecodeLimits } from '../src/vision/image-decode.ts';
import { DeadlineWorker } from './helpers/deadline-worker.ts';
import { expectClean, workerFuzzParams } from './helpers/fuzz.ts';

const worker = new DeadlineWorker(5000);
afterAll(() => worker.close());
const CLEAN = [{ errorClass: 'ImageError' }];

type Kind = 'jpeg' | 'jpeg-progressive' | 'png' | 'png-rgba' | 'png-grey' | 'png-palette' | 'webp' | 'webp-lossless';
const KINDS: Kind[] = ['jpeg', 'jpeg-progressive', 'png', 'png-rgba', 'png-grey', 'png-palette', 'webp', 'webp-lossless'];
const files = {} as Record<Kind, Buffer>;

beforeAll(async () => {
  const base = (channels: 3 | 4) => sharp({ create: { width: 80, height: 72, channels, background: { r: 200, g: 90, b: 40, alpha: 0.5 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
  files.jpeg = await base(3).jpeg().toBuffer();
  files['jpeg-progressive'] = await base(3).jpeg({ progressive: true }).toBuffer();
  files.png = await base(3).png().toBuffer();
  files['png-rgba'] = await base(4).png().toBuffer();
  files['png-grey'] = await base(3).greyscale().png().toBuffer();
  files['png-palette'] = await base(3).png({ palette: true }).toBuffer();
  files.webp = await base(3).webp().toBuffer();
  files['webp-lossless'] = await base(4).webp({ lossless: true }).toBuffer();
});

const limits: fc.Arbitrary<DecodeLimits> = fc.record({
  // Small enough that an image that passes the header check is cheap to decode.
  maxPixels: fc.constantFrom(4096, 250_000, 4_000_000),
  maxLongEdgeJpeg: fc.constantFrom(undefined, 4000, 100),
  maxLongEdge: fc.constantFrom(undefined, 2000, 100),
  minShortEdge: fc.constantFrom(undefined, 64, 1),
});

const dim = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 300 }) }, // passes the header check; the pixel data then disagrees
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 63, 64, 2000, 2001, 4000, 4001, 16383, 65535) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);

/** Rewrites the dimensions in the format's own header: PNG IHDR (CRC fixed or left stale),
 *  the JPEG SOF segment, the VP8 frame header or the VP8L bit-packed header. */
function withDims(kind: Kind, src: Buffer, w: number, h: number, fixCrc: boolean): Buffer {
  const b = Buffer.from(src);
  if (kind.startsWith('png')) {
    b.writeUInt32BE(w >>> 0, 16);
    b.writeUInt32BE(h >>> 0, 20);
    if (fixCrc) b.writeUInt32BE(zlib.crc32(b.subarray(12, 29)), 29);
  } else if (kind.startsWith('jpeg')) {
    for (let i = 2; i + 9 < b.length; i++) {
      if (b[i] === 0xff && (b[i + 1] === 0xc0 || b[i + 1] === 0xc2)) {
        b.writeUInt16BE(h & 0xffff, i + 5);
        b.writeUInt16BE(w & 0xffff, i + 7);
        break;
      }
    }
  } else if (kind === 'webp') {
    b.writeUInt16LE(w & 0xffff, 26);
    b.writeUInt16LE(h & 0xffff, 28);
  } else {
    const packed = ((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14) | (b.readUInt32LE(21) & 0xf0000000);
    b.writeUInt32LE(packed >>> 0, 21);
  }
  return b;
}

function flipAndCut(src: Buffer, flips: number[], cut: number | null): Buffer {
  const b = Buffer.from(src);
  for (const f of flips) b[(f >>> 3) % b.length] ^= 1 << (f & 7);
  return cut === null ? b : b.subarray(0, cut % (b.length + 1));
}

const MAGIC = [
  [0xff, 0xd8, 0xff], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0x47, 0x49, 0x46, 0x38],
  [0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50], [], [0x3c, 0x73, 0x76, 0x67], // "<svg"
];

describe('image decode entry under fuzz', () => {
  it('header dimensions rewritten to arbitrary values: within the pixel limit or an ImageError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KINDS), dim, dim, fc.boolean(), limits, async (kind, w, h, fixCrc, lim) => {
        expectClean(await worker.run('decodeImage', withDims(kind, files[kind], w, h, fixCrc), lim), CLEAN);
      }),
      workerFuzzParams(150),
    );
  });

  it('bit flips and truncations of valid JPEG, PNG and WebP files: an image or an ImageError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KINDS), fc.array(fc.nat(), { maxLength: 4 }), fc.option(fc.nat()), limits, async (kind, flips, cut, lim) => {
        expectClean(await worker.run('decodeImage', flipAndCut(files[kind], flips, cut), lim), CLEAN);
      }),
      workerFuzzParams(150),
    );
  });

  it('arbitrary bytes behind each magic number (and none): an image or an ImageError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...MAGIC), fc.uint8Array({ maxLength: 400 }), limits, async (magic, tail, lim) => {
        expectClean(await worker.run('decodeImage', Buffer.concat([Buffer.from(magic), tail]), lim), CLEAN);
      }),
      workerFuzzParams(150),
    );
  });
});
