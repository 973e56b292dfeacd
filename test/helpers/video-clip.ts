// Short clips for video tests, made from the test data (never stored in the repository).
import fs from 'node:fs';
import path from 'node:path';
import { decodeFrames, probeVideo, VideoWriter } from '../../src/vision/video/index.ts';
import { TESTDATA } from './testdata.ts';

export const HAMILTON = path.join(TESTDATA, 'video', 'short_hamilton_clip.mp4');

/**
 * `count` frames of the Hamilton clip from frame `first` (one face, frontal), re-timed from 0, with
 * the matching audio; `o.edit` may change each frame's RGB in place, `o.crf` sets the encoder's quality.
 */
export function cutHamilton(out: string, first = 100, count = 24, o: { crf?: number; edit?: (rgb: Buffer) => void; double?: boolean } = {}): string {
  const info = probeVideo(HAMILTON);
  // `double`: each frame twice at twice the rate (a 59.94 fps clip of the same length), the copy half a frame later.
  const rate = o.double ? { frameRate: { num: 2 * info.fpsNum, den: info.fpsDen } } : {};
  const w = new VideoWriter(out, HAMILTON, info.width, info.height, { tags: {}, maxAudioSec: count / info.fps, preset: 'ultrafast', crf: o.crf, ...rate });
  let pts0: bigint | null = null, last: { rgb: Buffer | Uint8Array; pts: bigint } | null = null, step = 0n;
  const put = (f: { rgb: Buffer | Uint8Array; pts: bigint }, next: bigint) => { w.write(f.rgb, f.pts); if (o.double) w.write(f.rgb, f.pts + (next - f.pts) / 2n); };
  for (const f of decodeFrames(HAMILTON)) {
    if (f.index < first) continue;
    if (f.index >= first + count) break;
    pts0 ??= f.pts;
    const rgb = o.edit ? Buffer.from(f.rgb) : f.rgb;
    o.edit?.(rgb);
    const pts = f.pts - pts0;
    if (last) { step = pts - last.pts; put(last, pts); }
    last = { rgb, pts };
  }
  if (last) put(last, last.pts + step);
  w.finish();
  return out;
}

/** A plain grey clip (no audio) of any size, frame rate and length (for the limits). */
export function solidClip(out: string, o: { width: number; height: number; fps: number; frames: number }): string {
  // VideoWriter needs a source for its time base and audio: the face-api clip has no audio; its
  // time base (1/24000) is fine for any rate; pts are spaced for the wanted rate.
  const src = path.join(TESTDATA, 'video', 'face_api_test_clip.mp4');
  const w = new VideoWriter(out, src, o.width, o.height, { tags: {}, preset: 'ultrafast', frameRate: { num: o.fps, den: 1 } });
  const buf = Buffer.alloc(o.width * o.height * 3, 128);
  const tb = 24000;
  for (let i = 0; i < o.frames; i++) w.write(buf, BigInt(Math.round((i * tb) / o.fps)));
  w.finish();
  return out;
}

export const readClip = (p: string) => fs.readFileSync(p);

/** Fills `buf` with xorshift32 noise (cheap; `state` carries on between calls). */
function noise(buf: Buffer, state: { x: number }, add = false, amp = 255): void {
  let x = state.x;
  for (let k = 0; k < buf.length; k++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    if (!add) buf[k] = x & 255;
    else buf[k] = Math.max(0, Math.min(255, buf[k] + ((x & 255) % (2 * amp + 1)) - amp));
  }
  state.x = x;
}

/**
 * Pure noise frames, losslessly encoded (crf 0): about 1.7 MB a frame at 1280x720, so a few
 * hundred frames make the hundreds of MB the streaming tests need (no audio).
 */
export function noiseClip(out: string, o: { width: number; height: number; fps: number; frames: number }): string {
  const src = path.join(TESTDATA, 'video', 'face_api_test_clip.mp4');
  const w = new VideoWriter(out, src, o.width, o.height, { tags: {}, preset: 'ultrafast', crf: 0, frameRate: { num: o.fps, den: 1 } });
  const buf = Buffer.alloc(o.width * o.height * 3);
  const state = { x: 2463534242 };
  for (let i = 0; i < o.frames; i++) {
    noise(buf, state);
    w.write(buf, BigInt(Math.round((i * 24000) / o.fps)));
  }
  w.finish();
  return out;
}

/** cutHamilton with grain (±amp) and a low crf, so the file is large (several MB) but the face still found. */
export function grainyHamilton(out: string, first = 100, count = 24, amp = 10): string {
  const info = probeVideo(HAMILTON);
  const w = new VideoWriter(out, HAMILTON, info.width, info.height, { tags: {}, maxAudioSec: count / info.fps, preset: 'ultrafast', crf: 6 });
  const state = { x: 88172645 };
  let pts0: bigint | null = null;
  for (const f of decodeFrames(HAMILTON)) {
    if (f.index < first) continue;
    if (f.index >= first + count) break;
    pts0 ??= f.pts;
    const rgb = Buffer.from(f.rgb);
    noise(rgb, state, true, amp);
    w.write(rgb, f.pts - pts0);
  }
  w.finish();
  return out;
}
