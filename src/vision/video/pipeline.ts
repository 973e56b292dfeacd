// Video face fusion as a stream: the job's media thread decodes a frame → its tracked faces are
// fused in the fusion worker pool → the media thread pastes the patches, marks and encodes, with
// a few frames in flight so decoding, the fusion workers and libx264's threads all run at once and
// the event loop only passes messages. Memory is bounded by `inFlight` + 2 decoded-ahead + 3
// queued-for-encoding frames (never the whole video). Frames whose face is absent, too small or
// too turned pass through untouched. Each face keeps the user's shape but the template's mouth and
// eyes (lips move with the singer; fusion/regions.ts), and its colour is matched once per shot
// (at the decoded frames' cut flags; fusion/shot-colour.ts), so its tone holds within a shot.
import type { FuseFaceJob, Patch } from '../fusion/fuse.ts';
import { eyesOpening, mouthOpening, type RegionDegrees } from '../fusion/regions.ts';
import { templateSkinColour, type Rgb } from '../fusion/shot-colour.ts';
import type { Raster } from '../fusion/warp.ts';
import type { Area } from '../fusion/frame-border.ts';
import type { RgbImage } from '../types.ts';
import type { VideoInfo } from './media.ts';
import { MediaThread } from './media-thread.ts';
import type { VideoMark } from './media-protocol.ts';
import { pointAt, type Track } from './tracker.ts';
import { fusedFrames } from './face-usable.ts';
export { overlay, type LogoOverlay } from './overlay.ts';

/** The fusion engine's entry point (FusionPool.run, or fuseIntoTemplate inline). */
export interface FusionRunner { run(template: Raster, jobs: FuseFaceJob[]): Promise<Patch[]> }

/** One user face, fused wherever its template track is. */
export interface VideoFace {
  trackId: number; user: Raster; userMesh: ArrayLike<number>; profile: number; appearance: number; detail?: number;
  /** Degree of the mouth and eyes apart from `profile` (default VIDEO_REGIONS with the track's rest opening; null = `profile` everywhere). */
  regions?: RegionDegrees | null;
  /** The engine's optional passes for this face (FuseFaceJob.tuning; default the engine's DEFAULT_TUNING). */
  tuning?: FuseFaceJob['tuning'];
  /** The user's identity embedding: with a learned swap model installed (FACEVAULT_SWAP_MODEL) each frame's face is swapped by it (FuseFaceJob.userEmbedding). */
  userEmbedding?: Float32Array;
}

/**
 * The template's mouth and eye movement in full, so lips and blinks follow the template whatever
 * `profile` the rest of the face takes. The pipeline adds the track's rest openings (`mouthRest`,
 * `eyesRest`: medians over its fused frames), so the user's mouth and eyes open and close with
 * the template's from the photo's own expression.
 */
export const VIDEO_REGIONS: RegionDegrees = { mouth: 1, eyes: 1 };

/** The median of `measure` (mouthOpening, eyesOpening) over the frames a track is fused in: its rest. */
export function restOpening(points: readonly { frame: number; mesh: ArrayLike<number> | null }[], frames: Set<number>, measure: (mesh: ArrayLike<number>) => number): number | undefined {
  const o = points.filter((p) => p.mesh && frames.has(p.frame)).map((p) => measure(p.mesh!)).sort((a, b) => a - b);
  return o.length ? o[o.length >> 1] : undefined;
}

export interface FuseVideoOptions {
  source: string;
  output: string;
  info: VideoInfo;
  tracks: Track[];
  faces: VideoFace[];
  /** The visible mark: the built-in "AI-GENERATED" label, a caller's logo, or none (LogoAdd=0). */
  mark: VideoMark;
  /** Container metadata; the AI-generated mark is always among them (services add it). */
  tags: Record<string, string>;
  pool: FusionRunner;
  /** Frames in the fusion workers at once (decoded, not yet encoded); default 6. */
  inFlight?: number;
  /**
   * The frame inside the clip's letterbox or pillarbox bars (TrackingResult.picture), so the bars
   * stay as they are in every frame; without it each frame's border is found on that frame alone.
   */
  picture?: Area | null;
  /** Smallest face side that is fused (smaller faces pass through); default 34. */
  minFace?: number;
  /** Colour matched once per shot (default) or on every frame (the image engine's own rule). */
  colour?: 'shot' | 'frame';
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  crf?: number;
  preset?: string;
  /**
   * Encoder quantiser offset over the fused faces' patches (EncodeOptions.regionQOffset); default
   * FACE_QOFFSET. At crf 20 alone the encoder blurred the fused faces enough to cost identity
   * (docs/PERFORMANCE.md, "2026-12-02 afternoon: video identity"); 0 = the whole frame at `crf`.
   */
  faceQOffset?: number;
}

/** The fused faces are encoded ≈ 10 QP finer than the rest of the frame (−0.2 of libx264's 51). */
export const FACE_QOFFSET = -0.2;

export interface FuseVideoResult {
  frames: number; fusedFrames: number; passedFrames: number; ms: number;
  /** Frame buffers the media thread allocated (each is reused once its frame is encoded): bounded by the frames in flight, not the video's length. */
  frameBuffers: number;
}

export class VideoCancelled extends Error { constructor() { super('the video job was cancelled'); } }

export async function fuseVideo(o: FuseVideoOptions): Promise<FuseVideoResult> {
  const t0 = performance.now();
  const { width, height } = o.info;
  const media = new MediaThread();
  const tracks = new Map(o.tracks.map((t) => [t.id, t]));
  // Which frames each chosen face is fused in, decided over the whole track (no one-frame flicker).
  const fusedIn = new Map(o.faces.map((f) => [f.trackId, fusedFrames(tracks.get(f.trackId)?.points ?? [], o.minFace ?? 34)]));
  const regionsOf = new Map(o.faces.map((f) => {
    const points = tracks.get(f.trackId)?.points ?? [], frames = fusedIn.get(f.trackId)!;
    return [f.trackId, f.regions === null ? undefined : { mouthRest: restOpening(points, frames, mouthOpening), eyesRest: restOpening(points, frames, eyesOpening), ...(f.regions ?? VIDEO_REGIONS) }];
  }));
  const total = o.info.frames || Math.round(o.info.durationSec * o.info.fps);
  const inFlight = Math.max(2, o.inFlight ?? 6);
  const queue: Promise<{ rgb: Uint8Array; pts: bigint; patches: Patch[] }>[] = [];
  const writes: Promise<void>[] = [];
  let done = 0, fused = 0, passed = 0, frameBuffers = 0;
  // Per face, the template's skin colour of the current shot, measured on its first fused frame.
  const shotColour = new Map<number, Rgb | null>();
  const flushOne = async () => {
    const r = await queue.shift()!;
    writes.push(media.write(r.rgb, r.pts, r.patches).then(() => { done++; o.onProgress?.(done, Math.max(total, done)); }));
    writes[writes.length - 1].catch(() => {});
    // The encoder's queue: a few frames, so a slow encoder holds the decoder back.
    while (writes.length > 3) await writes.shift();
  };
  try {
    await media.openWriter({ output: o.output, source: o.source, width, height, encode: { tags: o.tags, crf: o.crf, preset: o.preset, regionQOffset: o.faceQOffset ?? FACE_QOFFSET }, mark: o.mark });
    for await (const f of media.frames(o.source, 2)) {
      if (o.signal?.aborted) throw new VideoCancelled();
      if (f.width !== width || f.height !== height) throw new Error(`frame ${f.index} is ${f.width}x${f.height}; the video is ${width}x${height}`);
      const frame: RgbImage = { width, height, data: f.rgb as unknown as Buffer };
      if (f.cut) shotColour.clear();
      const jobs: FuseFaceJob[] = [];
      for (const face of o.faces) {
        const p = tracks.get(face.trackId) && pointAt(tracks.get(face.trackId)!, f.index);
        if (!p?.mesh || !fusedIn.get(face.trackId)!.has(f.index)) continue;
        if ((o.colour ?? 'shot') === 'shot' && !shotColour.has(face.trackId)) shotColour.set(face.trackId, templateSkinColour(frame, p.mesh));
        const colourReference = shotColour.get(face.trackId) ?? undefined;
        const regions = regionsOf.get(face.trackId);
        jobs.push({ templateMesh: p.mesh, user: face.user, userMesh: face.userMesh, profile: face.profile, appearance: face.appearance, detail: face.detail, regions, colourReference, tuning: face.tuning, ...(face.userEmbedding ? { userEmbedding: face.userEmbedding } : {}), ...(o.picture ? { picture: o.picture } : {}) });
      }
      if (jobs.length) fused++; else passed++;
      const rgb = f.rgb, pts = f.pts;
      queue.push((jobs.length ? o.pool.run(frame, jobs) : Promise.resolve([] as Patch[])).then((patches) => ({ rgb, pts, patches })));
      // Keep a rejected frame from being reported unhandled while it waits its turn.
      queue[queue.length - 1].catch(() => {});
      while (queue.length >= inFlight) await flushOne();
    }
    while (queue.length) {
      if (o.signal?.aborted) throw new VideoCancelled();
      await flushOne();
    }
    while (writes.length) await writes.shift();
    await media.finish();
    frameBuffers = media.buffersAllocated;
  } catch (e) {
    await Promise.allSettled([...queue, ...writes]);
    throw e;
  } finally {
    await media.close();
  }
  return { frames: done, fusedFrames: fused, passedFrames: passed, ms: performance.now() - t0, frameBuffers };
}
