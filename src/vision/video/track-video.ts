// The material's tracking pass: every frame decoded, its faces found (by the caller's
// detector: the shared inference pool), associated into stable tracks and smoothed. A few
// frames are in flight so the inference workers stay busy while the next frame decodes (in the
// media thread: node-av's decoding is synchronous and stays off the event loop).
import type { RgbImage } from '../types.ts';
import type { VideoInfo } from './media.ts';
import { MediaThread } from './media-thread.ts';
import { FaceTracker, type FrameDetection, type Track, type TrackerOptions } from './tracker.ts';
import { BarsOverTime } from './letterbox.ts';
import type { Area } from '../fusion/frame-border.ts';

export type FrameDetector = (frame: RgbImage, index: number) => Promise<FrameDetection[]>;

/** `picture`: the frame inside the clip's letterbox or pillarbox bars (letterbox.ts), the whole frame without; null when too few frames to tell. */
export interface TrackingResult { tracks: Track[]; frames: number; ms: number; picture: Area | null }

export async function trackVideo(path: string, info: VideoInfo, detect: FrameDetector, o: TrackerOptions & { inFlight?: number; onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {}): Promise<TrackingResult> {
  const t0 = performance.now();
  const tracker = new FaceTracker(o);
  const total = info.frames || Math.round(info.durationSec * info.fps);
  const queue: Promise<FrameDetection[]>[] = [];
  const cuts: boolean[] = [];
  const pixels: Uint8Array[] = [];
  let next = 0;
  const media = new MediaThread();
  let bars: BarsOverTime | null = null;
  // Once a frame's faces are in, its buffer goes back to the media thread for a later frame.
  const take = async () => { const dets = await queue.shift()!; media.release(pixels.shift()!); tracker.step(next, dets, cuts.shift()); next++; o.onProgress?.(next, Math.max(total, next)); };
  try {
    for await (const f of media.frames(path, 2)) {
      if (o.signal?.aborted) throw new Error('tracking was cancelled');
      (bars ??= new BarsOverTime(f.width, f.height)).add(f.rgb);
      cuts.push(f.cut);
      pixels.push(f.rgb);
      queue.push(detect({ width: f.width, height: f.height, data: f.rgb as unknown as Buffer }, f.index));
      queue[queue.length - 1].catch(() => {});
      while (queue.length >= (o.inFlight ?? 4)) await take();
    }
    while (queue.length) await take();
  } finally {
    await Promise.allSettled(queue);
    await media.close();
  }
  return { tracks: tracker.finish(info.fps || 25), frames: next, ms: performance.now() - t0, picture: bars?.area() ?? null };
}
