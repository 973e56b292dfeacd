// The parsers under fuzz, wrapped to take and return structured-clone data (a Buffer crosses
// a worker boundary as a plain Uint8Array) and to check the invariants of a successful result
// where they are cheap to check, so a wrong "success" fails too.
import { decodeBmp, readBmpHeader } from '../../src/vision/bmp.ts';
import { decodeImage, type DecodeLimits } from '../../src/vision/image-decode.ts';
import { decodeBase64Image, readImageInput } from '../../src/services/media/image-input.ts';
import { multipartBoundary, parseMultipart } from '../../src/api/protocol/multipart.ts';
import { parseAuthorization } from '../../src/api/protocol/tc3-signature.ts';

const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function checkRgb(img: { width: number; height: number; data: Buffer }): { width: number; height: number } {
  if (!(Number.isInteger(img.width) && img.width > 0 && Number.isInteger(img.height) && img.height > 0)) throw new Error(`decoded to invalid dimensions ${img.width}x${img.height}`);
  if (img.data.length !== img.width * img.height * 3) throw new Error(`decoded ${img.data.length} bytes for ${img.width}x${img.height}`);
  return { width: img.width, height: img.height };
}

export const FUZZ_TARGETS = {
  bmp(bytes: Uint8Array) {
    const b = buf(bytes);
    return checkRgb(decodeBmp(b, readBmpHeader(b)));
  },
  async decodeImage(bytes: Uint8Array, limits: DecodeLimits) {
    const img = await decodeImage(buf(bytes), limits);
    const maxPixels = limits.maxPixels ?? Infinity;
    if (img.width * img.height > maxPixels) throw new Error(`decoded ${img.width}x${img.height}, over the ${maxPixels} pixel limit`);
    return { ...checkRgb(img), format: img.format };
  },
  base64(text: string) {
    return Uint8Array.from(decodeBase64Image(text, 'Image'));
  },
  async imageInput(params: Record<string, unknown>) {
    // No Url here (that would fetch): Url values given are non-strings or empty, which must be
    // refused or skipped before any network access.
    const src = await readImageInput(params, { allowList: [], timeoutMs: 1 });
    return { from: src.from, bytes: Uint8Array.from(src.bytes) };
  },
  multipartBoundary(contentType: string) {
    return multipartBoundary(contentType);
  },
  multipart(body: Uint8Array, boundary: string) {
    const out: Record<string, { text: string } | { file: Uint8Array }> = {};
    for (const [k, v] of Object.entries(parseMultipart(buf(body), boundary))) out[k] = Buffer.isBuffer(v) ? { file: Uint8Array.from(v) } : { text: v };
    return out;
  },
  parseAuthorization(header: string) {
    return parseAuthorization(header);
  },
};

export type FuzzTargetName = keyof typeof FUZZ_TARGETS;
