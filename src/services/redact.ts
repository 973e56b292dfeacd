// What may enter a log: image payloads are replaced by their size and hash, and nothing
// that looks like a face feature is ever written.
import crypto from 'node:crypto';

const PAYLOAD_KEY = /(Image|Base64|Images)$/;

export function redactParams(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (PAYLOAD_KEY.test(key) || value.length > 1024) return { redacted: true, bytes: Buffer.byteLength(value), sha256: crypto.createHash('sha256').update(value).digest('hex') };
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => redactParams(v, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactParams(v, k);
    return out;
  }
  return value;
}
