// multipart/form-data as the Tencent SDKs send it (form-data package): text fields become
// strings, file parts (a filename, or a non-text Content-Type) become Buffers. The TC3
// signature covers the raw body, so this runs only after the body was authenticated.
import { TcError } from '../../domain/errors.ts';

export function multipartBoundary(contentType: string): string | null {
  const m = /^multipart\/form-data\s*;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : null;
}

export function parseMultipart(body: Buffer, boundary: string): Record<string, string | Buffer> {
  const out: Record<string, string | Buffer> = {};
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  if (pos < 0) throw new TcError('InvalidRequest', 'the multipart body has no part with the declared boundary');
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break; // closing delimiter
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
