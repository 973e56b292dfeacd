// A video job's side of its media thread (media-worker.ts): frames come in as an async
// iterator with credit-based flow control (at most `ahead` decoded frames wait for the job), and
// fused frames go out to be pasted, marked and encoded there. The event loop only passes
// messages and shared-memory frames, so a running job does not stall API requests.
import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../../domain/ts-worker.ts';
import type { Patch } from '../fusion/fuse.ts';
import { MediaError, type EncodeOptions } from './media.ts';
import type { MediaReply, MediaRequest, VideoMark } from './media-protocol.ts';

/** A decoded frame; `cut` when it starts a new shot. */
export interface ThreadFrame { index: number; width: number; height: number; pts: bigint; rgb: Uint8Array; cut: boolean }

type Waiter = { resolve(m: MediaReply): void; reject(e: Error): void };

export class MediaThread {
  private readonly w: Worker;
  private frameWaiter: Waiter | null = null;
  private readonly frameQueue: MediaReply[] = [];
  private control: Waiter | null = null;
  private readonly writes = new Map<number, Waiter>();
  private seq = 0;
  private failure: Error | null = null;
  private exited: Promise<void>;
  private closing: Promise<void> | null = null;
  /** The buffers of decoded frames not yet handed back (each goes back once: twice would give two frames one buffer). */
  private readonly decoded = new WeakSet<ArrayBufferLike>();
  /** Frame buffers the media thread allocated for the last read that ended (the others were reused). */
  buffersAllocated = 0;

  constructor() {
    this.w = tsWorker(new URL('./media-worker.ts', import.meta.url));
    this.w.on('message', (m: MediaReply) => this.onMessage(m));
    this.w.on('error', (e) => this.fail(e));
    this.exited = new Promise((r) => this.w.once('exit', (code) => { this.fail(new Error(`the media thread exited (code ${code})`)); r(); }));
  }

  private onMessage(m: MediaReply): void {
    if (m.t === 'error') { this.fail(m.kind ? new MediaError(m.kind, m.message) : new Error(m.message)); return; }
    if (m.t === 'frame' || m.t === 'end') {
      if (this.frameWaiter) { const w = this.frameWaiter; this.frameWaiter = null; w.resolve(m); } else this.frameQueue.push(m);
      return;
    }
    if (m.t === 'written') { const w = this.writes.get(m.seq); this.writes.delete(m.seq); w?.resolve(m); return; }
    const c = this.control;
    this.control = null;
    c?.resolve(m);
  }

  /** Every pending and later call fails with the first error (a codec error, or the thread died). */
  private fail(e: Error): void {
    this.failure ??= e;
    const all = [this.frameWaiter, this.control, ...this.writes.values()];
    this.frameWaiter = null; this.control = null; this.writes.clear();
    for (const w of all) w?.reject(this.failure);
  }

  private post(m: MediaRequest): void {
    if (this.failure) throw this.failure;
    this.w.postMessage(m);
  }

  private request(m: MediaRequest): Promise<MediaReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => { this.control = { resolve, reject }; this.post(m); });
  }

  /** The video's frames (RGB24 in shared memory), in presentation order; `ahead` decoded in advance. */
  async *frames(path: string, ahead = 2): AsyncGenerator<ThreadFrame> {
    this.post({ t: 'read', path, ahead: Math.max(1, ahead) });
    for (;;) {
      const m = this.frameQueue.shift() ?? await new Promise<MediaReply>((resolve, reject) => {
        if (this.failure) reject(this.failure); else this.frameWaiter = { resolve, reject };
      });
      if (m.t !== 'frame') { if (m.t === 'end') this.buffersAllocated = m.buffers; return; }
      this.decoded.add(m.rgb.buffer);
      this.post({ t: 'credit', n: 1 });
      yield m;
    }
  }

  async openWriter(o: { output: string; source: string; width: number; height: number; encode: EncodeOptions; mark: VideoMark }): Promise<void> {
    await this.request({ t: 'open', ...o });
  }

  /**
   * Resolves once the frame (its patches pasted, marked) has gone to the encoder. A decoded
   * frame's buffer (from frames()) is handed back with it and reused for a later frame: its
   * pixels must not be read after this call.
   */
  write(rgb: Uint8Array, pts: bigint, patches: Patch[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = this.seq++;
    const recycle = this.decoded.delete(rgb.buffer);
    return new Promise((resolve, reject) => {
      this.writes.set(seq, { resolve: () => resolve(), reject });
      this.post({ t: 'write', seq, rgb, pts, patches, recycle });
    });
  }

  /** A decoded frame the caller is done with and does not write: its buffer is reused for a later frame. */
  release(rgb: Uint8Array): void {
    if (this.failure || !this.decoded.delete(rgb.buffer)) return;
    this.post({ t: 'release', rgb });
  }

  /** Flushes the encoder and writes the trailer. */
  async finish(): Promise<void> {
    await this.request({ t: 'finish' });
  }

  /** Closes the reader and an unfinished writer (the file is then incomplete) and lets the thread end. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.failure) { try { await this.request({ t: 'close' }); } catch { /* it failed meanwhile */ } }
      // A thread that failed is still told to close what it holds; it then ends on its own.
      else { try { this.w.postMessage({ t: 'close' } satisfies MediaRequest); } catch { /* gone */ } }
      await this.exited;
    })();
    return this.closing;
  }
}
