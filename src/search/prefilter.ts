// Stages 1 and 2 of the search cascade (vector-index.ts): the scans over every row of a large
// collection, which is where a search spends its time (1M rows: 32 MB of stage-1 codes). They
// read only sign bits, so they run the same on the event loop or in a search worker over the
// shared buffers (search-worker.ts); stage 3 needs the row owners and stays with the index.
import { DIM, WORDS } from './vector-codes.ts';
import type { CoarseCodes } from './hamming-wasm.ts';

export interface Candidates { rows: Uint32Array; count: number }

/** Per-thread scratch (the stage-2 distances). */
export class PrefilterScratch { d2 = new Uint16Array(0); }

/**
 * The rows of [0, n) worth re-ranking: stage 1 (when `coarse` is given) keeps ~`keep1` by
 * 256-bit Hamming distance, stage 2 the `keep2` closest of those by 512-bit distance.
 * `slot` is the calling thread's scratch slot in the coarse codes' memory.
 */
export function prefilter(bits: Uint32Array, coarse: CoarseCodes | null, slot: number, n: number, qb: Uint32Array, keep1: number, keep2: number, scratch: PrefilterScratch): Candidates {
  let pool: Uint32Array | null = null; // null = every row
  let np = n;
  if (coarse) {
    pool = coarse.select(qb, 0, n, keep1, slot);
    np = pool.length;
  }
  return fullHammingStage(bits, qb, pool, np, keep2, scratch);
}

/** Stage 2: 512-bit Hamming over `pool` (or every row when null); returns the `keep` closest rows. */
function fullHammingStage(bits: Uint32Array, qb: Uint32Array, pool: Uint32Array | null, np: number, keep: number, scratch: PrefilterScratch): Candidates {
  if (scratch.d2.length < np) scratch.d2 = new Uint16Array(np);
  const d = scratch.d2;
  const hist = new Uint32Array(DIM + 1);
  for (let j = 0; j < np; j++) {
    const dist = hamming512(bits, (pool ? pool[j] : j) * WORDS, qb);
    d[j] = dist;
    hist[dist]++;
  }
  if (np <= keep) {
    const rows = new Uint32Array(np);
    for (let j = 0; j < np; j++) rows[j] = pool ? pool[j] : j;
    return { rows, count: np };
  }
  let thr = 0, acc = 0;
  while (thr <= DIM && acc + hist[thr] <= keep) acc += hist[thr++];
  const rows = new Uint32Array(keep);
  let m = 0, tieRoom = keep - acc;
  for (let j = 0; j < np && m < keep; j++) {
    const dj = d[j];
    if (dj < thr || (dj === thr && tieRoom-- > 0)) rows[m++] = pool ? pool[j] : j;
  }
  return { rows, count: m };
}

/** Hamming distance between 16 words at bits[o..] and q; bytes of partial sums never overflow (max 128). */
function hamming512(bits: Uint32Array, o: number, q: Uint32Array): number {
  let total = 0;
  for (let w = 0; w < 16; w += 4) {
    let x = bits[o + w] ^ q[w];
    x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    let y = bits[o + w + 1] ^ q[w + 1];
    y -= (y >>> 1) & 0x55555555; y = (y & 0x33333333) + ((y >>> 2) & 0x33333333);
    let z = bits[o + w + 2] ^ q[w + 2];
    z -= (z >>> 1) & 0x55555555; z = (z & 0x33333333) + ((z >>> 2) & 0x33333333);
    let u = bits[o + w + 3] ^ q[w + 3];
    u -= (u >>> 1) & 0x55555555; u = (u & 0x33333333) + ((u >>> 2) & 0x33333333);
    const a = ((x + (x >>> 4)) & 0x0f0f0f0f) + ((y + (y >>> 4)) & 0x0f0f0f0f);
    const b = ((z + (z >>> 4)) & 0x0f0f0f0f) + ((u + (u >>> 4)) & 0x0f0f0f0f);
    total += Math.imul(a + b, 0x01010101) >>> 24;
  }
  return total;
}
