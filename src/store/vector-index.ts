// One in-memory vector collection (the faces of one group, or its persons' combined features).
// Storage is dense: rows 0..size-1 are live, a delete moves the last row into the hole and zeroes
// the last row, so a deleted vector's bytes are gone from every buffer when remove() returns.
//
// Search is a three-stage cascade, chosen with bench/search.ts (docs/ARCHITECTURE.md "Search index"):
//  1. Hamming distance on 128 sign bits over every row (16 B/row)      -> keep the closest ~1%
//  2. Hamming distance on all 512 sign bits over those                  -> keep a few hundred
//  3. int8 inner product (per-row scale) over those                     -> exact-ish cosine, top k
// Small collections skip stage 1 (or 1 and 2). No float32 copy is kept: 1M x 512 f32 would not fit
// the 1.5 GB budget; int8 + bits take 580 B/row.
import { COARSE_WORDS, DIM, WORDS, quantize, rotate, signBits } from './vector-codes.ts';

export interface Hit { id: string; owner: string; score: number } // score = cosine

export interface CascadeParams {
  /** Below this many rows, stage 3 runs on every row. */
  exactBelow: number;
  /** Below this many rows, stage 1 is skipped. */
  coarseBelow: number;
  /** Stage-1 survivors: max(min1, rows * frac1). */
  min1: number;
  frac1: number;
  /** Stage-2 survivors: max(min2, k * perOwner2). */
  min2: number;
  perOwner2: number;
}

export const DEFAULT_CASCADE: CascadeParams = { exactBelow: 2048, coarseBelow: 32768, min1: 4096, frac1: 0.01, min2: 256, perOwner2: 8 };

export class VectorIndex {
  size = 0;
  private cap = 0;
  private codes = new Int8Array(0); // cap * DIM
  private scales = new Float32Array(0);
  private bits = new Uint32Array(0); // cap * WORDS
  private coarse = new Uint32Array(0); // cap * COARSE_WORDS
  private ids: string[] = [];
  private owners: string[] = [];
  private slotOf = new Map<string, number>();
  private byOwner = new Map<string, Set<string>>();
  private readonly rot = new Float32Array(DIM);
  // Scratch reused across queries (grown on demand).
  private d1 = new Uint8Array(0);
  private cand1 = new Uint32Array(0);
  private d2 = new Uint16Array(0);

  constructor(private readonly params: CascadeParams = DEFAULT_CASCADE) {}

  has(id: string): boolean { return this.slotOf.has(id); }
  ownerOf(id: string): string | undefined { const s = this.slotOf.get(id); return s === undefined ? undefined : this.owners[s]; }
  *entries(): IterableIterator<{ id: string; owner: string }> { for (let i = 0; i < this.size; i++) yield { id: this.ids[i], owner: this.owners[i] }; }

  /** Adds or replaces the vector stored under `id`. `v` must be L2-normalised, length DIM. */
  upsert(id: string, owner: string, v: Float32Array): void {
    if (v.length !== DIM) throw new Error(`vector has ${v.length} dimensions, expected ${DIM}`);
    let s = this.slotOf.get(id);
    if (s === undefined) {
      if (this.size === this.cap) this.grow(Math.max(1024, this.cap * 2));
      s = this.size++;
      this.slotOf.set(id, s);
    } else {
      this.unlinkOwner(this.owners[s], id);
    }
    let set = this.byOwner.get(owner);
    if (!set) this.byOwner.set(owner, (set = new Set()));
    set.add(id);
    this.ids[s] = id;
    this.owners[s] = owner;
    rotate(v, this.rot);
    this.scales[s] = quantize(this.rot, this.codes, s * DIM);
    signBits(this.rot, this.bits, s * WORDS);
    for (let w = 0; w < COARSE_WORDS; w++) this.coarse[s * COARSE_WORDS + w] = this.bits[s * WORDS + w];
    this.rot.fill(0);
  }

  /** Removes `id`; its row is overwritten before this returns. */
  remove(id: string): boolean {
    const s = this.slotOf.get(id);
    if (s === undefined) return false;
    this.slotOf.delete(id);
    this.unlinkOwner(this.owners[s], id);
    const last = this.size - 1;
    if (s !== last) {
      this.codes.copyWithin(s * DIM, last * DIM, (last + 1) * DIM);
      this.bits.copyWithin(s * WORDS, last * WORDS, (last + 1) * WORDS);
      this.coarse.copyWithin(s * COARSE_WORDS, last * COARSE_WORDS, (last + 1) * COARSE_WORDS);
      this.scales[s] = this.scales[last];
      this.ids[s] = this.ids[last];
      this.owners[s] = this.owners[last];
      this.slotOf.set(this.ids[s], s);
    }
    this.codes.fill(0, last * DIM, (last + 1) * DIM);
    this.bits.fill(0, last * WORDS, (last + 1) * WORDS);
    this.coarse.fill(0, last * COARSE_WORDS, (last + 1) * COARSE_WORDS);
    this.scales[last] = 0;
    this.ids.length = last;
    this.owners.length = last;
    this.size = last;
    return true;
  }

  removeOwner(owner: string): number {
    const ids = [...(this.byOwner.get(owner) ?? [])];
    for (const id of ids) this.remove(id);
    return ids.length;
  }

  idsOf(owner: string): string[] { return [...(this.byOwner.get(owner) ?? [])]; }
  allOwners(): IterableIterator<string> { return this.byOwner.keys(); }

  private unlinkOwner(owner: string, id: string) {
    const set = this.byOwner.get(owner);
    if (!set) return;
    set.delete(id);
    if (!set.size) this.byOwner.delete(owner);
  }

  /** Zeroes everything (used when a group is dropped). */
  clear(): void {
    this.codes.fill(0); this.bits.fill(0); this.coarse.fill(0); this.scales.fill(0);
    this.ids = []; this.owners = []; this.slotOf.clear(); this.byOwner.clear(); this.size = 0;
  }

  /** For tests: every buffer that holds vector-derived bytes. */
  buffers(): ArrayBufferView[] { return [this.codes, this.scales, this.bits, this.coarse]; }

  private grow(cap: number): void {
    const codes = new Int8Array(cap * DIM); codes.set(this.codes);
    const scales = new Float32Array(cap); scales.set(this.scales);
    const bits = new Uint32Array(cap * WORDS); bits.set(this.bits);
    const coarse = new Uint32Array(cap * COARSE_WORDS); coarse.set(this.coarse);
    // The old buffers become garbage; zero them so no feature bytes linger in freed memory.
    this.codes.fill(0); this.scales.fill(0); this.bits.fill(0); this.coarse.fill(0);
    this.codes = codes; this.scales = scales; this.bits = bits; this.coarse = coarse;
    this.cap = cap;
  }

  /**
   * Best hit per owner, top `k` owners by cosine, best first (SearchFaces returns persons, each
   * with its best face). `onlyOwner` scores just that owner's rows.
   */
  search(query: Float32Array, k: number, opts: { onlyOwner?: string } = {}): Hit[] {
    const n = this.size;
    if (n === 0 || k <= 0) return [];
    const p = this.params;
    rotate(query, this.rot);
    const q8 = new Int8Array(DIM);
    const qs = quantize(this.rot, q8, 0);
    const qb = new Uint32Array(WORDS);
    signBits(this.rot, qb, 0);

    let cands: Uint32Array;
    let nc: number;
    if (opts.onlyOwner !== undefined) {
      const list = this.idsOf(opts.onlyOwner).map((id) => this.slotOf.get(id)!);
      cands = Uint32Array.from(list);
      nc = list.length;
    } else if (n <= p.exactBelow) {
      cands = this.allRows(n);
      nc = n;
    } else {
      let pool: Uint32Array | null = null; // null = every row
      let np = n;
      if (n > p.coarseBelow) {
        const keep1 = Math.max(p.min1, Math.ceil(n * p.frac1));
        np = this.coarseStage(qb, n, keep1);
        pool = this.cand1;
      }
      const keep2 = Math.max(p.min2, k * p.perOwner2);
      const r = this.fullHammingStage(qb, pool, np, keep2);
      cands = r.rows;
      nc = r.count;
    }
    return this.rerank(q8, qs, cands, nc, k);
  }

  private allRows(n: number): Uint32Array {
    const a = new Uint32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return a;
  }

  /** Stage 1: coarse Hamming over every row; fills this.cand1 with the `keep` closest. */
  private coarseStage(qb: Uint32Array, n: number, keep: number): number {
    if (this.d1.length < n) this.d1 = new Uint8Array(this.cap);
    const d = this.d1, c = this.coarse;
    const q0 = qb[0], q1 = qb[1], q2 = qb[2], q3 = qb[3];
    const hist = new Uint32Array(COARSE_WORDS * 32 + 1);
    for (let i = 0, o = 0; i < n; i++, o += 4) {
      let x = c[o] ^ q0;
      x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      let y = c[o + 1] ^ q1;
      y -= (y >>> 1) & 0x55555555; y = (y & 0x33333333) + ((y >>> 2) & 0x33333333);
      let z = c[o + 2] ^ q2;
      z -= (z >>> 1) & 0x55555555; z = (z & 0x33333333) + ((z >>> 2) & 0x33333333);
      let u = c[o + 3] ^ q3;
      u -= (u >>> 1) & 0x55555555; u = (u & 0x33333333) + ((u >>> 2) & 0x33333333);
      // Each nibble-sum fits a byte for two words added together (max 8 per nibble pair).
      const a = (((x + (x >>> 4)) & 0x0f0f0f0f) + ((y + (y >>> 4)) & 0x0f0f0f0f));
      const b = (((z + (z >>> 4)) & 0x0f0f0f0f) + ((u + (u >>> 4)) & 0x0f0f0f0f));
      const dist = (Math.imul(a + b, 0x01010101) >>> 24);
      d[i] = dist;
      hist[dist]++;
    }
    let thr = 0, acc = 0;
    while (thr < hist.length && acc + hist[thr] <= keep) acc += hist[thr++];
    // Rows at distance < thr all fit; include the tie bucket only if it is small, else part of it.
    if (this.cand1.length < keep + 1) this.cand1 = new Uint32Array(keep + 1);
    const out = this.cand1;
    let m = 0;
    let tieRoom = keep - acc;
    for (let i = 0; i < n; i++) {
      const di = d[i];
      if (di < thr) out[m++] = i;
      else if (di === thr && tieRoom > 0) { out[m++] = i; tieRoom--; }
    }
    return m;
  }

  /** Stage 2: 512-bit Hamming over `pool` (or every row when null); returns the `keep` closest rows. */
  private fullHammingStage(qb: Uint32Array, pool: Uint32Array | null, np: number, keep: number): { rows: Uint32Array; count: number } {
    if (this.d2.length < np) this.d2 = new Uint16Array(Math.max(np, pool ? np : this.cap));
    const d = this.d2;
    const hist = new Uint32Array(DIM + 1);
    for (let j = 0; j < np; j++) {
      const dist = hamming512(this.bits, (pool ? pool[j] : j) * WORDS, qb);
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

  /** Stage 3: int8 inner products; best row per owner, top k owners. */
  private rerank(q8: Int8Array, qs: number, rows: Uint32Array, nc: number, k: number): Hit[] {
    const codes = this.codes, scales = this.scales;
    const best = new Map<string, Hit>();
    for (let j = 0; j < nc; j++) {
      const r = rows[j];
      const o = r * DIM;
      let dot = 0;
      for (let i = 0; i < DIM; i += 4) {
        dot += codes[o + i] * q8[i] + codes[o + i + 1] * q8[i + 1] + codes[o + i + 2] * q8[i + 2] + codes[o + i + 3] * q8[i + 3];
      }
      const score = dot * qs * scales[r];
      const owner = this.owners[r];
      const prev = best.get(owner);
      if (!prev || score > prev.score) best.set(owner, { id: this.ids[r], owner, score });
    }
    return [...best.values()].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, k);
  }
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
