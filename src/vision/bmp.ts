// Minimal BMP reader: libvips in sharp's prebuilt binary has no BMP loader. Handles what
// cameras and Windows tools write: uncompressed 24/32-bit, BI_BITFIELDS 16/32-bit, 8/4/1-bit
// palettes, bottom-up or top-down. RLE and other compressions are refused.
//
// Every header field is untrusted: each one that sizes a loop or an allocation (dimensions,
// bit depth, masks, palette size, pixel offset, row stride) is checked against the format and
// the file's length before any pixel is read, so the work is at most a fixed cost per byte
// of the file and every bad header ends in an ImageError('decode'), never a hang.
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

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const COMPRESSION_NAMES: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'JPEG', 5: 'PNG', 6: 'BI_ALPHABITFIELDS' };
/** Largest BMP header in use (BITMAPV5HEADER). */
const MAX_HEADER = 124;
/** Out-buffer guard for direct callers; decodeImage applies its own (smaller) pixel limit first. */
const MAX_PIXELS = 1 << 28;

function fail(message: string): never {
  throw new ImageError('decode', message);
}

export function readBmpHeader(b: Buffer): BmpHeader {
  if (b.length < 14 + 40 || b[0] !== 0x42 || b[1] !== 0x4d) fail('not a BMP file (or shorter than a BMP header)');
  const pixelOffset = b.readUInt32LE(10);
  const headerSize = b.readUInt32LE(14);
  if (headerSize < 40 || headerSize > MAX_HEADER) fail(`unsupported BMP header (size ${headerSize}); use JPG or PNG`);
  if (b.length < 14 + headerSize) fail(`the BMP file is truncated inside its ${headerSize}-byte header`);
  const width = b.readInt32LE(18);
  const rawH = b.readInt32LE(22);
  const bpp = b.readUInt16LE(28);
  const compression = b.readUInt32LE(30);
  const colors = b.readUInt32LE(46);
  let masks: BmpHeader['masks'] = null;
  if (compression === BI_BITFIELDS) {
    // After a 40-byte header the three masks follow it; larger headers hold them at the same offset.
    const at = 14 + 40;
    if (b.length < at + 12) fail('truncated BMP bit masks');
    masks = [b.readUInt32LE(at), b.readUInt32LE(at + 4), b.readUInt32LE(at + 8)];
  }
  if (width <= 0 || rawH === 0 || rawH === -2147483648) fail(`invalid BMP dimensions ${width}x${rawH}`);
  return { width, height: Math.abs(rawH), topDown: rawH < 0, bpp, compression, pixelOffset, headerSize, colors, masks };
}

/**
 * A channel's bit mask as [shift, bits]. It must be one run of 1 to 16 set bits inside the pixel's
 * bit depth. Bit arithmetic only (no loop over bits): JavaScript shifts count modulo 32, so a loop
 * shifting a mask of 0xFFFFFFFF right until it is empty never ends.
 */
export function maskShift(mask: number, bpp: number, channel: string): [number, number] {
  const m = mask >>> 0;
  const hex = `0x${m.toString(16).padStart(8, '0')}`;
  if (m === 0) fail(`the BMP ${channel} bit mask is 0`);
  if (m > 2 ** bpp - 1) fail(`the BMP ${channel} bit mask ${hex} has bits beyond the ${bpp}-bit pixel`);
  const shift = 31 - Math.clz32(m & -m); // index of the lowest set bit
  const run = m >>> shift;
  if ((run & (run + 1)) !== 0) fail(`the BMP ${channel} bit mask ${hex} is not one contiguous run of bits`);
  const bits = 32 - Math.clz32(run);
  if (bits > 16) fail(`the BMP ${channel} bit mask ${hex} is ${bits} bits wide; at most 16 are supported`);
  return [shift, bits];
}

export function decodeBmp(b: Buffer, h: BmpHeader = readBmpHeader(b)): RgbImage {
  const { width, height, bpp } = h;
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) fail(`unsupported BMP bit depth ${bpp}; use JPG or PNG`);
  if (h.compression !== BI_RGB && !(h.compression === BI_BITFIELDS && (bpp === 32 || bpp === 16))) {
    const name = COMPRESSION_NAMES[h.compression] ?? `compression ${h.compression}`;
    fail(`unsupported BMP encoding (${bpp} bits per pixel, ${name}); use uncompressed BMP, JPG or PNG`);
  }
  if (width * height > MAX_PIXELS) fail(`the BMP is ${width}x${height}, too many pixels`);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  let palette: Buffer | null = null;
  const pixelsFrom = 14 + h.headerSize + (h.compression === BI_BITFIELDS && h.headerSize === 40 ? 12 : 0);
  if (bpp <= 8) {
    if (h.colors > 1 << bpp) fail(`the BMP palette has ${h.colors} colours; a ${bpp}-bit image has at most ${1 << bpp}`);
    const n = h.colors || 1 << bpp;
    const at = 14 + h.headerSize;
    if (at + n * 4 > b.length) fail('truncated BMP palette');
    palette = b.subarray(at, at + n * 4);
  }
  // (Not checked against the palette's end: some writers give colours 0 with a shorter palette.)
  if (h.pixelOffset < pixelsFrom) fail(`the BMP pixel data offset ${h.pixelOffset} points into its header`);
  if (h.pixelOffset + stride * height > b.length) fail(`the BMP file is truncated: ${height} rows of ${stride} bytes from offset ${h.pixelOffset} need ${h.pixelOffset + stride * height} bytes, the file has ${b.length}`);
  const masks = h.masks ?? (bpp === 16 ? [0x7c00, 0x03e0, 0x001f] as [number, number, number] : null);
  const ms = masks?.map((m, c) => maskShift(m, bpp, ['red', 'green', 'blue'][c]));
  const scale = ms?.map(([, bits]) => 255 / (2 ** bits - 1));
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
        for (let c = 0; c < 3; c++) out[o + c] = Math.round(((v & masks![c]) >>> ms![c][0]) * scale![c]);
      } else {
        const bit = x * bpp;
        const byte = b[row + (bit >> 3)];
        const idx = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        const p = idx * 4;
        if (p + 2 >= palette!.length) fail(`BMP palette index ${idx} is out of range (the palette has ${palette!.length / 4} colours)`);
        out[o] = palette![p + 2]; out[o + 1] = palette![p + 1]; out[o + 2] = palette![p];
      }
    }
  }
  return { width, height, data: out };
}
