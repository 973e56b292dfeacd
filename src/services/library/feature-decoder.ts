// Worker threads that decrypt and encode sealed features for an index rebuild (start-up load).
// Opening one AES-GCM feature costs ~18 us of CPU in Node's crypto, and rotating + encoding it
// ~20 us more; at 1M faces that is most of the load time, so it runs on the spare cores while the
// main thread reads the next page from the database and copies finished rows into the index.
import type { Worker } from 'node:worker_threads';
import os from 'node:os';
import { ENCODED_BYTES } from '../../search/vector-codes.ts';
import { tsWorker } from '../../domain/ts-worker.ts';

export interface DecodeRequest {
  id: number;
  kind: 'face' | 'person';
  appId: number;
  key: Uint8Array;
  refs: string[];
  lengths: number[];
  sealed: Uint8Array;
  /** Where the worker writes the encoded rows (refs.length * ENCODED_BYTES). */
  out: Uint8Array;
}
/** Both buffers come back (transferred) so the next pages reuse them. */
export type DecodeReply = { id: number; encoded: Uint8Array; sealed: Uint8Array } | { id: number; error: string };

export class FeatureDecoder {
  private readonly workers: Worker[];
  private next = 0;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve(b: Uint8Array): void; reject(e: Error): void }>();
  // Page buffers (~10 MB sealed, ~4 MB encoded) are reused rather than allocated per page: glibc
  // served the repeated large allocations from its heaps after the first frees and kept ~100 MB
  // of them after a 1M-face load. Every buffer is zeroed before it returns to a pool.
  private readonly sealedPool: ArrayBuffer[] = [];
  private readonly outPool: ArrayBuffer[] = [];

  constructor(threads = Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length))) {
    this.workers = Array.from({ length: threads }, () => {
      const w = tsWorker(new URL('./feature-decode-worker.ts', import.meta.url));
      w.on('message', (m: DecodeReply) => {
        const p = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if ('error' in m) p?.reject(new Error(`feature decode failed: ${m.error}`));
        else {
          this.sealedPool.push(m.sealed.buffer as ArrayBuffer);
          p?.resolve(m.encoded);
        }
      });
      w.on('error', (e) => { for (const p of this.waiting.values()) p.reject(e); this.waiting.clear(); });
      return w;
    });
  }

  /**
   * Encoded rows (vector-codes.ts ENCODED_BYTES each) for the sealed features of `refs`. Zero the
   * result when done with it and hand it back with release().
   */
  decode(kind: 'face' | 'person', appId: number, key: Buffer, refs: string[], sealed: Buffer[]): Promise<Uint8Array> {
    const total = sealed.reduce((s, b) => s + b.length, 0);
    const buf = new Uint8Array(take(this.sealedPool, total), 0, total);
    const out = new Uint8Array(take(this.outPool, refs.length * ENCODED_BYTES), 0, refs.length * ENCODED_BYTES);
    let at = 0;
    for (const b of sealed) { buf.set(b, at); at += b.length; }
    const id = ++this.seq;
    const w = this.workers[this.next++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const req: DecodeRequest = { id, kind, appId, key: new Uint8Array(key), refs, lengths: sealed.map((b) => b.length), sealed: buf, out };
      w.postMessage(req, [buf.buffer as ArrayBuffer, out.buffer as ArrayBuffer, req.key.buffer as ArrayBuffer]);
    });
  }

  /** Returns a decode() result, already zeroed by the caller, for reuse. */
  release(encoded: Uint8Array): void {
    this.outPool.push(encoded.buffer as ArrayBuffer);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** A pooled buffer of at least `bytes` (zeroed when it was returned), else a new one. */
function take(pool: ArrayBuffer[], bytes: number): ArrayBuffer {
  const i = pool.findIndex((b) => b.byteLength >= bytes);
  return i >= 0 ? pool.splice(i, 1)[0] : new ArrayBuffer(bytes);
}
