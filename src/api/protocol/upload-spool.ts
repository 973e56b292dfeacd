// Multipart uploads are spooled to a private temp file under the data dir while they arrive,
// hashed (the TC3 signature's payload hash) and counted against the upload limit on the way,
// so a large upload never sits in memory while it streams in. The file is removed when the
// request ends, whatever the outcome (see server.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

export interface SpooledBody {
  readonly spooled: true;
  path: string;
  size: number;
  /** Hex SHA-256 of the body, as TC3 signs it. */
  sha256: string;
}

export function isSpooled(b: unknown): b is SpooledBody {
  return typeof b === 'object' && b !== null && (b as { spooled?: unknown }).spooled === true;
}

export class UploadError extends Error {
  constructor(readonly code: 'FV_UPLOAD_TOO_LARGE' | 'FV_UPLOAD_ABORTED', message: string, readonly statusCode: number) {
    super(message);
  }
}

export const uploadTooLarge = (limit: number) => new UploadError('FV_UPLOAD_TOO_LARGE', `the multipart body exceeds the upload limit of ${limit} bytes`, 413);

/**
 * Streams `payload` into a new 0600 file in `dir`. `onFile` learns the path as soon as the file
 * exists, so the caller can remove it if the request ends first. On any failure (over the
 * limit, client gone, disk error) the file is removed before the promise rejects; the request
 * stream itself is left alone (drained, not destroyed) so the error reply can still be sent.
 */
export async function spoolUpload(payload: Readable, dir: string, limit: number, onFile: (file: string) => void): Promise<SpooledBody> {
  // Synchronous, so that the listeners below are attached before the stream can end or fail
  // unseen: with an await here, a client gone meanwhile left the promise pending forever (and
  // the file created after the request's cleanup had run).
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `upload-${crypto.randomUUID()}`);
  const hash = crypto.createHash('sha256');
  let size = 0;
  return new Promise<SpooledBody>((resolve, reject) => {
    const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
    let settled = false;
    let ended = false;
    const detach = () => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', fail);
      payload.off('close', onClose);
    };
    function fail(e: Error) {
      if (settled) return;
      settled = true;
      detach();
      payload.resume(); // discard the rest, so the reply can still go out on this connection
      // Remove only once the stream has closed: before its open() finished, an unlink could
      // run first and the file would then be created after it.
      out.once('close', () => { fs.promises.rm(file, { force: true }).finally(() => reject(e)); });
      out.destroy();
    }
    function onData(chunk: Buffer) {
      size += chunk.length;
      if (size > limit) return fail(uploadTooLarge(limit));
      hash.update(chunk);
      if (!out.write(chunk)) {
        payload.pause();
        out.once('drain', () => { if (!settled) payload.resume(); });
      }
    }
    function onEnd() {
      ended = true;
      detach();
      out.end();
      out.once('close', () => {
        if (settled) return;
        settled = true;
        resolve({ spooled: true, path: file, size, sha256: hash.digest('hex') });
      });
    }
    function onClose() {
      if (!ended) fail(new UploadError('FV_UPLOAD_ABORTED', 'the client closed the connection before the upload was complete', 400));
    }
    out.once('open', () => onFile(file));
    out.on('error', (e) => fail(e));
    payload.on('data', onData);
    payload.once('end', onEnd);
    payload.once('error', fail);
    payload.once('close', onClose);
    if (payload.destroyed) onClose(); // closed before we were called: no 'close' will come
  });
}
