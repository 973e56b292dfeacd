// Local-directory object store. Writes are atomic (temp file, fsync, rename, fsync dir) so a
// crash never leaves a half-written object under its real name; streamed writes the same way.
import fs from 'node:fs/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertKey, type BlobStore, type PutStreamOptions, type StreamedObject } from './blob-store.ts';
import { Meter, streamToFile } from './blob-stream.ts';

export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;
  constructor(private readonly root: string) {}

  private file(key: string) {
    assertKey(key);
    return path.join(this.root, key);
  }

  async init(): Promise<this> {
    await fs.mkdir(path.join(this.root, '.tmp'), { recursive: true });
    // Leftovers of writes interrupted by a crash are never visible; clear them.
    for (const f of await fs.readdir(path.join(this.root, '.tmp'))) await fs.rm(path.join(this.root, '.tmp', f), { force: true });
    return this;
  }

  async put(key: string, data: Buffer): Promise<void> {
    await this.atomicWrite(key, async (tmp) => {
      const fh = await fs.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }

  async putStream(key: string, source: Readable, o: PutStreamOptions = {}): Promise<StreamedObject> {
    const meter = new Meter(o.maxBytes);
    try {
      // flush: the stream fsyncs before it closes (what put's fh.sync() does).
      await this.atomicWrite(key, (tmp) => pipeline(source, meter, createWriteStream(tmp, { mode: 0o600, flush: true })));
    } finally {
      // A refused or failed stream is not read to its end: release its source (socket, file).
      if (!source.readableEnded) source.destroy();
    }
    return meter.result();
  }

  /** The content type is not kept by a directory (the rows that name objects carry it). */
  putFile(key: string, file: string, _contentType?: string): Promise<StreamedObject> {
    return this.putStream(key, createReadStream(file));
  }

  /** `write` fills (and fsyncs) a temp file, renamed over `key` and the directory fsynced; a failure leaves nothing. */
  private async atomicWrite(key: string, write: (tmp: string) => Promise<unknown>): Promise<void> {
    const target = this.file(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = path.join(this.root, '.tmp', crypto.randomUUID());
    try {
      await write(tmp);
      await fs.rename(tmp, target);
    } catch (e) {
      // A failed write (disk full, I/O error, a cut stream) or rename must not leave its partial copy behind.
      await fs.rm(tmp, { force: true });
      throw e;
    }
    const dir = await fs.open(path.dirname(target), 'r');
    try { await dir.sync(); } finally { await dir.close(); }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await fs.readFile(this.file(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async getStream(key: string): Promise<Readable | null> {
    // Opened first, so a missing object is null here rather than an error on the stream later.
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(this.file(key), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return fh.createReadStream();
  }

  async getToFile(key: string, file: string): Promise<boolean> {
    const src = await this.getStream(key);
    if (!src) return false;
    await streamToFile(src, file);
    return true;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fs.access(this.file(key));
      return true;
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, rel: string) => {
      let entries;
      try { entries = await fs.readdir(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries) {
        if (rel === '' && e.name === '.tmp') continue;
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(path.join(dir, e.name), r);
        else if (r.startsWith(prefix)) out.push(r);
      }
    };
    await walk(this.root, '');
    return out.sort();
  }

  async listModified(prefix: string): Promise<{ key: string; modifiedAt: number }[]> {
    const out: { key: string; modifiedAt: number }[] = [];
    for (const key of await this.list(prefix)) {
      try { out.push({ key, modifiedAt: (await fs.stat(path.join(this.root, key))).mtimeMs }); } catch { /* deleted meanwhile */ }
    }
    return out;
  }

  async ping(): Promise<void> {
    await fs.access(this.root, fs.constants.W_OK);
  }

  async close(): Promise<void> {}
}
