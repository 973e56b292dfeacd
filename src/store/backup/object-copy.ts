// Object-level copy and comparison between two blob stores (local directory, S3): backup and
// restore of the objects, and `facevault migrate --objects s3://...`.
import crypto from 'node:crypto';
import type { BlobStore } from '../blobs/blob-store.ts';

export interface ObjectsSummary { count: number; bytes: number; sha256: string }

/** Copies every object of `from` into `to` (same keys). Already-equal objects are skipped. */
export async function copyObjects(from: BlobStore, to: BlobStore): Promise<ObjectsSummary> {
  const keys = (await from.list('')).sort();
  const h = crypto.createHash('sha256');
  let bytes = 0;
  let count = 0;
  for (const key of keys) {
    const data = await from.get(key);
    if (!data) continue; // deleted while we copied (an expiry or erasure): not part of the copy
    await to.put(key, data);
    bytes += data.length;
    count++;
    h.update(`${key}\0${crypto.createHash('sha256').update(data).digest('hex')}\n`);
  }
  return { count, bytes, sha256: h.digest('hex') };
}

/** The same summary for one store: equal summaries mean the same keys with the same bytes. */
export async function objectsSummary(store: BlobStore): Promise<ObjectsSummary> {
  const keys = (await store.list('')).sort();
  const h = crypto.createHash('sha256');
  let bytes = 0;
  let count = 0;
  for (const key of keys) {
    const data = await store.get(key);
    if (!data) continue;
    bytes += data.length;
    count++;
    h.update(`${key}\0${crypto.createHash('sha256').update(data).digest('hex')}\n`);
  }
  return { count, bytes, sha256: h.digest('hex') };
}
