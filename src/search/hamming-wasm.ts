// The first-stage codes of a large collection (256 sign bits = 32 bytes per row) in a shared
// WebAssembly memory, scanned with SIMD popcount (hamming.wat). A scan is memory-bound: 1M rows
// are 32 MB. Selection uses a threshold estimated from a strided sample, so the full pass only
// compares and emits row numbers (a per-row histogram cost as much as the popcounts).
//
// The memory grows in place (no stale copy is left behind) and rows are zeroed on delete.
import { HAMMING_WASM } from './hamming-wasm-bytes.ts';

export const COARSE_BYTES = 32;
export const COARSE_WORDS32 = COARSE_BYTES / 4;
const PAGE = 65536;
// Scratch of one searching thread, at slot * SLOT_BYTES: the query, the histogram, the output.
// Slot 0 is the event loop's, slots 1..SCRATCH_SLOTS-1 the search workers' (search-pool.ts), so
// threads scanning one collection at once never write over each other's query or results.
const Q_AT = 0; // query code, 32 B
const HIST_AT = 64; // 257 u32 counters
const OUT_AT = 2048; // selected row numbers
export const SELECT_CAP = 65536;
const SLOT_BYTES = 5 * PAGE; // OUT_AT + SELECT_CAP * 4 < 5 pages
export const SCRATCH_SLOTS = 5;
const CODES_AT = SCRATCH_SLOTS * SLOT_BYTES;
const SAMPLE_ROWS = 8192;

// The project's TypeScript lib has no DOM types, where WebAssembly's are declared.
interface WasmMemory { buffer: SharedArrayBuffer; grow(pages: number): number }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (m: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Kernels {
  sample(codes: number, from: number, to: number, stride: number, q: number, hist: number): void;
  select(codes: number, from: number, to: number, q: number, thr: number, out: number, cap: number): number;
}

let compiled: object | null | undefined;
function wasmModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = new WA.Module(Buffer.from(HAMMING_WASM, 'base64'));
    } catch {
      compiled = null; // no SIMD/threads support: callers fall back to the JS scan
    }
  }
  return compiled;
}

export class CoarseCodes {
  private mem: WasmMemory;
  private k: Kernels;
  private u32!: Uint32Array;
  private capRows = 0;

  private constructor(mem: WasmMemory, k: Kernels) {
    this.mem = mem;
    this.k = k;
    this.refresh();
  }

  /** null when this runtime cannot run the kernels (the index then scans in JS). */
  static create(rows: number): CoarseCodes | null {
    const mod = wasmModule();
    if (!mod) return null;
    try {
      const pages = Math.ceil((CODES_AT + Math.max(rows, 1024) * COARSE_BYTES) / PAGE);
      const mem = new WA.Memory({ initial: pages, maximum: 65536, shared: true });
      const inst = new WA.Instance(mod, { env: { mem } });
      return new CoarseCodes(mem, inst.exports as unknown as Kernels);
    } catch {
      return null;
    }
  }

  /** The same codes in another thread (a search worker): the memory is shared, not copied. */
  static attach(memory: unknown): CoarseCodes | null {
    const mod = wasmModule();
    if (!mod) return null;
    const mem = memory as WasmMemory;
    return new CoarseCodes(mem, new WA.Instance(mod, { env: { mem } }).exports as unknown as Kernels);
  }

  /** The WebAssembly.Memory, to post to a search worker. */
  memory(): unknown { return this.mem; }

  private refresh(): void {
    this.u32 = new Uint32Array(this.mem.buffer);
    this.capRows = Math.floor((this.mem.buffer.byteLength - CODES_AT) / COARSE_BYTES);
  }

  ensure(rows: number): void {
    if (rows <= this.capRows) return;
    const want = Math.max(rows, this.capRows * 2);
    const pages = Math.ceil((CODES_AT + want * COARSE_BYTES) / PAGE) - this.mem.buffer.byteLength / PAGE;
    this.mem.grow(pages);
    this.refresh();
  }

  /** Copies the first COARSE_WORDS32 words of `src` at `off` into `row`. */
  set(row: number, src: Uint32Array, off: number): void {
    this.ensure(row + 1);
    const o = (CODES_AT >> 2) + row * COARSE_WORDS32;
    for (let w = 0; w < COARSE_WORDS32; w++) this.u32[o + w] = src[off + w];
  }

  move(to: number, from: number): void {
    const b = CODES_AT >> 2;
    this.u32.copyWithin(b + to * COARSE_WORDS32, b + from * COARSE_WORDS32, b + (from + 1) * COARSE_WORDS32);
  }

  zero(row: number): void {
    const o = (CODES_AT >> 2) + row * COARSE_WORDS32;
    this.u32.fill(0, o, o + COARSE_WORDS32);
  }

  zeroAll(): void {
    this.refresh();
    this.u32.fill(0);
  }

  /** The bytes holding codes (tests look for deleted vectors' bytes here). */
  view(): Uint8Array {
    return new Uint8Array(this.mem.buffer, CODES_AT, this.capRows * COARSE_BYTES);
  }

  /**
   * The ~`keep` rows of [0, n) closest to `q` (COARSE_WORDS32 words at q[qOff..]) by 256-bit
   * Hamming distance, in row order. May return somewhat more or fewer than `keep`.
   */
  select(q: Uint32Array, qOff: number, n: number, keep: number, slot = 0): Uint32Array {
    // Another thread may have grown the memory since this view was made.
    if (this.mem.buffer.byteLength !== this.u32.byteLength) this.refresh();
    const u = this.u32;
    const base = slot * SLOT_BYTES;
    const qAt = base + Q_AT, histAt = base + HIST_AT, outAt = base + OUT_AT;
    for (let w = 0; w < COARSE_WORDS32; w++) u[(qAt >> 2) + w] = q[qOff + w];
    const hist = histAt >> 2;
    u.fill(0, hist, hist + 257);
    const stride = Math.max(1, Math.floor(n / SAMPLE_ROWS));
    this.k.sample(CODES_AT, 0, n, stride, qAt, histAt);
    const sampled = Math.ceil(n / stride);
    // Aim a little above `keep`: the estimate is noisy and stage 2 ranks the survivors anyway.
    const target = Math.min(SELECT_CAP * 0.9, keep * 1.25) * (sampled / n);
    let thr = 0, acc = 0;
    while (thr < 256 && acc + u[hist + thr] < target) acc += u[hist + thr++];
    let m = this.k.select(CODES_AT, 0, n, qAt, thr, outAt, SELECT_CAP);
    while (m > SELECT_CAP && thr > 0) m = this.k.select(CODES_AT, 0, n, qAt, --thr, outAt, SELECT_CAP);
    return u.slice(outAt >> 2, (outAt >> 2) + Math.min(m, SELECT_CAP));
  }
}
