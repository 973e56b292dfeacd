// Stream helpers shared by the object store backends: a pass-through that counts, hashes and
// enforces a size limit, and copying a stream into a file that is removed again on failure.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ObjectTooLarge, type StreamedObject } from './blob-store.ts';

/** Counts and MD5-hashes what flows through; errors with ObjectTooLarge past `maxBytes`. */
export class Meter extends Transform {
  size = 0;
  private readonly hash = crypto.createHash('md5');
  constructor(private readonly maxBytes = Infinity) { super(); }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) return cb(new ObjectTooLarge(this.maxBytes));
    this.hash.update(chunk);
    cb(null, chunk);
  }
  result(): StreamedObject { return { size: this.size, md5: this.hash.digest('hex') }; }
}

/** Writes `source` into a new 0600 file (fsynced); on any failure the file is removed. */
export async function streamToFile(source: Readable, file: string): Promise<void> {
  try {
    const out = fs.createWriteStream(file, { mode: 0o600, flush: true });
    await pipeline(source, out);
  } catch (e) {
    await fs.promises.rm(file, { force: true });
    throw e;
  }
}
