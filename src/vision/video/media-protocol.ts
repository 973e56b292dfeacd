// Messages between a video job and its media thread (media-worker.ts, media-thread.ts).
import type { Patch } from '../fusion/fuse.ts';
import type { EncodeOptions } from './media.ts';
import type { LogoOverlay } from './overlay.ts';

export type VideoMark = { kind: 'label' } | { kind: 'logo'; logo: LogoOverlay } | { kind: 'none' };

export type MediaRequest =
  /** Start decoding `path`; `ahead` frames may be sent before the first credit. */
  | { t: 'read'; path: string; ahead: number }
  /** The job consumed frames: this many more may be decoded. */
  | { t: 'credit'; n: number }
  | { t: 'open'; output: string; source: string; width: number; height: number; encode: EncodeOptions; mark: VideoMark }
  /** A frame (shared memory) with the patches to paste; marked and encoded in the media thread. `recycle`: the buffer is one of this thread's decoded frames and the job is done with it. */
  | { t: 'write'; seq: number; rgb: Uint8Array; pts: bigint; patches: Patch[]; recycle: boolean }
  /** A decoded frame the job is done with without writing it (the tracking pass). */
  | { t: 'release'; rgb: Uint8Array }
  | { t: 'finish' }
  | { t: 'close' };

export type MediaReply =
  /** `cut`: the frame starts a new shot (shot-cut.ts). */
  | { t: 'frame'; index: number; width: number; height: number; pts: bigint; rgb: Uint8Array; cut: boolean }
  /** `buffers`: frame buffers allocated for this read (the rest were reused). */
  | { t: 'end'; buffers: number }
  | { t: 'opened' }
  | { t: 'written'; seq: number }
  | { t: 'finished' }
  | { t: 'closed' }
  | { t: 'error'; kind: 'unreadable' | 'no-video' | 'codec' | null; message: string };
