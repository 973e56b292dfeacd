// Tencent's image input (Image base64 or Url; Url wins) turned into bytes, with Tencent's limits
// and error codes. Shared by recognition, the face library and fusion.
//
// Url fetching is SSRF-safe: only http(s); the host is resolved first and every address is
// checked against the special-purpose ranges (address-ranges.ts: private, loopback, link-local,
// CGNAT, multicast, metadata, tunnels...) unless allow-listed by FACEVAULT_URL_ALLOWLIST; the
// connection goes to the checked address (no second lookup an attacker could re-bind); redirects
// are followed by hand and re-checked. Refusals name the URL's host, never what it resolved to
// (that would map internal DNS for the caller), and never the URL's query (signatures).
import dns from 'node:dns/promises';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { TcError, Errors } from '../../domain/errors.ts';
import { ImageError, type ImageErrorKind } from '../../vision/types.ts';
import type { DecodeLimits } from '../../vision/image-decode.ts';
import { isPublicAddress } from './address-ranges.ts';
import { redactUrl } from '../logs/url-redact.ts';

export const MAX_IMAGE_BASE64 = 5 * 1024 * 1024;
/** Tencent: the 5 MB applies to the downloaded image after base64, i.e. 3.75 MB of bytes. */
export const MAX_URL_BYTES = Math.floor((MAX_IMAGE_BASE64 * 3) / 4);
export const TENCENT_IMAGE_LIMITS: DecodeLimits = { maxLongEdgeJpeg: 4000, maxLongEdge: 2000, minShortEdge: 64 };

export interface UrlPolicy {
  allowList: string[]; // host[:port] or CIDR
  timeoutMs?: number; // whole download, default 10 s
  maxBytes?: number;
  maxRedirects?: number;
}

export interface ImageSource {
  bytes: Buffer;
  from: 'base64' | 'url';
}

const IMAGE_ERROR_CODE: Record<ImageErrorKind, string> = {
  decode: 'FailedOperation.ImageDecodeFailed',
  format: 'FailedOperation.ImageDecodeFailed',
  too_large_bytes: 'FailedOperation.ImageSizeExceed',
  too_large_pixels: 'FailedOperation.ImageResolutionExceed',
  too_small: 'FailedOperation.ImageResolutionTooSmall',
  // Past the worker deadline (a hostile or pathological image): Tencent's per-action timeout code.
  timeout: 'FailedOperation.RequestTimeout',
};

/** Maps the engine's ImageError to Tencent's code, naming the field; other errors pass through. */
export function imageErrorToTc(e: unknown, field: string): unknown {
  if (e instanceof ImageError) return new TcError(IMAGE_ERROR_CODE[e.kind], `${field}: ${e.message}`);
  return e;
}

/**
 * Reads `Image`/`Url` (names configurable: ImageA/UrlA ...). Url wins when non-empty.
 * Throws ImageEmpty when neither is given.
 */
export async function readImageInput(params: Record<string, unknown>, policy: UrlPolicy, fields: { image?: string; url?: string } = {}): Promise<ImageSource> {
  const imageField = fields.image ?? 'Image';
  const urlField = fields.url ?? 'Url';
  const url = params[urlField];
  const image = params[imageField];
  if (url !== undefined && url !== null && url !== '') {
    if (typeof url !== 'string') throw Errors.invalidParameter(urlField, 'must be a string');
    return { bytes: await fetchImage(url, policy, urlField), from: 'url' };
  }
  if (image === undefined || image === null || image === '') {
    throw new TcError('InvalidParameterValue.ImageEmpty', `${imageField} or ${urlField} is required (the image is empty)`);
  }
  if (typeof image !== 'string') throw Errors.invalidParameter(imageField, 'must be a base64 string');
  return { bytes: decodeBase64Image(image, imageField), from: 'base64' };
}

export function decodeBase64Image(b64: string, field: string): Buffer {
  if (b64.length > MAX_IMAGE_BASE64) throw new TcError('FailedOperation.ImageSizeExceed', `${field}: the base64 data is ${b64.length} bytes; at most 5 MB (${MAX_IMAGE_BASE64}) is accepted`);
  // Some clients send a data URI; the payload after the comma is the base64.
  const body = b64.startsWith('data:') ? b64.slice(b64.indexOf(',') + 1) : b64;
  const clean = body.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean) || clean.length % 4 === 1) {
    throw new TcError('FailedOperation.ImageDecodeFailed', `${field}: the data is not valid base64`);
  }
  const bytes = Buffer.from(clean, 'base64');
  if (bytes.length === 0) throw new TcError('InvalidParameterValue.ImageEmpty', `${field}: the image is empty`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// URL fetching

// The address table lives in address-ranges.ts (IANA special-purpose registries).
export { isPublicAddress };

/** An allow-list entry: CIDR (a.b.c.d/n, v6/n), bare IP, or host[:port]. */
export function isAllowListed(allowList: string[], host: string, port: number, ip: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  for (const raw of allowList) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && net.isIP(cidr[1])) {
      const fam = net.isIP(cidr[1]) === 4 ? 'ipv4' : 'ipv6';
      const bl = new net.BlockList();
      bl.addSubnet(cidr[1], Number(cidr[2]), fam);
      if (net.isIP(ip) === (fam === 'ipv4' ? 4 : 6) && bl.check(ip, fam)) return true;
      continue;
    }
    // host[:port]; [v6]:port; bare v6 address
    let eh = entry, ep: number | null = null;
    const v6port = /^\[(.+)\]:(\d+)$/.exec(entry);
    if (v6port) { eh = v6port[1]; ep = Number(v6port[2]); }
    else if (!net.isIPv6(entry)) {
      const hp = /^(.+):(\d+)$/.exec(entry);
      if (hp) { eh = hp[1]; ep = Number(hp[2]); }
    }
    eh = eh.replace(/^\[|\]$/g, '');
    if ((eh === h || eh === ip) && (ep === null || ep === port)) return true;
  }
  return false;
}

function downloadError(field: string, why: string): TcError {
  return new TcError('FailedOperation.ImageDownloadError', `${field}: the image could not be downloaded: ${why}`);
}

export async function fetchImage(rawUrl: string, policy: UrlPolicy, field = 'Url'): Promise<Buffer> {
  return (await fetchTo(rawUrl, policy, field, null)) as Buffer;
}

/**
 * fetchImage into a file (created 0600) instead of memory, for downloads up to 1 GB (template
 * videos); resolves with the size. The file is removed again when the download fails.
 */
export async function fetchToFile(rawUrl: string, policy: UrlPolicy, file: string, field = 'Url'): Promise<number> {
  try {
    return (await fetchTo(rawUrl, policy, field, file)) as number;
  } catch (e) {
    await fs.promises.rm(file, { force: true });
    throw e;
  }
}

async function fetchTo(rawUrl: string, policy: UrlPolicy, field: string, file: string | null): Promise<Buffer | number> {
  const deadline = Date.now() + (policy.timeoutMs ?? 10_000);
  const maxBytes = policy.maxBytes ?? MAX_URL_BYTES;
  let current = rawUrl;
  for (let hop = 0; hop <= (policy.maxRedirects ?? 3); hop++) {
    const { u, target } = await checkedTarget(current, policy, field);
    const res = await request(u, target, deadline, maxBytes, field, file);
    if (res.status >= 300 && res.status < 400 && res.location) {
      current = new URL(res.location, u).href;
      continue;
    }
    if (res.status !== 200) throw downloadError(field, `the server answered HTTP ${res.status}`);
    if (res.size === 0) throw new TcError('InvalidParameterValue.ImageEmpty', `${field}: the downloaded image is empty`);
    return file === null ? res.body : res.size;
  }
  throw downloadError(field, 'too many redirects');
}

/** Parses and checks a URL for an outgoing request: http(s), no credentials, every address public (or allow-listed). */
async function checkedTarget(current: string, policy: UrlPolicy, field: string): Promise<{ u: URL; target: { address: string; family: number } }> {
  let u: URL;
  try {
    u = new URL(current);
  } catch {
    throw new TcError('InvalidParameterValue.UrlIllegal', `${field}: "${redactUrl(current).slice(0, 200)}" is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TcError('InvalidParameterValue.UrlIllegal', `${field}: only http and https URLs are accepted`);
  if (u.username || u.password) throw new TcError('InvalidParameterValue.UrlIllegal', `${field}: URLs with credentials are not accepted`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  let addrs: { address: string; family: number }[];
  try {
    addrs = net.isIP(host) ? [{ address: host, family: net.isIP(host) }] : await dns.lookup(host, { all: true, verbatim: true });
  } catch (e) {
    throw downloadError(field, `host ${host} could not be resolved (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!addrs.length) throw downloadError(field, `host ${host} has no address`);
  // Every address must pass: otherwise a host with one public and one private record could be
  // steered to the private one.
  for (const a of addrs) {
    if (!isPublicAddress(a.address) && !isAllowListed(policy.allowList, host, port, a.address)) {
      throw downloadError(field, `host ${host} is or resolves to an address that is not public (private, loopback, link-local, reserved or a tunnel), which is refused (allow it with FACEVAULT_URL_ALLOWLIST)`);
    }
  }
  return { u, target: addrs[0] };
}

/**
 * Sends a body (PUT a result to a caller's pre-signed URL, POST a job callback) through the same
 * address checks as fetchImage. Redirects are not followed (a pre-signed PUT never redirects, and a
 * redirected POST would resend the body elsewhere). Resolves with the HTTP status.
 */
export async function sendToUrl(rawUrl: string, policy: UrlPolicy, o: { method: 'PUT' | 'POST'; body: Buffer | { file: string }; headers: Record<string, string> }, field: string): Promise<number> {
  const { u, target } = await checkedTarget(rawUrl, policy, field);
  // A file body (a result video) is streamed from disk, never read into memory.
  const length = Buffer.isBuffer(o.body) ? o.body.length : (await fs.promises.stat(o.body.file)).size;
  return new Promise((resolve, reject) => {
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, {
      method: o.method,
      headers: { 'user-agent': 'facevault', 'content-length': String(length), ...o.headers },
      lookup: ((_h: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
        if (opts?.all) cb(null, [{ address: target.address, family: target.family }]);
        else cb(null, target.address, target.family);
      }) as unknown as net.LookupFunction,
      agent: false,
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); res.on('error', (e) => reject(downloadError(field, connectionFailure(e)))); });
    const timer = setTimeout(() => { req.destroy(); reject(downloadError(field, 'timed out')); }, policy.timeoutMs ?? 60_000);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => reject(downloadError(field, connectionFailure(e))));
    if (Buffer.isBuffer(o.body)) req.end(o.body);
    else {
      const src = fs.createReadStream(o.body.file);
      src.on('error', (e) => { req.destroy(); reject(e); });
      src.pipe(req);
    }
  });
}

/** One GET; the body goes to memory, or to `file` when given (written as it arrives, with backpressure). */
function request(u: URL, target: { address: string; family: number }, deadline: number, maxBytes: number, field: string, file: string | null): Promise<{ status: number; location?: string; body: Buffer; size: number }> {
  return new Promise((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(downloadError(field, 'timed out'));
    // Set when the size limit stopped the download: the connection errors that follow are ours.
    let overLimit = false;
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, {
      method: 'GET',
      headers: { 'user-agent': 'facevault', accept: 'image/*' },
      // Pin the connection to the address we checked; TLS still verifies the hostname.
      lookup: ((_h: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
        if (opts?.all) cb(null, [{ address: target.address, family: target.family }]);
        else cb(null, target.address, target.family);
      }) as unknown as net.LookupFunction,
      agent: false,
    }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.resume();
        resolve({ status, location: res.headers.location, body: Buffer.alloc(0), size: 0 });
        return;
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > maxBytes) {
        req.destroy();
        reject(new TcError('FailedOperation.ImageSizeExceed', `${field}: the image is ${declared} bytes; at most ${maxBytes} bytes (5 MB as base64) are accepted`));
        return;
      }
      if (status !== 200) {
        // Refused below by its status: the body is not wanted (and may be large).
        res.resume();
        res.on('end', () => resolve({ status, body: Buffer.alloc(0), size: 0 }));
        return;
      }
      const chunks: Buffer[] = [];
      let n = 0;
      const out = file !== null ? fs.createWriteStream(file, { mode: 0o600 }) : null;
      out?.on('error', (e) => { if (overLimit) return; req.destroy(); reject(e); });
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (n > maxBytes) {
          if (overLimit) return;
          overLimit = true;
          req.destroy();
          const e = new TcError('FailedOperation.ImageSizeExceed', `${field}: the image exceeds ${maxBytes} bytes (5 MB as base64)`);
          // Rejected once the file is closed, so the caller's removal cannot run before its open.
          if (out) { out.once('close', () => reject(e)); out.destroy(); } else reject(e);
          return;
        }
        if (!out) chunks.push(c);
        else if (!out.write(c)) { res.pause(); out.once('drain', () => res.resume()); }
      });
      res.on('end', () => {
        if (!out) return resolve({ status, body: Buffer.concat(chunks), size: n });
        out.end(() => resolve({ status, body: Buffer.alloc(0), size: n }));
      });
      res.on('error', (e) => { if (!overLimit) reject(downloadError(field, connectionFailure(e))); });
    });
    const timer = setTimeout(() => { req.destroy(); reject(downloadError(field, 'timed out')); }, remaining);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => { if (!overLimit) reject(downloadError(field, connectionFailure(e))); });
    req.end();
  });
}

/** Socket errors name the address connected to ("connect ECONNREFUSED 10.1.2.3:80"): say only the code. */
function connectionFailure(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  return `the connection failed (${code ?? 'network error'})`;
}
