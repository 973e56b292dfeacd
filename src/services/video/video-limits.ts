// Tencent's limits for a template video (vclm 2024-05-23 and the intl video materials), checked
// on the probed metadata before any frame is decoded.
import { TcError } from '../../domain/errors.ts';
import type { VideoInfo } from '../../vision/video/index.ts';

export const VIDEO_LIMITS = {
  maxBytes: 1024 * 1024 * 1024, // 1 GB
  maxSeconds: 20,
  /** 4K: the long side up to 4096, the short side up to 2160. */
  maxLongSide: 4096,
  maxShortSide: 2160,
  /**
   * Tencent says ≤ 25 fps, or resampled. We keep every frame of clips up to 30 fps (29.97 is what
   * phones and most web clips have; keeping the frame rate keeps frame count and audio sync exact)
   * and resample faster ones up to this, keeping every n-th frame (media.ts MAX_FPS: 60 → 30).
   */
  maxSourceFps: 120,
  /** User photos (MergeFaceImage / MergeInfos): ≤ 10 MB; face ≥ 68 px (vclm). */
  maxUserImageBytes: 10 * 1024 * 1024,
};

/** ISO BMFF (mp4/mov) by its first box: "ftyp" at offset 4. */
export function isMp4(b: Uint8Array): boolean {
  return b.length >= 12 && b[4] === 0x66 && b[5] === 0x74 && b[6] === 0x79 && b[7] === 0x70;
}

/** Refuses a template outside the limits, naming the field and the limit. */
export function checkTemplate(info: VideoInfo, field: string, code: string): void {
  if (!/mp4|mov/.test(info.container)) throw new TcError(code, `${field}: the video must be an mp4 file`);
  const long = Math.max(info.width, info.height), short = Math.min(info.width, info.height);
  if (long > VIDEO_LIMITS.maxLongSide || short > VIDEO_LIMITS.maxShortSide) throw new TcError(code, `${field}: the video is ${info.width}x${info.height}; at most 4K (${VIDEO_LIMITS.maxLongSide}x${VIDEO_LIMITS.maxShortSide}) is accepted`);
  if (info.durationSec > VIDEO_LIMITS.maxSeconds + 0.05) throw new TcError(code, `${field}: the video lasts ${info.durationSec.toFixed(2)} s; at most ${VIDEO_LIMITS.maxSeconds} s is accepted`);
  const fps = info.sourceFps ?? info.fps;
  if (fps > VIDEO_LIMITS.maxSourceFps + 0.01) throw new TcError(code, `${field}: the video has ${fps.toFixed(2)} frames per second; at most ${VIDEO_LIMITS.maxSourceFps} is accepted (resampled to 30 or less)`);
  if (info.width < 64 || info.height < 64) throw new TcError(code, `${field}: the video is ${info.width}x${info.height}; at least 64x64 is needed`);
}
