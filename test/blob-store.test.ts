// One suite for every BlobStore backend: the local directory and S3 (against s3rver, a local
// S3-compatible server started here on a loopback port).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const backends: { name: string; make: () => Promise<BlobStore> }[] = [
  { name: 'local', make: async () => new LocalBlobStore(tempDir()).init() },
  { name: 's3', make: async () => new S3BlobStore({ bucket: 'facevault-test', prefix: `run-${Date.now()}`, endpoint: s3endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true }) },
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

    it('overwrites atomically and lists by prefix', async () => {
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

    it('answers ping', async () => { await store.ping(); });
  });
}

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
