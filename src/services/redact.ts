// What may enter a log: image payloads are replaced by their size and hash, and nothing
// that looks like a face feature is ever written.
import crypto from 'node:crypto';
import { looksLikeSecretBearingUrl, redactUrl } from './url-redact.ts';

// ImageA/ImageB (CompareFace), ModelImage, LogoImage, VideoBase64...: any image/video field.
const PAYLOAD_KEY = /(Image|Images|Base64|Image[AB]|Video|Audio)$/;
// A payload under an unexpected key: a long run of base64 characters.
const BASE64_RUN = /[A-Za-z0-9+/]{128,}/;
// Deeper than any real request: below it a subtree is replaced by a marker, so a hostile body
// nested 200k deep (JSON.parse copes) cannot overflow the stack here or in JSON.stringify.
export const MAX_REDACT_DEPTH = 32;

export function redactParams(value: unknown, key = '', depth = 0): unknown {
  if (typeof value === 'string') {
    if (PAYLOAD_KEY.test(key) || value.length > 1024 || BASE64_RUN.test(value)) return { redacted: true, bytes: Buffer.byteLength(value), sha256: crypto.createHash('sha256').update(value).digest('hex') };
    // Pre-signed Url inputs: the query is a credential.
    if (looksLikeSecretBearingUrl(value)) return redactUrl(value);
    return value;
  }
  if (depth >= MAX_REDACT_DEPTH && value !== null && typeof value === 'object') return { redacted: true, nestedDeeperThan: MAX_REDACT_DEPTH };
  // Binary (multipart file parts, typed arrays such as features): size and hash only.
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
    const bytes = Buffer.from((value as ArrayBufferView).buffer, (value as ArrayBufferView).byteOffset, (value as ArrayBufferView).byteLength);
    return { redacted: true, bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
  }
  // A long run of numbers is what a face feature looks like; it never enters a log.
  if (Array.isArray(value) && value.length > 32 && value.every((v) => typeof v === 'number')) return { redacted: true, numbers: value.length };
  if (Array.isArray(value)) return value.map((v) => redactParams(v, key, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactParams(v, k, depth + 1);
    return out;
  }
  return value;
}
