// Deterministic unit vectors for index tests: the same seed always gives the same vector.
import crypto from 'node:crypto';
import { DIM } from '../../src/search/vector-codes.ts';

export function unit(seed: string): Float32Array {
  const v = new Float32Array(DIM);
  let h = crypto.createHash('sha512').update(seed).digest();
  for (let i = 0; i < DIM; i++) {
    if (i % 64 === 0 && i) h = crypto.createHash('sha512').update(h).digest();
    v[i] = (h[i % 64] - 127.5) / 128;
  }
  let n = 0;
  for (const x of v) n += x * x;
  const norm = Math.sqrt(n);
  for (let i = 0; i < DIM; i++) v[i] /= norm;
  return v;
}
