// The media library boundary: every FFmpeg call (node-av's bindings) is in this file, so the
// rest of the video code speaks frames (RGB buffers) and metadata only. The synchronous
// node-av calls are used: the async ones need Promise.withResolvers (Node ≥ 22) and add an
// AsyncWorker round trip per packet; the pipeline overlaps work through the fusion workers
// and libx264's own threads instead (src/vision/video/pipeline.ts).
import { Demuxer, Decoder, Encoder, Muxer, Scaler } from 'node-av/api';
import { AV_LOG_ERROR, AV_PIX_FMT_RGB24, AV_PIX_FMT_YUV420P, FF_ENCODER_LIBX264 } from 'node-av/constants';
import { Dictionary, Frame, Log } from 'node-av/lib';
import type { Packet } from 'node-av/lib';
import { ffmpegVersion } from './media-version.ts';

// FFmpeg's info lines (libx264's statistics) would go to stderr on every encode.
Log.setLevel(AV_LOG_ERROR);

export class MediaError extends Error {
  constructor(readonly kind: 'unreadable' | 'no-video' | 'codec', message: string) { super(message); }
}

export interface AudioInfo { codec: string; channels: number; sampleRate: number; bitrate: number }

export interface VideoInfo {
  container: string;
  codec: string;
  width: number;
  height: number;
  /** Average frame rate as a fraction, and as a number. */
  fpsNum: number;
  fpsDen: number;
  fps: number;
  durationSec: number;
  /** Container bit rate, bits per second. */
  bitrate: number;
  /** Frames the container declares (0 when it does not say; the decoder's count is authoritative). */
  frames: number;
  audio: AudioInfo | null;
  /** Container metadata (title, comment, our mark on our own output). */
  tags: Record<string, string>;
}

export const mediaLibrary = () => ({ name: 'node-av', ffmpeg: ffmpegVersion() });

function openInput(path: string): Demuxer {
  try {
    return Demuxer.openSync(path);
  } catch (e) {
    throw new MediaError('unreadable', `the file is not a readable video (${(e as Error).message.split('\n')[0]})`);
  }
}

const codecName = (s: { codecpar: { codecId: number } }, dec?: Decoder) => {
  try { return dec?.getCodec().name ?? String(s.codecpar.codecId); } catch { return String(s.codecpar.codecId); }
};

/** Container, video and audio metadata (ffprobe's essentials). */
export function probeVideo(path: string): VideoInfo {
  const input = openInput(path);
  try {
    const vs = input.video();
    if (!vs) throw new MediaError('no-video', 'the file has no video stream');
    const as = input.audio();
    const fr = vs.avgFrameRate.num > 0 ? vs.avgFrameRate : vs.rFrameRate;
    const fmt = input.getFormatContext();
    const tags = fmt.metadata?.getAll() ?? {};
    let vcodec = String(vs.codecpar.codecId), acodec = '';
    try { const d = Decoder.createSync(vs); vcodec = d.getCodec().name ?? vcodec; d.close(); } catch { /* unknown codec: the id stays */ }
    if (as) { try { const d = Decoder.createSync(as); acodec = d.getCodec().name ?? String(as.codecpar.codecId); d.close(); } catch { acodec = String(as.codecpar.codecId); } }
    return {
      container: fmt.iformat?.name ?? '',
      codec: vcodec,
      width: vs.codecpar.width, height: vs.codecpar.height,
      fpsNum: fr.num, fpsDen: fr.den, fps: fr.den ? fr.num / fr.den : 0,
      durationSec: Number(input.duration ?? 0),
      bitrate: Number(fmt.bitRate ?? 0n),
      frames: Number(vs.nbFrames ?? 0n),
      audio: as ? { codec: acodec, channels: as.codecpar.channels ?? as.codecpar.channelLayout?.nbChannels ?? 0, sampleRate: as.codecpar.sampleRate, bitrate: Number(as.codecpar.bitRate ?? 0n) } : null,
      tags,
    };
  } finally {
    input.closeSync();
  }
}

export interface DecodedFrame { index: number; width: number; height: number; rgb: Buffer; pts: bigint }

/**
 * Streams the video's frames as RGB24, in presentation order, one at a time: only the
 * decoder's own reference frames and the one returned are alive (bounded memory).
 */
export function* decodeFrames(path: string): Generator<DecodedFrame> {
  const input = openInput(path);
  const vs = input.video();
  if (!vs) { input.closeSync(); throw new MediaError('no-video', 'the file has no video stream'); }
  let dec: Decoder;
  try { dec = Decoder.createSync(vs); } catch (e) { input.closeSync(); throw new MediaError('codec', `the video codec cannot be decoded (${(e as Error).message})`); }
  const scaler = new Scaler();
  let index = 0;
  try {
    for (const fr of dec.framesSync(onlyStream(input.packetsSync(), vs.index))) {
      if (!fr) break;
      try {
        // A copy: the scaler may reuse its output buffer for the next frame.
        const rgb = Buffer.from(scaler.toBufferSync(fr, { format: 'rgb' }));
        yield { index: index++, width: fr.width, height: fr.height, rgb, pts: fr.pts };
      } finally {
        fr.free();
      }
    }
  } finally {
    scaler.close();
    dec.close();
    input.closeSync();
  }
}

function* onlyStream(packets: Generator<Packet | null>, index: number): Generator<Packet | null> {
  for (const p of packets) {
    if (p === null) { yield null; return; }
    if (p.streamIndex === index) yield p;
    else p.free();
  }
}

export interface EncodeOptions {
  /** Container metadata to write (the AI-generated mark goes here). */
  tags: Record<string, string>;
  /** libx264 constant rate factor (lower is better); default 20. */
  crf?: number;
  /** libx264 preset; default "veryfast" (measured: the encoder keeps pace with 2 fusion workers). */
  preset?: string;
  /** Encoder threads; 0 = FFmpeg decides. */
  threads?: number;
}

/**
 * Writes H.264 mp4 frames given in RGB24, with the audio stream of `source` copied packet by
 * packet beside them (in sync: each audio packet is written once the video has reached its
 * time, so the muxer's interleaving queue stays a few packets long).
 */
export class VideoWriter {
  private readonly out: Muxer;
  private readonly enc: Encoder;
  private readonly srcIn: Demuxer;
  private readonly vIdx: number;
  private aIdx = -1;
  private audio: Generator<Packet | null> | null = null;
  private pendingAudio: Packet | null = null;
  private readonly audioTb: { num: number; den: number } | null = null;
  private readonly videoTb: { num: number; den: number };
  private frames = 0;
  private closed = false;
  private readonly scaler = new Scaler();

  constructor(readonly path: string, source: string, private readonly width: number, private readonly height: number, o: EncodeOptions) {
    this.srcIn = openInput(source);
    const vs = this.srcIn.video();
    if (!vs) { this.srcIn.closeSync(); throw new MediaError('no-video', 'the template has no video stream'); }
    this.videoTb = { num: vs.timeBase.num, den: vs.timeBase.den };
    const fr = vs.avgFrameRate.num > 0 ? vs.avgFrameRate : vs.rFrameRate;
    this.enc = Encoder.createSync(FF_ENCODER_LIBX264, {
      context: { timeBase: vs.timeBase, framerate: fr, threadCount: o.threads ?? 0, pixelFormat: AV_PIX_FMT_YUV420P } as never,
      options: { preset: o.preset ?? 'veryfast', crf: o.crf ?? 20 } as never,
    });
    const tags = o.tags;
    this.out = Muxer.openSync(path, {
      format: 'mp4',
      // faststart: the moov atom goes first so the result plays while it downloads;
      // use_metadata_tags: our own keys (aigc) survive in the container metadata.
      options: { movflags: '+faststart+use_metadata_tags' } as never,
      configure: (fmt) => { fmt.metadata = Dictionary.fromObject(tags); },
    });
    this.vIdx = this.out.addStream(this.enc, { inputStream: vs });
    const as = this.srcIn.audio();
    if (as) {
      this.aIdx = this.out.addStream(as);
      this.audioTb = { num: as.timeBase.num, den: as.timeBase.den };
      this.audio = onlyStream(this.srcIn.packetsSync(), as.index);
    }
  }

  /** Appends one frame (RGB24, the writer's size), with the source frame's pts. */
  write(rgb: Buffer | Uint8Array, pts: bigint): void {
    const buf = Buffer.isBuffer(rgb) ? rgb : Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
    // RGB → YUV 4:2:0 by swscale here: the encoder's own autoFormat conversion garbled the
    // chroma planes (measured: colour ghosts), and 4:2:0 is what every player decodes.
    const rgbFrame = Frame.fromVideoBuffer(buf, { width: this.width, height: this.height, format: AV_PIX_FMT_RGB24, pts, timeBase: this.videoTb });
    let f: Frame | null = null;
    try {
      const yuv = this.scaler.toBufferSync(rgbFrame, { format: 'yuv420p' });
      f = Frame.fromVideoBuffer(yuv, { width: this.width, height: this.height, format: AV_PIX_FMT_YUV420P, pts, timeBase: this.videoTb });
      this.enc.encodeSync(f);
    } finally {
      rgbFrame.free();
      f?.free();
    }
    this.drainVideo();
    this.frames++;
    this.writeAudioUntil(Number(pts) * this.videoTb.num / this.videoTb.den);
  }

  private drainVideo(): void {
    for (;;) {
      const p = this.enc.receiveSync();
      if (!p || !(p as Packet).data) return;
      try { this.out.writePacketSync(p as Packet, this.vIdx); } finally { (p as Packet).free(); }
    }
  }

  private writeAudioUntil(sec: number): void {
    if (!this.audio || !this.audioTb) return;
    for (;;) {
      if (!this.pendingAudio) {
        const n = this.audio.next();
        if (n.done || !n.value) { this.audio = null; return; }
        this.pendingAudio = n.value;
      }
      const p = this.pendingAudio;
      if (sec !== Infinity && Number(p.pts) * this.audioTb.num / this.audioTb.den > sec) return;
      try { this.out.writePacketSync(p, this.aIdx); } finally { p.free(); }
      this.pendingAudio = null;
    }
  }

  get framesWritten(): number { return this.frames; }

  /** Flushes the encoder, writes the remaining audio and the trailer. */
  finish(): void {
    if (this.closed) return;
    this.enc.flushSync();
    this.drainVideo();
    this.writeAudioUntil(Infinity);
    this.close();
  }

  /** Closes without finishing (the file is incomplete; the caller deletes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try { this.out.closeSync(); } catch { /* already failed */ }
    this.enc.close();
    this.scaler.close();
    this.srcIn.closeSync();
  }
}
