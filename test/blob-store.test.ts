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

const s3 = (o: { endpoint?: string; bucket?: string } = {}) => new S3BlobStore({ bucket: o.bucket ?? 'facevault-test', prefix: `run-${Date.now()}`, endpoint: o.endpoint ?? s3endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true });

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
});
