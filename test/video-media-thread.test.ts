// The video pipeline's decoding and encoding run in the job's media thread, not on the event
// loop: measured as the main thread's own CPU time (Linux per-thread counters, not wall time, so
// other load on the machine does not count) while the pipeline runs, against the main-thread
// CPU of the same decode + mark + encode done inline on it, in the same run. Also: the result
// keeps every frame and the audio, a codec error surfaces as a MediaError, and cancelling stops
// the media thread.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason } from './helpers/testdata.ts';
import { cutHamilton } from './helpers/video-clip.ts';
import { hasThreadCpu, mainThreadCpuMs } from './helpers/main-thread-cpu.ts';
import { drawLabel } from '../src/vision/fusion/label.ts';
import { decodeFrames, fuseVideo, MediaError, probeVideo, VideoCancelled, VideoWriter } from '../src/vision/video/index.ts';

const noFusion = { run: async () => [] };

describe.skipIf(!hasTestdata || !hasThreadCpu)(`video media thread${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  const dir = tempDir('facevault-video-thread-');
  const clip = path.join(dir, 'clip.mp4');
  beforeAll(() => { cutHamilton(clip, 0, 60); }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decode, mark and encode cost the event loop a fraction of what they cost inline', async () => {
    const info = probeVideo(clip);
    expect(info.frames).toBe(60);
    // Inline on this thread: what the event loop ran for each frame before the media thread.
    const c0 = mainThreadCpuMs();
    const w = new VideoWriter(path.join(dir, 'inline.mp4'), clip, info.width, info.height, { tags: { aigc: '1' } });
    for (const f of decodeFrames(clip)) { drawLabel({ width: f.width, height: f.height, data: f.rgb }); w.write(f.rgb, f.pts); }
    w.finish();
    const inline = mainThreadCpuMs() - c0;
    const c1 = mainThreadCpuMs();
    const out = path.join(dir, 'piped.mp4');
    const r = await fuseVideo({ source: clip, output: out, info, tracks: [], faces: [], pool: noFusion, mark: { kind: 'label' }, tags: { aigc: '1' } });
    const piped = mainThreadCpuMs() - c1;
    expect(r.frames).toBe(60);
    const o = probeVideo(out);
    expect(o.frames).toBe(60);
    expect(o.audio?.channels).toBe(2);
    expect(o.tags.aigc).toBe('1');
    // The same frames came out, each in its place: the label is there and the picture is the
    // template's, on every frame (the media thread reuses its frame buffers once encoded).
    const A = [...decodeFrames(path.join(dir, 'inline.mp4'))], B = [...decodeFrames(out)];
    expect(B.length).toBe(A.length);
    for (let k = 0; k < A.length; k++) {
      const a = A[k].rgb, b = B[k].rgb;
      let d = 0;
      for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
      expect(d / a.length, `frame ${k}`).toBeLessThan(1);
    }
    // A small ring, not a new buffer per frame: 6 in the fusion stage + 2 decoded ahead + 3 queued for the encoder + the free list.
    console.info(`video media thread: ${r.frameBuffers} frame buffers for ${r.frames} frames`);
    expect(r.frameBuffers).toBeLessThanOrEqual(16);
    console.info(`video media thread: event-loop CPU ${piped} ms through the media thread vs ${inline} ms inline (60 frames 640x360)`);
    expect(inline, 'the inline reference must be measurable (10 ms counters)').toBeGreaterThanOrEqual(100);
    expect(piped, `event-loop CPU: ${piped} ms through the media thread, ${inline} ms inline`).toBeLessThan(inline / 3);
  }, 120_000);

  it('an unreadable template fails as a MediaError, and a cancelled job stops with its media thread', async () => {
    const bad = path.join(dir, 'bad.mp4');
    fs.writeFileSync(bad, Buffer.alloc(4096, 7));
    const info = probeVideo(clip);
    await expect(fuseVideo({ source: bad, output: path.join(dir, 'x.mp4'), info, tracks: [], faces: [], pool: noFusion, mark: { kind: 'none' }, tags: {} })).rejects.toBeInstanceOf(MediaError);
    const ac = new AbortController();
    const run = fuseVideo({ source: clip, output: path.join(dir, 'c.mp4'), info, tracks: [], faces: [], pool: noFusion, mark: { kind: 'none' }, tags: {}, signal: ac.signal, onProgress: (done) => { if (done === 5) ac.abort(); } });
    await expect(run).rejects.toBeInstanceOf(VideoCancelled);
  }, 60_000);
});
