// Large searches scan in a search worker (src/search/search-pool.ts), not on the event loop, and
// keep the index's consistency: a write that lands while a worker scans is in the result.
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CASCADE, VectorIndex } from '../src/search/vector-index.ts';
import { SearchPool } from '../src/search/search-pool.ts';
import { LibraryIndex } from '../src/services/library/library-index.ts';
import type { LibraryRepo } from '../src/store/library/library-repo.ts';
import type { FeatureCrypto } from '../src/store/keys/feature-crypto.ts';
import { unit } from './helpers/vectors.ts';

// Small thresholds so a few thousand rows take the production path: stage 1 in WebAssembly over
// the shared memory, stage 2 over the shared sign bits, both in the worker.
const PARAMS = { ...DEFAULT_CASCADE, exactBelow: 64, coarseAbove: 512, min1: 256, frac1: 0.05 };
const N = 3000;

describe('search off the event loop', () => {
  const pool = new SearchPool(2, 100);
  afterAll(() => pool.close());
  const idx = new VectorIndex(PARAMS);
  for (let i = 0; i < N; i++) idx.upsert(`f${i}`, `p${i % 1000}`, unit(`v${i}`));

  it('runs the scans in a worker thread and answers exactly as the in-thread search', async () => {
    const before = [...pool.servedBy.values()].reduce((a, b) => a + b, 0);
    for (let i = 0; i < 30; i++) {
      const q = unit(`v${i * 97}`);
      const off = await idx.searchAsync(q, 5, pool);
      expect(off).toEqual(idx.search(q, 5));
      expect(off[0].id).toBe(`f${i * 97}`);
    }
    const served = [...pool.servedBy.entries()];
    expect(served.reduce((a, [, n]) => a + n, 0) - before).toBe(30);
    // Every scan ran on another thread than this one (the test's event loop).
    for (const [tid] of served) expect(tid).not.toBe(threadId);
  });

  it('searches in several workers at once over the same shared memory without mixing queries', async () => {
    const qs = Array.from({ length: 24 }, (_, i) => unit(`v${i * 113}`));
    const all = await Promise.all(qs.map((q) => idx.searchAsync(q, 3, pool)));
    all.forEach((hits, i) => expect(hits[0].id).toBe(`f${i * 113}`));
    expect(pool.servedBy.size).toBe(2);
  });

  it('includes a write made while the worker scanned, and never returns a row deleted meanwhile', async () => {
    const q = unit('v42');
    // Both writes land after the job went to the worker and before its reply is read.
    const p = idx.searchAsync(q, 5, pool);
    idx.remove('f42');
    idx.upsert('new42', 'pnew', q);
    const hits = await p;
    expect(hits[0]).toMatchObject({ id: 'new42', owner: 'pnew' });
    expect(hits.map((h) => h.id)).not.toContain('f42');
    expect(hits).toEqual(idx.search(q, 5));
  });

  it('sees rows added after the index grew its shared buffers', async () => {
    for (let i = N; i < N + 3000; i++) idx.upsert(`f${i}`, `p${i}`, unit(`v${i}`));
    const hits = await idx.searchAsync(unit(`v${N + 2500}`), 1, pool);
    expect(hits[0].id).toBe(`f${N + 2500}`);
  });

  it('is how the library searches (LibraryIndex.search, used by SearchFaces and CreatePerson)', async () => {
    // The search path needs neither the repository nor the keys.
    const li = new LibraryIndex({} as LibraryRepo, {} as FeatureCrypto, { threads: 1, minRows: 100 });
    try {
      expect((await li.search(idx, unit('v5'), 1))[0].id).toBe('f5');
      const stats = li.searchWorkerStats();
      expect([...stats.values()]).toEqual([1]);
      expect([...stats.keys()][0]).not.toBe(threadId);
    } finally {
      await li.close();
    }
    // FACEVAULT_SEARCH_THREADS=0: no workers, the same answer on the event loop.
    const onLoop = new LibraryIndex({} as LibraryRepo, {} as FeatureCrypto, { threads: 0 });
    expect((await onLoop.search(idx, unit('v5'), 1))[0].id).toBe('f5');
    expect(onLoop.searchWorkerStats().size).toBe(0);
  });

  it('falls back to the event loop when the pool is closed', async () => {
    const p2 = new SearchPool(1, 100);
    await p2.close();
    const hits = await idx.searchAsync(unit('v7'), 1, p2);
    expect(hits[0].id).toBe('f7');
    expect(p2.servedBy.size).toBe(0);
  });
});
