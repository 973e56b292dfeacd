// Video face fusion as a stream: decode a frame → fuse its tracked faces in the fusion worker
// pool → mark → encode, with a few frames in flight so decoding, the workers and libx264's
// threads all run at once. Memory is bounded by `inFlight` frames (never the whole video).
// Frames whose face is absent, too small or too turned pass through untouched.
import type { FuseFaceJob, Patch } from '../fusion/fuse.ts';
import type { Raster } from '../fusion/warp.ts';
import { drawLabel } from '../fusion/label.ts';
import type { RgbImage } from '../types.ts';
import { decodeFrames, VideoWriter, type VideoInfo } from './media.ts';
import { pointAt, type Track } from './tracker.ts';
import { faceUsable } from './face-usable.ts';

/** The fusion engine's entry point (FusionPool.run, or fuseIntoTemplate inline). */
export interface FusionRunner { run(template: Raster, jobs: FuseFaceJob[]): Promise<Patch[]> }

/** One user face, fused wherever its template track is. */
export interface VideoFace { trackId: number; user: Raster; userMesh: ArrayLike<number>; profile: number; appearance: number; detail?: number }

/** An RGBA image already sized to its rectangle, and where it goes (clipped to the frame). */
export interface LogoOverlay { rgba: Uint8Array; width: number; height: number; left: number; top: number }

export interface FuseVideoOptions {
  source: string;
  output: string;
  info: VideoInfo;
  tracks: Track[];
  faces: VideoFace[];
  /** The visible mark: the built-in "AI-GENERATED" label, a caller's logo, or none (LogoAdd=0). */
  mark: { kind: 'label' } | { kind: 'logo'; logo: LogoOverlay } | { kind: 'none' };
  /** Container metadata; the AI-generated mark is always among them (services add it). */
  tags: Record<string, string>;
  pool: FusionRunner;
  /** Frames decoded ahead of the encoder; default 2 per fusion worker + 2. */
  inFlight?: number;
  /** Smallest face side that is fused (smaller faces pass through); default 34. */
  minFace?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  crf?: number;
  preset?: string;
}

export interface FuseVideoResult { frames: number; fusedFrames: number; passedFrames: number; ms: number }

export class VideoCancelled extends Error { constructor() { super('the video job was cancelled'); } }

export async function fuseVideo(o: FuseVideoOptions): Promise<FuseVideoResult> {
  const t0 = performance.now();
  const { width, height } = o.info;
  const writer = new VideoWriter(o.output, o.source, width, height, { tags: o.tags, crf: o.crf, preset: o.preset });
  const tracks = new Map(o.tracks.map((t) => [t.id, t]));
  const total = o.info.frames || Math.round(o.info.durationSec * o.info.fps);
  const inFlight = Math.max(2, o.inFlight ?? 6);
  const queue: Promise<{ rgb: Uint8Array; pts: bigint }>[] = [];
  let done = 0, fused = 0, passed = 0;
  const flushOne = async () => {
    const r = await queue.shift()!;
    writer.write(r.rgb, r.pts);
    done++;
    o.onProgress?.(done, Math.max(total, done));
  };
  try {
    for (const f of decodeFrames(o.source)) {
      if (o.signal?.aborted) throw new VideoCancelled();
      if (f.width !== width || f.height !== height) throw new Error(`frame ${f.index} is ${f.width}x${f.height}; the video is ${width}x${height}`);
      // Shared memory: the fusion worker reads the frame without a copy.
      const data = new Uint8Array(new SharedArrayBuffer(f.rgb.length));
      data.set(f.rgb);
      const frame: RgbImage = { width, height, data: data as unknown as Buffer };
      const jobs: FuseFaceJob[] = [];
      for (const face of o.faces) {
        const p = tracks.get(face.trackId) && pointAt(tracks.get(face.trackId)!, f.index);
        if (!p?.mesh || !faceUsable(p.box, p.mesh, o.minFace ?? 34)) continue;
        jobs.push({ templateMesh: p.mesh, user: face.user, userMesh: face.userMesh, profile: face.profile, appearance: face.appearance, detail: face.detail });
      }
      if (jobs.length) fused++; else passed++;
      const pts = f.pts;
      queue.push((jobs.length ? o.pool.run(frame, jobs) : Promise.resolve([] as Patch[])).then((patches) => {
        for (const patch of patches) paste(frame, patch);
        mark(frame, o.mark);
        return { rgb: data, pts };
      }));
      // Keep a rejected frame from being reported unhandled while it waits its turn.
      queue[queue.length - 1].catch(() => {});
      while (queue.length >= inFlight) await flushOne();
    }
    while (queue.length) {
      if (o.signal?.aborted) throw new VideoCancelled();
      await flushOne();
    }
    writer.finish();
  } catch (e) {
    writer.close();
    await Promise.allSettled(queue);
    throw e;
  }
  return { frames: done, fusedFrames: fused, passedFrames: passed, ms: performance.now() - t0 };
}

function paste(frame: RgbImage, patch: Patch): void {
  for (let y = 0; y < patch.height; y++) {
    frame.data.set(patch.data.subarray(y * patch.width * 3, (y + 1) * patch.width * 3), ((y + patch.y) * frame.width + patch.x) * 3);
  }
}

function mark(frame: RgbImage, m: FuseVideoOptions['mark']): void {
  if (m.kind === 'label') drawLabel(frame);
  else if (m.kind === 'logo') overlay(frame, m.logo);
}

/** Alpha-composites the logo onto the frame, clipped to it. */
export function overlay(frame: RgbImage, l: LogoOverlay): void {
  const d = frame.data;
  for (let y = 0; y < l.height; y++) {
    const fy = y + l.top;
    if (fy < 0 || fy >= frame.height) continue;
    for (let x = 0; x < l.width; x++) {
      const fx = x + l.left;
      if (fx < 0 || fx >= frame.width) continue;
      const s = (y * l.width + x) * 4, t = (fy * frame.width + fx) * 3;
      const a = l.rgba[s + 3] / 255;
      d[t] = d[t] * (1 - a) + l.rgba[s] * a;
      d[t + 1] = d[t + 1] * (1 - a) + l.rgba[s + 1] * a;
      d[t + 2] = d[t + 2] * (1 - a) + l.rgba[s + 2] * a;
    }
  }
}
