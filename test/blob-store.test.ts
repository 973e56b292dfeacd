// One suite for every BlobStore backend: the local directory and S3 (against s3rver, a local
// S3-compatible server started here on a loopback port).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalBlobStore } from '../src/store/blobs/blob-local.ts';
import { S3BlobStore } from '../src/store/blobs/blob-s3.ts';
import type { BlobStore } from '../src/store/blobs/blob-store.ts';
import { tempDir } from './helpers/server.ts';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { ObjectTooLarge } from '../src/store/blobs/blob-store.ts';

let s3server: any;
let s3endpoint = '';
beforeAll(async () => {
  s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: tempDir('s3rver-') });
  const { port } = await s3server.run();
  s3endpoint = `http://127.0.0.1:${port}`;
  const c = new S3Client({ region: 'us-east-1', endpoint: s3endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await c.send(new CreateBucketCommand({ Bucket: 'facevault-test' }));
  c.destroy();
});
afterAll(async () => { await s3server?.close(); });

// 5 MiB parts (S3's minimum), so the streamed tests below cross several part boundaries.
const s3 = (o: { endpoint?: string; bucket?: string } = {}) => new S3BlobStore({ bucket: o.bucket ?? 'facevault-test', prefix: `run-${Date.now()}`, endpoint: o.endpoint ?? s3endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true, partBytes: 5 << 20 });

/** `total` deterministic bytes in 64 KiB chunks, made as they are read (never one buffer); fails after `failAt` bytes when given. */
function generated(total: number, seed: number, failAt?: number): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (failAt !== undefined && off >= failAt) { this.destroy(new Error('source cut')); return; }
      if (off >= total) { this.push(null); return; }
      const n = Math.min(65536, total - off);
      // xorshift32 keyed by seed and offset: cheap, and no two streams or chunks alike.
      const words = new Uint32Array(Math.ceil(n / 4));
      let x = (seed * 0x9e3779b9) ^ (off + 1);
      for (let i = 0; i < words.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; words[i] = x >>> 0; }
      const b = Buffer.from(words.buffer, 0, n);
      off += n;
      this.push(b);
    },
  });
}
const md5Of = async (r: Readable) => { const h = crypto.createHash('md5'); for await (const c of r) h.update(c as Buffer); return h.digest('hex'); };

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const backends: { name: string; make: () => Promise<BlobStore>; broken: () => Promise<{ what: string; store: BlobStore }[]> }[] = [
  {
    name: 'local',
    make: async () => new LocalBlobStore(tempDir()).init(),
    broken: async () => {
      const dir = tempDir();
      const store = await new LocalBlobStore(dir).init();
      fs.rmSync(dir, { recursive: true, force: true });
      return [{ what: 'its directory removed', store }];
    },
  },
  {
    name: 's3',
    make: async () => s3(),
    broken: async () => [
      { what: 'a closed port', store: s3({ endpoint: `http://127.0.0.1:${await closedPort()}` }) },
      { what: 'a bucket that does not exist', store: s3({ bucket: 'no-such-bucket' }) },
    ],
  },
];

for (const b of backends) {
  describe(`blob store: ${b.name}`, () => {
    let store: BlobStore;
    beforeAll(async () => { store = await b.make(); });

    it('put/get/exists/delete round-trip bytes exactly', async () => {
      const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
      await store.put('apps/1/materials/mt_1.jpg', data, 'image/jpeg');
      expect(await store.exists('apps/1/materials/mt_1.jpg')).toBe(true);
      expect((await store.get('apps/1/materials/mt_1.jpg'))!.equals(data)).toBe(true);
      await store.delete('apps/1/materials/mt_1.jpg');
      expect(await store.exists('apps/1/materials/mt_1.jpg')).toBe(false);
      expect(await store.get('apps/1/materials/mt_1.jpg')).toBeNull();
      await store.delete('apps/1/materials/mt_1.jpg'); // idempotent
    });

    it('overwrites and lists by prefix (atomic replacement: see below)', async () => {
      await store.put('apps/2/a', Buffer.from('one'));
      await store.put('apps/2/a', Buffer.from('two'));
      await store.put('apps/2/b/c', Buffer.from('x'));
      await store.put('apps/3/a', Buffer.from('y'));
      expect((await store.get('apps/2/a'))!.toString()).toBe('two');
      expect(await store.list('apps/2/')).toEqual(['apps/2/a', 'apps/2/b/c']);
    });

    it('streams: putStream across parts, getStream and getToFile give the same bytes; putFile', async () => {
      const size = 13 * 1024 * 1024 + 12345; // three 5 MiB parts on S3, the last one short
      const put = await store.putStream('video/1/results/big.mp4', generated(size, 7), { contentType: 'video/mp4' });
      const want = await md5Of(generated(size, 7));
      expect(put).toEqual({ size, md5: want });
      expect(await md5Of((await store.getStream('video/1/results/big.mp4'))!)).toBe(want);
      const dir = tempDir();
      const file = path.join(dir, 'copy.mp4');
      expect(await store.getToFile('video/1/results/big.mp4', file)).toBe(true);
      expect(fs.statSync(file).size).toBe(size);
      expect(await md5Of(fs.createReadStream(file))).toBe(want);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      // A small stream (one PUT on S3) and putFile of the copy.
      expect(await store.putStream('video/1/small', Readable.from([Buffer.from('ab'), Buffer.from('c')]))).toEqual({ size: 3, md5: crypto.createHash('md5').update('abc').digest('hex') });
      expect((await store.get('video/1/small'))!.toString()).toBe('abc');
      expect((await store.putFile('video/1/again.mp4', file, 'video/mp4')).md5).toBe(want);
      expect(await md5Of((await store.getStream('video/1/again.mp4'))!)).toBe(want);
      // Missing objects: null / false, and no file is created.
      expect(await store.getStream('video/1/none')).toBeNull();
      expect(await store.getToFile('video/1/none', path.join(dir, 'none'))).toBe(false);
      expect(fs.existsSync(path.join(dir, 'none'))).toBe(false);
    });

    it('a stream past maxBytes or cut midway stores nothing and keeps the old object', async () => {
      await store.put('video/2/t.mp4', Buffer.from('old'));
      await expect(store.putStream('video/2/t.mp4', generated(12 << 20, 1), { maxBytes: 11 << 20 })).rejects.toBeInstanceOf(ObjectTooLarge);
      await expect(store.putStream('video/2/t.mp4', generated(12 << 20, 2, 11 << 20))).rejects.toThrow(/source cut/);
      await expect(store.putStream('video/2/new.mp4', generated(12 << 20, 3, 6 << 20))).rejects.toThrow(/source cut/);
      expect((await store.get('video/2/t.mp4'))!.toString()).toBe('old');
      expect(await store.list('video/2/')).toEqual(['video/2/t.mp4']);
      // On S3 the failed uploads were also aborted; s3rver implements neither AbortMultipartUpload
      // nor ListMultipartUploads, so that part is not observable here.
    });

    it('refuses keys that could escape the store', async () => {
      for (const k of ['../x', '/abs', 'a/../../b', 'a//', '']) await expect(store.put(k, Buffer.from('x'))).rejects.toThrow(/invalid object key/);
    });

    it('answers ping, and ping fails when the store is unusable', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      for (const { what, store: bad } of await b.broken()) {
        await expect(bad.ping(), what).rejects.toThrow();
        await bad.close();
      }
    });
  });
}

// Atomic replacement under concurrent readers and failed writes, for the local store. On S3 a
// single PUT is atomic by the service's contract; s3rver does not keep it (it streams the body
// into the object's file in place: a cut upload leaves a truncated object), so it cannot show
// the property either way.
describe('local blob store atomicity', () => {
  const big = (seed: number) => {
    const out = Buffer.alloc(4 << 20);
    for (let off = 0; off < out.length; off += 32) crypto.createHash('sha256').update(`${seed}:${off}`).digest().copy(out, off);
    return out;
  };
  const A = big(1), B = big(2);
  afterEach(() => { vi.restoreAllMocks(); });

  it('readers never see a partial object while large objects are replaced', async () => {
    const dir = tempDir();
    const store = await new LocalBlobStore(dir).init();
    await store.put('apps/1/big', A);
    let writing = true;
    const seen: string[] = [];
    const readers = [0, 1].map(async () => {
      while (writing) {
        const got = await store.get('apps/1/big');
        seen.push(got === null ? 'missing' : got.equals(A) ? 'A' : got.equals(B) ? 'B' : `partial (${got.length} bytes)`);
      }
    });
    for (let i = 0; i < 6; i++) await store.put('apps/1/big', i % 2 ? A : B);
    writing = false;
    await Promise.all(readers);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen.filter((s) => s !== 'A' && s !== 'B')).toEqual([]);
    expect(fs.readdirSync(path.join(dir, '.tmp'))).toEqual([]);
  });

  it('a write that fails midway (disk full) keeps the old object and leaves no temp file', async () => {
    const dir = tempDir();
    const store = await new LocalBlobStore(dir).init();
    await store.put('apps/1/big', A);
    // The file handle writes half of the bytes, then the disk is full.
    const realOpen = fsp.open;
    vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const fh = await realOpen(...args);
      if (args[1] !== 'w') return fh;
      fh.writeFile = async (data: any) => {
        await fh.write(Buffer.from(data).subarray(0, data.length >> 1));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      };
      return fh;
    });
    await expect(store.put('apps/1/big', B)).rejects.toMatchObject({ code: 'ENOSPC' });
    vi.restoreAllMocks();
    expect((await store.get('apps/1/big'))!.equals(A)).toBe(true);
    expect(fs.readdirSync(path.join(dir, '.tmp'))).toEqual([]);
    expect(await store.list('')).toEqual(['apps/1/big']);
  });
});

describe('local blob store crash safety', () => {
  it('a write interrupted before rename leaves no object and its temp file is cleared on start', async () => {
    const dir = tempDir();
    const s = await new LocalBlobStore(dir).init();
    fs.writeFileSync(path.join(dir, '.tmp', 'leftover'), 'partial');
    await s.put('k', Buffer.from('v'));
    await new LocalBlobStore(dir).init();
    expect(fs.readdirSync(path.join(dir, '.tmp'))).toEqual([]);
    expect(await s.list('')).toEqual(['k']);
  });

  it('a failed streamed write leaves no temp file', async () => {
    const dir = tempDir();
    const s = await new LocalBlobStore(dir).init();
    await expect(s.putStream('k', generated(3 << 20, 1, 2 << 20))).rejects.toThrow(/source cut/);
    await expect(s.putStream('k', generated(3 << 20, 1), { maxBytes: 1 << 20 })).rejects.toBeInstanceOf(ObjectTooLarge);
    expect(fs.readdirSync(path.join(dir, '.tmp'))).toEqual([]);
    expect(await s.list('')).toEqual([]);
  });
});
