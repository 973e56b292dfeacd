// Bytes -> packed 8-bit RGB. Dimensions are read from the header and checked before any
// pixel is decoded, so a small file claiming a huge image (decompression bomb) costs nothing.
// Accepted: JPEG, PNG, BMP, WebP (Tencent's list plus WebP). GIF is refused as Tencent does;
// anything else (SVG, TIFF, HEIF, ...) is refused as undecodable rather than handed to libvips.
import { createRequire } from 'node:module';
import type { Metadata } from 'sharp';
import type SharpModule from 'sharp';
import { ImageError, type RgbImage } from './types.ts';
import { decodeBmp, readBmpHeader } from './bmp.ts';

// require, not import: sharp is CommonJS, and loading it through the ESM loader (tsx hooks)
// cost each inference worker ~0.3 s more at start.
const sharp = createRequire(import.meta.url)('sharp') as typeof SharpModule;

export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'webp';

export interface DecodedImage extends RgbImage {
  format: ImageFormat;
}

export interface DecodeLimits {
  /** Largest width*height accepted (header-checked). Default 40 megapixels. */
  maxPixels?: number;
  /** Largest long edge for JPEG (Tencent: 4000) and for other formats (Tencent: 2000). */
  maxLongEdgeJpeg?: number;
  maxLongEdge?: number;
  /** Smallest short edge (Tencent: 64). */
  minShortEdge?: number;
}

export const DEFAULT_MAX_PIXELS = 40_000_000;

// Interpreting untrusted images: one libvips thread per call keeps a request from taking every
// core, and the cache would only hold customer pixels longer than needed.
sharp.cache(false);

export function sniffFormat(bytes: Uint8Array): ImageFormat | 'gif' | null {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'gif';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  return null;
}

function checkDims(format: ImageFormat, width: number, height: number, limits: DecodeLimits): void {
  if (!(width > 0 && height > 0)) throw new ImageError('decode', 'the image header gives no valid dimensions');
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  const maxLong = format === 'jpeg' ? limits.maxLongEdgeJpeg : limits.maxLongEdge;
  if (maxLong !== undefined && long > maxLong) {
    throw new ImageError('too_large_pixels', `the image is ${width}x${height}; the long edge of a ${format === 'jpeg' ? 'JPG' : format.toUpperCase()} image may be at most ${maxLong} pixels`);
  }
  if (width * height > maxPixels) throw new ImageError('too_large_pixels', `the image is ${width}x${height}, more than ${maxPixels} pixels`);
  if (limits.minShortEdge !== undefined && short < limits.minShortEdge) {
    throw new ImageError('too_small', `the image is ${width}x${height}; the short edge must be at least ${limits.minShortEdge} pixels`);
  }
}

export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits = {}): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageError('decode', 'the image is empty');
  const format = sniffFormat(bytes);
  if (format === 'gif') throw new ImageError('format', 'GIF images are not supported; send JPG, PNG, BMP or WebP');
  if (format === null) throw new ImageError('decode', 'the data is not a JPG, PNG, BMP or WebP image');
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  if (format === 'bmp') {
    const h = readBmpHeader(buf);
    checkDims(format, h.width, h.height, limits);
    return { ...decodeBmp(buf, h), format };
  }

  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (e) {
    throw new ImageError('decode', `the image cannot be decoded: ${(e as Error).message}`);
  }
  if ((meta.pages ?? 1) > 1 && format !== 'webp') throw new ImageError('format', 'multi-page images are not supported');
  checkDims(format, meta.width ?? 0, meta.height ?? 0, limits);

  try {
    // limitInputPixels repeats the header check inside libvips, in case the header lied.
    const { data, info } = await sharp(buf, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 })
      .rotate() // EXIF orientation
      .flatten({ background: { r: 255, g: 255, b: 255 } }) // transparent PNG/WebP: as shown on white
      .toColourspace('srgb') // grey, CMYK and 16-bit inputs become 8-bit sRGB
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels after conversion`);
    return { width: info.width, height: info.height, data, format };
  } catch (e) {
    throw new ImageError('decode', `the image cannot be decoded: ${(e as Error).message}`);
  }
}
