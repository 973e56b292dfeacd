// Minimal BMP reader: libvips in sharp's prebuilt binary has no BMP loader. Handles what
// cameras and Windows tools write: uncompressed 24/32-bit, BI_BITFIELDS 32-bit, 8/4/1-bit
// palettes, bottom-up or top-down. RLE and other compressions are refused.
import { ImageError, type RgbImage } from './types.ts';

export interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bpp: number;
  compression: number;
  pixelOffset: number;
  headerSize: number;
  colors: number;
  masks: [number, number, number] | null;
}

export function readBmpHeader(b: Buffer): BmpHeader {
  if (b.length < 26 || b[0] !== 0x42 || b[1] !== 0x4d) throw new ImageError('decode', 'not a BMP file');
  const pixelOffset = b.readUInt32LE(10);
  const headerSize = b.readUInt32LE(14);
  if (headerSize < 40 || b.length < 14 + headerSize) throw new ImageError('decode', `unsupported BMP header (size ${headerSize})`);
  const width = b.readInt32LE(18);
  const rawH = b.readInt32LE(22);
  const bpp = b.readUInt16LE(28);
  const compression = b.readUInt32LE(30);
  const colors = b.readUInt32LE(46);
  let masks: BmpHeader['masks'] = null;
  if (compression === 3) {
    const at = headerSize >= 52 ? 14 + 40 : 14 + headerSize;
    if (b.length < at + 12) throw new ImageError('decode', 'truncated BMP bit masks');
    masks = [b.readUInt32LE(at), b.readUInt32LE(at + 4), b.readUInt32LE(at + 8)];
  }
  if (width <= 0 || rawH === 0 || rawH === -2147483648) throw new ImageError('decode', `invalid BMP dimensions ${width}x${rawH}`);
  return { width, height: Math.abs(rawH), topDown: rawH < 0, bpp, compression, pixelOffset, headerSize, colors, masks };
}

function maskShift(mask: number): [number, number] {
  if (mask === 0) return [0, 0];
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (((mask >>> (shift + bits)) & 1) === 1) bits++;
  return [shift, bits];
}

export function decodeBmp(b: Buffer, h: BmpHeader = readBmpHeader(b)): RgbImage {
  const { width, height, bpp } = h;
  const okCompression = h.compression === 0 || (h.compression === 3 && (bpp === 32 || bpp === 16));
  if (!okCompression || ![1, 4, 8, 16, 24, 32].includes(bpp)) {
    throw new ImageError('decode', `unsupported BMP encoding (${bpp} bits per pixel, compression ${h.compression}); use uncompressed BMP, JPG or PNG`);
  }
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (h.pixelOffset + stride * height > b.length) throw new ImageError('decode', 'the BMP file is truncated');
  let palette: Buffer | null = null;
  if (bpp <= 8) {
    const n = h.colors || 1 << bpp;
    const at = 14 + h.headerSize;
    if (at + n * 4 > b.length) throw new ImageError('decode', 'truncated BMP palette');
    palette = b.subarray(at, at + n * 4);
  }
  const masks = h.masks ?? (bpp === 16 ? [0x7c00, 0x03e0, 0x001f] as [number, number, number] : null);
  const ms = masks?.map(maskShift);
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = h.pixelOffset + (h.topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      if (bpp === 24 || (bpp === 32 && !masks)) {
        const p = row + x * (bpp >> 3);
        out[o] = b[p + 2]; out[o + 1] = b[p + 1]; out[o + 2] = b[p];
      } else if (bpp === 32 || bpp === 16) {
        const v = bpp === 32 ? b.readUInt32LE(row + x * 4) : b.readUInt16LE(row + x * 2);
        for (let c = 0; c < 3; c++) {
          const [shift, bits] = ms![c];
          const max = (1 << bits) - 1;
          out[o + c] = bits ? Math.round((((v & masks![c]) >>> shift) * 255) / max) : 0;
        }
      } else {
        const bit = x * bpp;
        const byte = b[row + (bit >> 3)];
        const idx = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        const p = idx * 4;
        if (p + 2 >= palette!.length) throw new ImageError('decode', 'BMP palette index out of range');
        out[o] = palette![p + 2]; out[o + 1] = palette![p + 1]; out[o + 2] = palette![p];
      }
    }
  }
  return { width, height, data: out };
}
