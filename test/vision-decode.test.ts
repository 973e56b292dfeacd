// Image decoding: formats, EXIF orientation, colour spaces, limits checked from the header.
import fs from 'node:fs';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, sniffFormat } from '../src/vision/image-decode.ts';
import { ImageError } from '../src/vision/types.ts';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';

const px = (img: { width: number; data: Buffer }, x: number, y: number) => [...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];
async function kind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof ImageError ? e.kind : `other: ${(e as Error).message}`;
  }
}

/** A 40x20 image: left half red, right half blue. */
const redBlue = () => sharp({ create: { width: 40, height: 20, channels: 3, background: '#ff0000' } })
  .composite([{ input: { create: { width: 20, height: 20, channels: 3, background: '#0000ff' } }, left: 20, top: 0 }]);

/** Hand-written BMP (no encoder in sharp): 24-bit bottom-up or 32-bit top-down. */
function bmp(width: number, height: number, bpp: 24 | 32, pixel: (x: number, y: number) => [number, number, number], topDown = false): Buffer {
  const stride = Math.ceil((width * bpp) / 32) * 4;
  const buf = Buffer.alloc(54 + stride * height);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(topDown ? -height : height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bpp, 28);
  for (let y = 0; y < height; y++) {
    const row = 54 + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const p = row + x * (bpp / 8);
      buf[p] = b; buf[p + 1] = g; buf[p + 2] = r;
    }
  }
  return buf;
}

describe('decodeImage', () => {
  it('decodes JPEG, PNG, WebP to packed RGB', async () => {
    for (const fmt of ['jpeg', 'png', 'webp'] as const) {
      const bytes = await redBlue().toFormat(fmt, { quality: 95 }).toBuffer();
      const img = await decodeImage(bytes);
      expect(img.format).toBe(fmt);
      expect([img.width, img.height, img.data.length]).toEqual([40, 20, 40 * 20 * 3]);
      const [r, , b] = px(img, 5, 10);
      expect(r).toBeGreaterThan(200);
      expect(b).toBeLessThan(60);
      expect(px(img, 35, 10)[2]).toBeGreaterThan(200);
    }
  });

  it('applies EXIF orientation', async () => {
    // Orientation 6 = rotate 90° clockwise to display: the 40x20 image shows as 20x40 with red on top.
    const bytes = await redBlue().jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const img = await decodeImage(bytes);
    expect([img.width, img.height]).toEqual([20, 40]);
    expect(px(img, 10, 5)[0]).toBeGreaterThan(200); // red at the top
    expect(px(img, 10, 35)[2]).toBeGreaterThan(200); // blue at the bottom
  });

  it('handles grayscale, 16-bit, alpha and CMYK inputs', async () => {
    const grey = await sharp({ create: { width: 30, height: 30, channels: 3, background: '#808080' } }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const g = await decodeImage(grey);
    expect(px(g, 3, 3)).toEqual([128, 128, 128]);

    const sixteen = await sharp({ create: { width: 30, height: 30, channels: 3, background: '#ff8000' } }).png().toColourspace('rgb16').toBuffer();
    expect((await sharp(sixteen).metadata()).depth).toBe('ushort');
    const s = await decodeImage(sixteen);
    expect(px(s, 1, 1)[0]).toBeGreaterThan(250);
    expect(Math.abs(px(s, 1, 1)[1] - 128)).toBeLessThan(3);

    // Fully transparent pixels show as white, opaque ones keep their colour.
    const alpha = await sharp({ create: { width: 30, height: 30, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0 } } })
      .composite([{ input: { create: { width: 10, height: 10, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }, left: 0, top: 0 }]).png().toBuffer();
    const a = await decodeImage(alpha);
    expect(px(a, 20, 20)).toEqual([255, 255, 255]);
    expect(px(a, 5, 5)).toEqual([255, 0, 0]);

    // CMYK JPEG with a CMYK profile (as print workflows write them): back to about the same sRGB.
    const cmyk = await sharp({ create: { width: 30, height: 30, channels: 3, background: '#3366cc' } }).toColourspace('cmyk').withIccProfile('cmyk').jpeg({ quality: 100 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const c = await decodeImage(cmyk);
    // The CMYK gamut shifts it a little; the hue (blue > green > red) must survive.
    const [cr, cg, cb] = px(c, 10, 10);
    expect(cb).toBeGreaterThan(cg + 30);
    expect(cg).toBeGreaterThan(cr + 30);
  });

  it('decodes 24-bit and 32-bit BMP', async () => {
    const pat = (x: number, y: number): [number, number, number] => (x < 5 ? [255, 0, 0] : y < 3 ? [0, 255, 0] : [10, 20, 30]);
    for (const [bpp, top] of [[24, false], [32, true], [24, true]] as const) {
      const img = await decodeImage(bmp(13, 7, bpp, pat, top)); // odd width exercises row padding
      expect(img.format).toBe('bmp');
      expect([img.width, img.height]).toEqual([13, 7]);
      for (const [x, y] of [[0, 0], [4, 6], [6, 1], [12, 6]]) expect(px(img, x, y)).toEqual(pat(x, y));
    }
  });

  it('refuses GIF, unknown and corrupt data', async () => {
    const gif = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#888' } }).gif().toBuffer();
    expect(sniffFormat(gif)).toBe('gif');
    expect(await kind(decodeImage(gif))).toBe('format');
    expect(await kind(decodeImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')))).toBe('decode');
    expect(await kind(decodeImage(Buffer.alloc(0)))).toBe('decode');
    const jpg = await redBlue().jpeg().toBuffer();
    const corrupt = Buffer.concat([jpg.subarray(0, 3), Buffer.alloc(200, 0x55)]);
    expect(await kind(decodeImage(corrupt))).toBe('decode');
    expect(await kind(decodeImage(bmp(4, 4, 24, () => [0, 0, 0]).subarray(0, 60)))).toBe('decode'); // truncated BMP
  });

  it('checks limits from the header before decoding (decompression bomb)', async () => {
    // A 1x1 PNG whose header (CRC fixed) claims 100000x100000: 30 GB if it were decoded. It must be
    // refused as too large (from the header), not fail later as undecodable.
    const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();
    png.writeUInt32BE(100000, 16);
    png.writeUInt32BE(100000, 20);
    png.writeUInt32BE(zlib.crc32(png.subarray(12, 29)) >>> 0, 29);
    expect((await sharp(png, { limitInputPixels: false }).metadata()).width).toBe(100000);
    expect(await kind(decodeImage(png))).toBe('too_large_pixels');
    // The same with a limit the caller sets.
    const ok = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#000' } }).png().toBuffer();
    expect(await kind(decodeImage(ok, { maxPixels: 300 * 300 - 1 }))).toBe('too_large_pixels');
    // A forged header claiming a huge BMP is refused before any pixel is read.
    const forged = bmp(2, 2, 24, () => [0, 0, 0]);
    forged.writeInt32LE(100000, 18);
    forged.writeInt32LE(100000, 22);
    expect(await kind(decodeImage(forged))).toBe('too_large_pixels');
    // Tencent's edges: JPG long edge ≤ 4000, others ≤ 2000, short edge ≥ 64.
    const limits = { maxLongEdgeJpeg: 4000, maxLongEdge: 2000, minShortEdge: 64 };
    const wide = (fmt: 'png' | 'jpeg', w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#333' } }).toFormat(fmt).toBuffer();
    expect(await kind(decodeImage(await wide('png', 2001, 100), limits))).toBe('too_large_pixels');
    expect(await kind(decodeImage(await wide('jpeg', 2001, 100), limits))).toBe('ok');
    expect(await kind(decodeImage(await wide('jpeg', 4001, 100), limits))).toBe('too_large_pixels');
    expect(await kind(decodeImage(await wide('png', 200, 63), limits))).toBe('too_small');
  });

  describe.skipIf(!hasTestdata)('shared edge-case photos', () => {
    if (!hasTestdata) it.skip(testdataSkipReason, () => {});
    it('decodes every file in faces/edge', async () => {
      for (const f of fs.readdirSync(td('faces/edge'))) {
        const img = await decodeImage(fs.readFileSync(td('faces/edge', f)));
        const meta = await sharp(fs.readFileSync(td('faces/edge', f))).metadata();
        const rotated = (meta.orientation ?? 1) >= 5;
        expect([img.width, img.height], f).toEqual(rotated ? [meta.height, meta.width] : [meta.width, meta.height]);
        expect(img.data.length).toBe(img.width * img.height * 3);
      }
    });
  });
});
