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
  /**
   * Headers signed besides content-type and host, e.g. { 'X-TC-Action': 'DescribeInstances' } as in
   * Tencent's own signing example. The official SDKs sign none.
   */
  headers?: Record<string, string>;
}

export function utcDate(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

/** sha256('') in hex: the payload hash of a GET. */
export const EMPTY_PAYLOAD_HASH = sha256hex('');

export function tc3Signature(i: SignInput): string {
  return tc3SignatureForHash({ ...i, payloadHash: sha256hex(i.body) });
}

/** The same, for a body already hashed (hex SHA-256) while it streamed in, e.g. an upload spooled to disk. */
export function tc3SignatureForHash(i: Omit<SignInput, 'body'> & { payloadHash: string }): string {
  return tc3SignCanonical({ ...i, headers: signInputHeaders(i) });
}

/**
 * Tencent's CanonicalHeaders: names lower-cased, values trimmed, one `name:value\n` each, in
 * ascending ASCII order of the names; SignedHeaders lists the same names in the same order.
 */
export function canonicalHeaders(headers: [string, string][]): { canonical: string; signed: string } {
  const h = headers.map(([n, v]) => [n.toLowerCase(), v.trim()] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { canonical: h.map(([n, v]) => `${n}:${v}\n`).join(''), signed: h.map(([n]) => n).join(';') };
}

/** The signature over headers given as name/value pairs (canonicalised here). */
export function tc3SignCanonical(i: {
  secretKey: string; service: string; timestamp: number; headers: [string, string][]; payloadHash: string; unsignedPayload?: boolean;
  /** GET signs the query string exactly as sent (the SDKs sign the one they put in the URL) and an empty payload. */
  method?: 'POST' | 'GET'; query?: string;
}): string {
  const payloadHash = i.unsignedPayload ? sha256hex('UNSIGNED-PAYLOAD') : i.payloadHash;
  const { canonical, signed } = canonicalHeaders(i.headers);
  const canonicalRequest = [i.method ?? 'POST', '/', i.query ?? '', canonical, signed, payloadHash].join('\n');
  const date = utcDate(i.timestamp);
  const scope = `${date}/${i.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(i.timestamp), scope, sha256hex(canonicalRequest)].join('\n');
  const kDate = hmac('TC3' + i.secretKey, date);
  const kService = hmac(kDate, i.service);
  const kSigning = hmac(kService, 'tc3_request');
  return crypto.createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
}

function signInputHeaders(i: Pick<SignInput, 'contentType' | 'host' | 'headers'>): [string, string][] {
  return [['content-type', i.contentType], ['host', i.host], ...Object.entries(i.headers ?? {})];
}

export function tc3Authorization(secretId: string, i: SignInput): string {
  const sig = tc3Signature(i);
  return `TC3-HMAC-SHA256 Credential=${secretId}/${utcDate(i.timestamp)}/${i.service}/tc3_request, SignedHeaders=${canonicalHeaders(signInputHeaders(i)).signed}, Signature=${sig}`;
}

export interface ParsedAuthorization {
  secretId: string;
  date: string;
  service: string;
  /** Lower-cased, de-duplicated, in canonical (ascending) order, whatever order the client listed. */
  signedHeaders: string[];
  signature: string;
}

/** More would only be work for the verifier; Tencent's own example signs three. */
export const MAX_SIGNED_HEADERS = 16;

/** Returns null when the header is not a well-formed TC3 Authorization. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | null {
  if (!header || header.length > 2048) return null;
  const m = /^TC3-HMAC-SHA256\s+Credential=([^/\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s]+)\/tc3_request,\s*SignedHeaders=([A-Za-z0-9;_-]+),\s*Signature=([0-9a-f]{64})\s*$/.exec(header);
  if (!m) return null;
  const names = m[4].split(';').map((n) => n.toLowerCase());
  if (names.some((n) => n === '') || names.length > MAX_SIGNED_HEADERS || new Set(names).size !== names.length) return null;
  return { secretId: m[1], date: m[2], service: m[3], signedHeaders: canonicalHeaders(names.map((n) => [n, ''])).signed.split(';'), signature: m[5] };
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

/**
 * Verifies `signature` over exactly the headers the client listed in SignedHeaders (`value`
 * gives each one's value as received, '' when absent, as a body-less request without
 * Content-Type has always been verified). The SDKs sign values as sent while Tencent's
 * specification lower-cases them, so both forms are tried, each with the host with and
 * without its port: at most four HMACs.
 */
export function verifyTc3(i: {
  secretKey: string; service: string; timestamp: number; signedHeaders: string[]; value: (name: string) => string;
  payloadHash: string; unsignedPayload: boolean; signature: string; method?: 'POST' | 'GET'; query?: string;
}): boolean {
  const tried = new Set<string>();
  for (const host of hostCandidates(i.value('host'))) {
    for (const lower of [false, true]) {
      const headers = i.signedHeaders.map((n): [string, string] => {
        const v = n === 'host' ? host : i.value(n);
        return [n, lower ? v.toLowerCase() : v];
      });
      const key = JSON.stringify(headers);
      if (tried.has(key)) continue;
      tried.add(key);
      if (signaturesEqual(tc3SignCanonical({ ...i, headers }), i.signature)) return true;
    }
  }
  return false;
}
