// TC3-HMAC-SHA256 as the Tencent Cloud SDKs compute it (Node: common/sign.js; Go: common/client.go).
// Both signing (for tests and tools) and verification live here so they cannot disagree.
import crypto from 'node:crypto';

const sha256hex = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, msg: string) => crypto.createHmac('sha256', key).update(msg, 'utf8').digest();

export interface SignInput {
  secretKey: string;
  service: string;
  timestamp: number; // unix seconds
  contentType: string;
  host: string;
  body: Buffer | string;
  unsignedPayload?: boolean;
}

export function utcDate(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

export function tc3Signature(i: SignInput): string {
  return tc3SignatureForHash({ ...i, payloadHash: sha256hex(i.body) });
}

/** The same, for a body already hashed (hex SHA-256) while it streamed in, e.g. an upload spooled to disk. */
export function tc3SignatureForHash(i: Omit<SignInput, 'body'> & { payloadHash: string }): string {
  const payloadHash = i.unsignedPayload ? sha256hex('UNSIGNED-PAYLOAD') : i.payloadHash;
  const canonicalRequest = ['POST', '/', '', `content-type:${i.contentType}\nhost:${i.host}\n`, 'content-type;host', payloadHash].join('\n');
  const date = utcDate(i.timestamp);
  const scope = `${date}/${i.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(i.timestamp), scope, sha256hex(canonicalRequest)].join('\n');
  const kDate = hmac('TC3' + i.secretKey, date);
  const kService = hmac(kDate, i.service);
  const kSigning = hmac(kService, 'tc3_request');
  return crypto.createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
}

export function tc3Authorization(secretId: string, i: SignInput): string {
  const sig = tc3Signature(i);
  return `TC3-HMAC-SHA256 Credential=${secretId}/${utcDate(i.timestamp)}/${i.service}/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`;
}

export interface ParsedAuthorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string;
  signature: string;
}

/** Returns null when the header is not a well-formed TC3 Authorization. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | null {
  if (!header) return null;
  const m = /^TC3-HMAC-SHA256\s+Credential=([^/\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s]+)\/tc3_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})\s*$/.exec(header);
  if (!m) return null;
  return { secretId: m[1], date: m[2], service: m[3], signedHeaders: m[4], signature: m[5] };
}

/**
 * Node's SDK signs URL.hostname (no port) while Go and Python sign the endpoint as given
 * (with port), so a server behind any of them must accept both forms.
 */
export function hostCandidates(hostHeader: string): string[] {
  const out = [hostHeader];
  const m = /^(\[[^\]]+\]|[^:]+):\d+$/.exec(hostHeader);
  if (m) out.push(m[1]);
  return out;
}

export function signaturesEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length === bb.length && crypto.timingSafeEqual(ba, bb);
}
