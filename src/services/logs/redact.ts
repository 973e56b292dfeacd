// What may enter a log: image payloads are replaced by their size and hash, strings by
// field (redact-string.ts), and nothing that looks like a face feature is ever written.
import crypto from 'node:crypto';
import { redactString } from './redact-string.ts';

// Deeper than any real request: below it a subtree is replaced by a marker, so a hostile body
// nested 200k deep (JSON.parse copes) cannot overflow the stack here or in JSON.stringify.
export const MAX_REDACT_DEPTH = 32;

export function redactParams(value: unknown, key = '', depth = 0): unknown {
  if (typeof value === 'string') return redactString(value, key);
  if (depth >= MAX_REDACT_DEPTH && value !== null && typeof value === 'object') return { redacted: true, nestedDeeperThan: MAX_REDACT_DEPTH };
  // Binary (multipart file parts, typed arrays such as features): size and hash only.
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
    const bytes = Buffer.from((value as ArrayBufferView).buffer, (value as ArrayBufferView).byteOffset, (value as ArrayBufferView).byteLength);
    return { redacted: true, bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
  }
  // A large file part left in the spooled body (api/protocol/multipart.ts): its size only.
  if (value && typeof value === 'object' && (value as { spooledPart?: unknown }).spooledPart === true) return { redacted: true, bytes: (value as { size: number }).size };
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
