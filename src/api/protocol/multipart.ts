// multipart/form-data as the Tencent SDKs send it (form-data package): text fields become
// strings, file parts (a filename, or a non-text Content-Type) become Buffers. The TC3
// signature covers the raw body, so this runs only after the body was authenticated.
import fs from 'node:fs';
import { TcError } from '../../domain/errors.ts';

export function multipartBoundary(contentType: string): string | null {
  const m = /^multipart\/form-data\s*;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : null;
}

/**
 * No action takes more than a few dozen fields; a body of hundreds of thousands of tiny parts
 * (50 MB allows ~700k) would only hold the thread.
 */
export const MAX_MULTIPART_PARTS = 1000;
const tooManyParts = () => new TcError('InvalidRequest', `the multipart body has more than ${MAX_MULTIPART_PARTS} parts`);

export function parseMultipart(body: Buffer, boundary: string): Record<string, string | Buffer> {
  const out: Record<string, string | Buffer> = {};
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  if (pos < 0) throw new TcError('InvalidRequest', 'the multipart body has no part with the declared boundary');
  for (let parts = 0; ; parts++) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break; // closing delimiter
    if (parts === MAX_MULTIPART_PARTS) throw tooManyParts();
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') throw new TcError('InvalidRequest', 'malformed multipart delimiter');
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw new TcError('InvalidRequest', 'malformed multipart part headers');
    const headers = body.subarray(pos, headerEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headerEnd + 4);
    if (next < 0) throw new TcError('InvalidRequest', 'multipart part is not terminated');
    const content = body.subarray(headerEnd + 4, next);
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
    if (!name) throw new TcError('InvalidRequest', 'a multipart part has no field name');
    if (name in out) throw new TcError('InvalidParameter', `${name}: given more than once`);
    // Read the type whole: a negative look-ahead after `\s*` backtracked past the space, so
    // `Content-Type: text/plain` (as curl and browsers may send a text field) made a file.
    const type = /^content-type:([^\r\n]*)/im.exec(headers)?.[1].trim();
    const isFile = /\bfilename="/i.test(headers) || (!!type && !/^text\//i.test(type));
    out[name] = isFile ? Buffer.from(content) : content.toString('utf8');
    pos = next + 2;
  }
  return out;
}

/** A file part left in the spooled body file (a video up to 1 GB is never read into memory). */
export interface SpooledPart { readonly spooledPart: true; file: string; offset: number; size: number }

export function isSpooledPart(v: unknown): v is SpooledPart {
  return typeof v === 'object' && v !== null && (v as { spooledPart?: unknown }).spooledPart === true;
}

/**
 * parseMultipart over a spooled body file, reading it in 1 MiB steps: the same fields and
 * errors, but a file part over `inlineMax` bytes stays in the file as a SpooledPart (valid while
 * the request lives: the spool file is removed when it ends).
 */
export async function parseMultipartFile(file: string, boundary: string, inlineMax = 1 << 20): Promise<Record<string, string | Buffer | SpooledPart>> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const delim = Buffer.from(`--${boundary}`);
    const crlfDelim = Buffer.from(`\r\n--${boundary}`);
    const { first, ends } = await findDelimiters(fh, size, delim, crlfDelim);
    // Reads go through one 1 MiB window: a body of many small parts would otherwise cost a file
    // read (and a 64 KiB header read) per part.
    const WINDOW = 1 << 20;
    let win = Buffer.alloc(0), winAt = 0;
    const read = async (at: number, n: number) => {
      const len = Math.max(0, Math.min(n, size - at));
      if (at < winAt || at + len > winAt + win.length) {
        if (len > WINDOW) { const b = Buffer.alloc(len); await fh.read(b, 0, len, at); return b; }
        win = Buffer.alloc(Math.min(WINDOW, size - at));
        winAt = at;
        await fh.read(win, 0, win.length, at);
      }
      return win.subarray(at - winAt, at - winAt + len); // a window is never written again once read
    };
    // The first delimiter at or after an offset, by bisection (`ends` is ascending).
    const endFrom = (min: number): number | undefined => {
      let lo = 0, hi = ends.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (ends[mid] < min) lo = mid + 1; else hi = mid; }
      return ends[lo];
    };
    const out: Record<string, string | Buffer | SpooledPart> = {};
    if (first < 0) throw new TcError('InvalidRequest', 'the multipart body has no part with the declared boundary');
    let pos = first;
    for (let parts = 0; ; parts++) {
      pos += delim.length;
      const two = (await read(pos, 2)).toString();
      if (two === '--') break;
      if (parts === MAX_MULTIPART_PARTS) throw tooManyParts();
      if (two !== '\r\n') throw new TcError('InvalidRequest', 'malformed multipart delimiter');
      pos += 2;
      const head = await read(pos, 64 * 1024);
      const headerLen = head.indexOf('\r\n\r\n');
      if (headerLen < 0) throw new TcError('InvalidRequest', 'malformed multipart part headers');
      const headerEnd = pos + headerLen;
      const next = endFrom(headerEnd + 4);
      if (next === undefined) throw new TcError('InvalidRequest', 'multipart part is not terminated');
      const headers = head.subarray(0, headerLen).toString('utf8');
      const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
      if (!name) throw new TcError('InvalidRequest', 'a multipart part has no field name');
      if (name in out) throw new TcError('InvalidParameter', `${name}: given more than once`);
      const type = /^content-type:([^\r\n]*)/im.exec(headers)?.[1].trim();
      const isFile = /\bfilename="/i.test(headers) || (!!type && !/^text\//i.test(type));
      const start = headerEnd + 4, length = next - start;
      if (!isFile) out[name] = (await read(start, length)).toString('utf8');
      else out[name] = length <= inlineMax ? await read(start, length) : { spooledPart: true, file, offset: start, size: length };
      pos = next + 2;
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** The first `--boundary` anywhere, and the offset of every `\r\n--boundary` (ascending). */
async function findDelimiters(fh: fs.promises.FileHandle, size: number, delim: Buffer, crlfDelim: Buffer): Promise<{ first: number; ends: number[] }> {
  const step = 1 << 20;
  let first = -1;
  const ends: number[] = [];
  let carry = Buffer.alloc(0);
  for (let at = 0; at < size; at += step) {
    const chunk = Buffer.alloc(Math.min(step, size - at));
    await fh.read(chunk, 0, chunk.length, at);
    const win = Buffer.concat([carry, chunk]);
    const base = at - carry.length;
    if (first < 0) { const i = win.indexOf(delim); if (i >= 0) first = base + i; }
    for (let i = win.indexOf(crlfDelim); i >= 0; i = win.indexOf(crlfDelim, i + 1)) {
      if (!ends.length || base + i > ends[ends.length - 1]) ends.push(base + i);
    }
    // Keep enough of the tail that a delimiter across two steps is found whole (and not twice).
    carry = win.subarray(Math.max(0, win.length - (crlfDelim.length - 1)));
  }
  return { first, ends };
}
