// One in-memory vector collection (the faces of one group, or its persons' combined features).
// Storage is dense: rows 0..size-1 are live, a delete moves the last row into the hole and zeroes
// the last row, so a deleted vector's bytes are gone from every buffer when remove() returns.
//
// Search is a three-stage cascade, chosen with bench/search.ts (docs/ARCHITECTURE.md "Search index"):
//  1. Hamming distance on 256 sign bits over every row, SIMD in WebAssembly (hamming-wasm.ts)
//     -> keep the closest ~0.5%
//  2. Hamming distance on all 512 sign bits over those                  -> keep a few hundred
//  3. int8 codes (per-row scale) against the float32 query, then the closest candidates again with
//     a 4-bit residual code, which makes scores exact to ~1e-5 (int8 alone misorders a person's
//     near-tied faces a few percent of the time)
// Small collections skip stage 1 (or 1 and 2). No float32 copy is kept: 1M x 512 f32 would not fit
// the 1.5 GB budget; codes take ~870 B/row.
import { DIM, ENCODED_BYTES, WORDS, quantize, residual4, rotate, signBits } from './vector-codes.ts';
import { CoarseCodes } from './hamming-wasm.ts';
import { PrefilterScratch, prefilter, type Candidates } from './prefilter.ts';
import type { SearchPool } from './search-pool.ts';

export interface Hit { id: string; owner: string; score: number } // score = cosine

export interface CascadeParams {
  /** Below this many rows, stage 3 runs on every row. */
  exactBelow: number;
  /** Above this many rows, stage 1 runs (when WebAssembly SIMD is available). */
  coarseAbove: number;
  /** Stage-1 survivors: max(min1, rows * frac1). */
  min1: number;
  frac1: number;
  /** Stage-2 survivors: max(min2, k * perOwner2). */
  min2: number;
  perOwner2: number;
  /** Stage 3 re-scores with the residual every row within this cosine of the k-th best owner. */
  refineMargin: number;
}

export const DEFAULT_CASCADE: CascadeParams = { exactBelow: 2048, coarseAbove: 16384, min1: 1024, frac1: 0.005, min2: 96, perOwner2: 8, refineMargin: 0.004 };

const HALF = DIM / 2;
let nextUid = 1;

export class VectorIndex {
  size = 0;
  private cap = 0;
  private codes = new Int8Array(0); // cap * DIM
  private resid = new Uint8Array(0); // cap * DIM/2 (4-bit residuals)
  private scales = new Float32Array(0);
  // cap * WORDS, in a SharedArrayBuffer: search workers scan it in place (search-pool.ts).
  private bits: Uint32Array<ArrayBufferLike> = new Uint32Array(new SharedArrayBuffer(0));
  /** Stage-1 codes (first 256 sign bits) in WebAssembly memory; built once the collection is large. */
  private coarse: CoarseCodes | null = null;
  private coarseFailed = false;
  private ids: string[] = [];
  private owners: string[] = [];
  private slotOf = new Map<string, number>();
  // An owner's ids: a lone id is kept as the string itself (every person row of a persons index,
  // and many persons' faces), otherwise a small exact-size array: a Set of 5 ids took ~230 B,
  // the array ~90 B; owners have few ids (a person has at most 5 faces).
  private byOwner = new Map<string, string | string[]>();
  // Byte views of the buffers, so rows encoded by workers are copied in without creating views per row.
  private codesU8 = new Uint8Array(0);
  private bitsU8: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private scalesU8 = new Uint8Array(0);
  private readonly rot = new Float32Array(DIM);
  private readonly scratch = new PrefilterScratch();
  /** Names this index to the search workers. */
  private readonly uid = nextUid++;
  /** Bumped on every write: a search whose scans ran in a worker is valid only if no write came in between. */
  private version = 0;
  /** Bumped when the shared buffers are replaced (growth) or the stage-1 codes appear. */
  private layout = 0;
  private pool: SearchPool | null = null;

  constructor(private readonly params: CascadeParams = DEFAULT_CASCADE) {}

  has(id: string): boolean { return this.slotOf.has(id); }
  ownerOf(id: string): string | undefined { const s = this.slotOf.get(id); return s === undefined ? undefined : this.owners[s]; }
  *entries(): IterableIterator<{ id: string; owner: string }> { for (let i = 0; i < this.size; i++) yield { id: this.ids[i], owner: this.owners[i] }; }

  /** Adds or replaces the vector stored under `id`. `v` must be L2-normalised, length DIM. */
  upsert(id: string, owner: string, v: Float32Array): void {
    if (v.length !== DIM) throw new Error(`vector has ${v.length} dimensions, expected ${DIM}`);
    const s = this.slotFor(id, owner);
    this.version++;
    rotate(v, this.rot);
    const scale = quantize(this.rot, this.codes, s * DIM);
    this.scales[s] = scale;
    residual4(this.rot, this.codes, s * DIM, scale, this.resid, s * HALF);
    signBits(this.rot, this.bits, s * WORDS);
    this.coarse?.set(s, this.bits, s * WORDS);
    this.rot.fill(0);
  }

  /** Adds or replaces a row already encoded by vector-codes.ts encodeInto() (index rebuilds decode in workers). */
  upsertEncoded(id: string, owner: string, enc: Uint8Array, off: number): void {
    const s = this.slotFor(id, owner);
    this.version++;
    this.codesU8.set(enc.subarray(off, off + DIM), s * DIM);
    this.resid.set(enc.subarray(off + DIM, off + DIM + HALF), s * HALF);
    this.bitsU8.set(enc.subarray(off + DIM + HALF, off + DIM + HALF + WORDS * 4), s * WORDS * 4);
    // Native-endian float32, as encodeInto() wrote it.
    this.scalesU8.set(enc.subarray(off + ENCODED_BYTES - 4, off + ENCODED_BYTES), s * 4);
    this.coarse?.set(s, this.bits, s * WORDS);
  }

  private slotFor(id: string, owner: string): number {
    let s = this.slotOf.get(id);
    if (s === undefined) {
      if (this.size === this.cap) this.grow(Math.max(1024, this.cap * 2));
      s = this.size++;
      this.slotOf.set(id, s);
    } else {
      this.unlinkOwner(this.owners[s], id);
    }
    const cur = this.byOwner.get(owner);
    if (cur === undefined) this.byOwner.set(owner, id);
    else if (typeof cur === 'string') { if (cur !== id) this.byOwner.set(owner, [cur, id]); }
    // concat() makes an exact-size array: push() or a spread grew 5 ids to ~210 B, concat to ~90 B.
    else if (!cur.includes(id)) this.byOwner.set(owner, cur.concat(id));
    this.ids[s] = id;
    this.owners[s] = owner;
    return s;
  }

  /** Removes `id`; its row is overwritten before this returns. */
  remove(id: string): boolean {
    const s = this.slotOf.get(id);
    if (s === undefined) return false;
    this.version++;
    this.slotOf.delete(id);
    this.unlinkOwner(this.owners[s], id);
    const last = this.size - 1;
    if (s !== last) {
      this.codes.copyWithin(s * DIM, last * DIM, (last + 1) * DIM);
      this.resid.copyWithin(s * HALF, last * HALF, (last + 1) * HALF);
      this.bits.copyWithin(s * WORDS, last * WORDS, (last + 1) * WORDS);
      this.coarse?.move(s, last);
      this.scales[s] = this.scales[last];
      this.ids[s] = this.ids[last];
      this.owners[s] = this.owners[last];
      this.slotOf.set(this.ids[s], s);
    }
    this.codes.fill(0, last * DIM, (last + 1) * DIM);
    this.resid.fill(0, last * HALF, (last + 1) * HALF);
    this.bits.fill(0, last * WORDS, (last + 1) * WORDS);
    this.coarse?.zero(last);
    this.scales[last] = 0;
    this.ids.length = last;
    this.owners.length = last;
    this.size = last;
    return true;
  }

  removeOwner(owner: string): number {
    const ids = this.idsOf(owner);
    for (const id of ids) this.remove(id);
    return ids.length;
  }

  idsOf(owner: string): string[] {
    const cur = this.byOwner.get(owner);
    return cur === undefined ? [] : typeof cur === 'string' ? [cur] : [...cur];
  }
  allOwners(): IterableIterator<string> { return this.byOwner.keys(); }

  private unlinkOwner(owner: string, id: string) {
    const cur = this.byOwner.get(owner);
    if (cur === undefined) return;
    if (typeof cur === 'string') { if (cur === id) this.byOwner.delete(owner); return; }
    const i = cur.indexOf(id);
    if (i < 0) return;
    cur.splice(i, 1);
    if (cur.length === 1) this.byOwner.set(owner, cur[0]);
  }

  /** Zeroes everything (used when a group is dropped). */
  clear(): void {
    this.version++;
    this.pool?.forget(this.uid);
    this.codes.fill(0); this.resid.fill(0); this.bits.fill(0); this.scales.fill(0); this.coarse?.zeroAll();
    this.ids = []; this.owners = []; this.slotOf.clear(); this.byOwner.clear(); this.size = 0;
  }

  /** For tests: every buffer that holds vector-derived bytes. */
  buffers(): ArrayBufferView[] {
    return [this.codes, this.resid, this.scales, this.bits, ...(this.coarse ? [this.coarse.view()] : [])];
  }

  /** Sizes the buffers for `rows` up front (a rebuild knows its counts; doubling would leave freed copies behind). */
  reserve(rows: number): void {
    if (rows > this.cap) this.grow(rows);
  }

  private grow(cap: number): void {
    const codes = new Int8Array(cap * DIM); codes.set(this.codes);
    const resid = new Uint8Array(cap * HALF); resid.set(this.resid);
    const scales = new Float32Array(cap); scales.set(this.scales);
    const bits = new Uint32Array(new SharedArrayBuffer(cap * WORDS * 4)); bits.set(this.bits);
    // The old buffers become garbage; zero them so no feature bytes linger in freed memory.
    this.codes.fill(0); this.resid.fill(0); this.scales.fill(0); this.bits.fill(0);
    this.codes = codes; this.resid = resid; this.scales = scales; this.bits = bits;
    this.codesU8 = new Uint8Array(codes.buffer); this.bitsU8 = new Uint8Array(bits.buffer); this.scalesU8 = new Uint8Array(scales.buffer);
    this.cap = cap;
    this.version++;
    this.layout++;
  }

  /** The stage-1 codes, built from the sign bits the first time the collection is large enough. */
  private coarseCodes(): CoarseCodes | null {
    if (this.coarse || this.coarseFailed) return this.coarse;
    const c = CoarseCodes.create(this.cap);
    if (!c) { this.coarseFailed = true; return null; }
    for (let i = 0; i < this.size; i++) c.set(i, this.bits, i * WORDS);
    this.coarse = c;
    this.layout++;
    return c;
  }

  /**
   * Best hit per owner, top `k` owners by cosine, best first (SearchFaces returns persons, each
   * with its best face). `onlyOwner` scores just that owner's rows.
   */
  search(query: Float32Array, k: number, opts: { onlyOwner?: string } = {}): Hit[] {
    const n = this.size;
    if (n === 0 || k <= 0) return [];
    const { rq, qb } = this.queryCodes(query);
    let c: Candidates;
    if (opts.onlyOwner !== undefined) {
      const list = this.idsOf(opts.onlyOwner).map((id) => this.slotOf.get(id)!);
      c = { rows: Uint32Array.from(list), count: list.length };
    } else if (n <= this.params.exactBelow) {
      c = { rows: this.allRows(n), count: n };
    } else {
      const coarse = n > this.params.coarseAbove ? this.coarseCodes() : null;
      c = prefilter(this.bits, coarse, 0, n, qb, this.keep1(n), this.keep2(k), this.scratch);
    }
    return this.rerank(rq, c.rows, c.count, k);
  }

  /**
   * search(), with the scans of a large collection in a search worker (`pool`) so the event loop
   * stays free; small collections, owner-restricted searches and a failed worker search here.
   * A write to this index while the worker scanned invalidates its row numbers: the scan is
   * redone (once in the worker, then here), so the result is that of the index as it is now.
   */
  async searchAsync(query: Float32Array, k: number, pool: SearchPool | null): Promise<Hit[]> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const n = this.size;
      if (!pool || n <= this.params.exactBelow || n < pool.minRows || k <= 0) break;
      const { rq, qb } = this.queryCodes(query);
      const coarse = n > this.params.coarseAbove ? this.coarseCodes() : null;
      this.pool = pool;
      const version = this.version;
      let c: Candidates;
      try {
        c = await pool.prefilter({ index: this.uid, layout: this.layout, bits: this.bits.buffer as SharedArrayBuffer, coarse: coarse?.memory() ?? null, n, qb, keep1: this.keep1(n), keep2: this.keep2(k) });
      } catch {
        break;
      }
      if (this.version === version) return this.rerank(rq, c.rows, c.count, k);
    }
    return this.search(query, k);
  }

  private queryCodes(query: Float32Array): { rq: Float32Array; qb: Uint32Array } {
    const rq = new Float32Array(DIM);
    rotate(query, rq);
    const qb = new Uint32Array(WORDS);
    signBits(rq, qb, 0);
    return { rq, qb };
  }

  private keep1(n: number): number { return Math.max(this.params.min1, Math.ceil(n * this.params.frac1)); }
  private keep2(k: number): number { return Math.max(this.params.min2, k * this.params.perOwner2); }

  private allRows(n: number): Uint32Array {
    const a = new Uint32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return a;
  }

  /** Stage 3: int8 codes against the float32 query, then the residual near the top; best row per owner, top k owners. */
  private rerank(rq: Float32Array, rows: Uint32Array, nc: number, k: number): Hit[] {
    const codes = this.codes, scales = this.scales;
    const score = new Float64Array(nc);
    const best = new Map<string, number>(); // owner -> best int8 score
    for (let j = 0; j < nc; j++) {
      const r = rows[j];
      const o = r * DIM;
      let dot = 0;
      for (let i = 0; i < DIM; i += 4) {
        dot += codes[o + i] * rq[i] + codes[o + i + 1] * rq[i + 1] + codes[o + i + 2] * rq[i + 2] + codes[o + i + 3] * rq[i + 3];
      }
      const sc = dot * scales[r];
      score[j] = sc;
      const owner = this.owners[r];
      const prev = best.get(owner);
      if (prev === undefined || sc > prev) best.set(owner, sc);
    }
    // The k-th best owner's int8 score bounds what can still reach the top k; rows within the
    // margin of it are re-scored exactly enough to order near-ties (a person's own faces).
    const tops = [...best.values()].sort((a, b) => b - a);
    const floor = tops[Math.min(k, tops.length) - 1] - this.params.refineMargin;
    const res = this.resid;
    const hits = new Map<string, Hit>();
    for (let j = 0; j < nc; j++) {
      if (score[j] < floor) continue;
      const r = rows[j];
      const o = r * HALF;
      let fine = 0;
      for (let i = 0; i < HALF; i++) {
        const b = res[o + i];
        fine += (((b & 15) ^ 8) - 8) * rq[2 * i] + (((b >> 4) ^ 8) - 8) * rq[2 * i + 1];
      }
      const sc = score[j] + fine * scales[r] / 16;
      const owner = this.owners[r];
      const prev = hits.get(owner);
      if (!prev || sc > prev.score || (sc === prev.score && this.ids[r] < prev.id)) hits.set(owner, { id: this.ids[r], owner, score: sc });
    }
    return [...hits.values()].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, k);
  }
}
