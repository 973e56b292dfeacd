// The media thread of one video job: node-av's calls are synchronous (its async API needs
// Node ≥ 22, media.ts), so decoding, pasting the fused patches, the visible mark, RGB → YUV and
// libx264's submission all run here instead of on the event loop that answers API requests.
// One frame is handled per turn of this thread's loop, so write and close messages are served
// between decodes. The thread ends by closing its port (never terminate(): node-av's contexts are
// freed by us, in order; media.ts on what crashes when they are not).
import { parentPort } from 'node:worker_threads';
import { drawLabel } from '../fusion/label.ts';
import type { Patch } from '../fusion/fuse.ts';
import type { RgbImage } from '../types.ts';
import { decodeFrames, MediaError, VideoWriter, type DecodedFrame } from './media.ts';
import { overlay, type LogoOverlay } from './overlay.ts';
import { ShotCutDetector } from './shot-cut.ts';
import type { MediaRequest, MediaReply } from './media-protocol.ts';

const port = parentPort!;
let reader: Generator<DecodedFrame> | null = null;
let credits = 0;
let cuts = new ShotCutDetector();
let pumping = false;
let writer: VideoWriter | null = null;
let mark: { kind: 'label' } | { kind: 'logo'; logo: LogoOverlay } | { kind: 'none' } = { kind: 'none' };
let width = 0, height = 0;

// Decoded frames' buffers the job has handed back (written or released), reused for the next
// frames instead of a new SharedArrayBuffer per frame: what is allocated is bounded by the frames
// the job holds at once (decoded ahead + in the fusion workers + queued for the encoder), and the
// garbage between collections no longer grows with the frame rate. Only buffers this thread
// allocated come back (the job marks them), so a caller's own buffer is never decoded into.
const FREE_MAX = 4;
let free: SharedArrayBuffer[] = [];
let allocated = 0;
function frameBuffer(bytes: number): Uint8Array {
  let b = free.pop();
  while (b && b.byteLength !== bytes) b = free.pop(); // another size (a new video): dropped
  if (!b) { b = new SharedArrayBuffer(bytes); allocated++; }
  return new Uint8Array(b);
}
function recycle(rgb: Uint8Array): void {
  const b = rgb.buffer;
  if (b instanceof SharedArrayBuffer && rgb.byteOffset === 0 && rgb.byteLength === b.byteLength && free.length < FREE_MAX) free.push(b);
}

const send = (m: MediaReply, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);
const fail = (e: unknown) => send({ t: 'error', kind: e instanceof MediaError ? e.kind : null, message: (e as Error).message ?? String(e) });

function pump(): void {
  if (pumping || !reader || credits <= 0) return;
  pumping = true;
  setImmediate(() => {
    pumping = false;
    if (!reader || credits <= 0) return;
    try {
      const n = reader.next();
      if (n.done) { reader = null; send({ t: 'end', buffers: allocated }); return; }
      const f = n.value;
      // Shared memory: the fusion workers and this thread read the frame without a copy.
      const rgb = frameBuffer(f.rgb.length);
      rgb.set(f.rgb);
      credits--;
      send({ t: 'frame', index: f.index, width: f.width, height: f.height, pts: f.pts, rgb, cut: cuts.push(rgb, f.width, f.height) });
    } catch (e) {
      closeReader();
      fail(e);
      return;
    }
    pump();
  });
}

function closeReader(): void {
  try { reader?.return(undefined); } catch { /* already failed */ }
  reader = null;
}

function paste(frame: RgbImage, patch: Patch): void {
  for (let y = 0; y < patch.height; y++) {
    frame.data.set(patch.data.subarray(y * patch.width * 3, (y + 1) * patch.width * 3), ((y + patch.y) * frame.width + patch.x) * 3);
  }
}

port.on('message', (m: MediaRequest) => {
  try {
    switch (m.t) {
      case 'read':
        closeReader();
        reader = decodeFrames(m.path);
        cuts = new ShotCutDetector();
        free = [];
        allocated = 0;
        credits = m.ahead;
        pump();
        break;
      case 'credit':
        credits += m.n;
        pump();
        break;
      case 'open':
        width = m.width; height = m.height; mark = m.mark;
        writer = new VideoWriter(m.output, m.source, m.width, m.height, m.encode);
        send({ t: 'opened' });
        break;
      case 'write': {
        const frame: RgbImage = { width, height, data: m.rgb as unknown as Buffer };
        for (const p of m.patches) paste(frame, p);
        if (mark.kind === 'label') drawLabel(frame);
        else if (mark.kind === 'logo') overlay(frame, mark.logo);
        writer!.write(m.rgb, m.pts, m.patches); // converted to YUV and copied: the RGB buffer is free again
        if (m.recycle) recycle(m.rgb);
        send({ t: 'written', seq: m.seq });
        break;
      }
      case 'release':
        recycle(m.rgb);
        break;
      case 'finish':
        writer?.finish();
        writer = null;
        send({ t: 'finished' });
        break;
      case 'close':
        closeReader();
        writer?.close();
        writer = null;
        send({ t: 'closed' });
        port.close();
        break;
    }
  } catch (e) {
    if (m.t === 'write' || m.t === 'finish' || m.t === 'open') { writer?.close(); writer = null; }
    fail(e);
  }
});
