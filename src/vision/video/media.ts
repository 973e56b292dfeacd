// The media library boundary: every FFmpeg call (node-av's bindings) is in this file, so the
// rest of the video code speaks frames (RGB buffers) and metadata only. The synchronous
// node-av calls are used: the async ones need Promise.withResolvers (Node ≥ 22) and add an
// AsyncWorker round trip per packet. Jobs call them from their media thread (media-worker.ts),
// never from the event loop; the pipeline overlaps that thread, the fusion workers and
// libx264's own threads (src/vision/video/pipeline.ts).
import { Demuxer, Decoder, Scaler } from 'node-av/api';
import { AV_CODEC_FLAG_GLOBAL_HEADER, AV_DISPOSITION_ATTACHED_PIC, AV_FRAME_DATA_REGIONS_OF_INTEREST, AV_PKT_DATA_DISPLAYMATRIX, AVMEDIA_TYPE_VIDEO, AV_LOG_ERROR, AV_PIX_FMT_RGB24, AV_PIX_FMT_YUV420P, AV_OPT_SEARCH_CHILDREN, AVFMT_GLOBALHEADER, FF_ENCODER_LIBX264 } from 'node-av/constants';
import { Codec, CodecContext, Dictionary, FormatContext, Frame, Log, Option, Packet, Rational } from 'node-av/lib';
import type { Stream } from 'node-av/lib';
import { ffmpegVersion } from './media-version.ts';
import { matrixOfTurn, turnOfMatrix, turnRgb } from './turn.ts';

// FFmpeg's info lines (libx264's statistics) would go to stderr on every encode.
Log.setLevel(AV_LOG_ERROR);

export class MediaError extends Error {
  constructor(readonly kind: 'unreadable' | 'no-video' | 'codec', message: string) { super(message); }
}

export interface AudioInfo { codec: string; channels: number; sampleRate: number; bitrate: number }

export interface VideoInfo {
  container: string;
  codec: string;
  /** As shown: the stored frames turned by `turn` (a phone's portrait video is stored landscape). */
  width: number;
  height: number;
  /** Clockwise turn (0, 90, 180, 270) from the stream's display matrix; decoded frames come turned by it. */
  turn: number;
  /** Average frame rate as a fraction, and as a number: as decoded, after `step`. */
  fpsNum: number;
  fpsDen: number;
  fps: number;
  /** Every `step`-th frame is decoded (1, or 2 for a 60 fps clip): clips faster than MAX_FPS are resampled to it. */
  step: number;
  /** The stream's own frame rate. */
  sourceFps: number;
  durationSec: number;
  /** Container bit rate, bits per second. */
  bitrate: number;
  /** Frames the container declares, after `step` (0 when it does not say; the decoder's count is authoritative). */
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

/**
 * The clip's own video stream: the first video stream that is not an attached picture (an mp4's
 * cover art is a one-frame video stream, and the demuxer's first video stream may be it). A file
 * with cover art only has no video.
 */
export function mainVideo<S extends { codecpar: { codecType: number }; disposition: number }>(streams: readonly S[]): S | undefined {
  const video = streams.filter((s) => s.codecpar.codecType === AVMEDIA_TYPE_VIDEO);
  return video.find((s) => !(s.disposition & AV_DISPOSITION_ATTACHED_PIC));
}

const streamTurn = (vs: Stream) => turnOfMatrix(vs.codecpar.getCodedSideData(AV_PKT_DATA_DISPLAYMATRIX));

/**
 * Clips faster than this are resampled by keeping every n-th frame (Tencent: ≤ 25 fps, "or
 * resampled"): 60 → 30, 59.94 → 29.97, 50 → 25, 120 → 30. Up to 30 every frame is kept (29.97
 * is what phones and most web clips have), so frame count and audio sync stay exact there.
 */
export const MAX_FPS = 30;
/** The frames kept of a stream at `fps`: every `frameStep(fps)`-th. */
export const frameStep = (fps: number) => (fps > MAX_FPS + 0.01 ? Math.ceil(fps / MAX_FPS - 0.001) : 1);
const rateOf = (vs: Stream) => (vs.avgFrameRate.num > 0 ? vs.avgFrameRate : vs.rFrameRate);
const fpsOf = (r: { num: number; den: number }) => (r.den ? r.num / r.den : 0);

/** Container, video and audio metadata (ffprobe's essentials). */
export function probeVideo(path: string): VideoInfo {
  const input = openInput(path);
  try {
    const vs = mainVideo(input.streams);
    if (!vs) throw new MediaError('no-video', 'the file has no video stream');
    const as = input.audio();
    const fr = rateOf(vs), step = frameStep(fpsOf(fr));
    const fmt = input.getFormatContext();
    const tags = fmt.metadata?.getAll() ?? {};
    let vcodec = String(vs.codecpar.codecId), acodec = '';
    try { const d = Decoder.createSync(vs); vcodec = d.getCodec().name ?? vcodec; d.close(); } catch { /* unknown codec: the id stays */ }
    if (as) { try { const d = Decoder.createSync(as); acodec = d.getCodec().name ?? String(as.codecpar.codecId); d.close(); } catch { acodec = String(as.codecpar.codecId); } }
    const turn = streamTurn(vs), quarter = turn === 90 || turn === 270;
    return {
      container: fmt.iformat?.name ?? '',
      codec: vcodec,
      width: quarter ? vs.codecpar.height : vs.codecpar.width, height: quarter ? vs.codecpar.width : vs.codecpar.height, turn,
      fpsNum: fr.num, fpsDen: fr.den * step, fps: fpsOf(fr) / step, step, sourceFps: fpsOf(fr),
      durationSec: Number(input.duration ?? 0),
      bitrate: Number(fmt.bitRate ?? 0n),
      frames: Math.ceil(Number(vs.nbFrames ?? 0n) / step),
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
 * decoder's own reference frames and the one returned are alive (bounded memory). Frames come
 * turned upright by the stream's display matrix (VideoInfo.turn), as they are shown; of a clip
 * faster than MAX_FPS every VideoInfo.step-th frame only (numbered from 0 as kept).
 */
export function* decodeFrames(path: string): Generator<DecodedFrame> {
  const input = openInput(path);
  const vs = mainVideo(input.streams);
  if (!vs) { input.closeSync(); throw new MediaError('no-video', 'the file has no video stream'); }
  let dec: Decoder;
  try { dec = Decoder.createSync(vs); } catch (e) { input.closeSync(); throw new MediaError('codec', `the video codec cannot be decoded (${(e as Error).message})`); }
  const scaler = new Scaler();
  const turn = streamTurn(vs), step = frameStep(fpsOf(rateOf(vs)));
  let index = 0, decoded = 0;
  try {
    for (const fr of dec.framesSync(onlyStream(input.packetsSync(), vs.index))) {
      if (!fr) break;
      try {
        if (decoded++ % step) continue;
        if (turn) {
          const t = turnRgb(scaler.toBufferSync(fr, { format: 'rgb' }), fr.width, fr.height, turn);
          yield { index: index++, width: t.width, height: t.height, rgb: t.rgb, pts: fr.pts };
          continue;
        }
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
  /** Frame rate to declare (default the source's). */
  frameRate?: { num: number; den: number };
  /** Copy the source's audio only up to this time (seconds); default all of it. */
  maxAudioSec?: number;
  /**
   * Quantiser offset for the regions given with a frame (`write`'s `regions`: the fused faces),
   * −1…0 of libx264's QP range (51): −0.2 ≈ 10 QP finer there, the rest of the frame at `crf`.
   * Default 0 (none).
   */
  regionQOffset?: number;
  /**
   * A display matrix to write: players show the frames turned clockwise by this (0, 90, 180, 270),
   * as phones store portrait video. Results are written upright without one; tests make phone-like clips with it.
   */
  displayTurn?: number;
}

/** A rectangle of a frame, pixels. */
export interface FrameRegion { x: number; y: number; width: number; height: number }

// AVRegionOfInterest (libavutil/frame.h): uint32 self_size; int top, bottom, left, right; AVRational qoffset.
const ROI_SIZE = 28;

/**
 * Writes H.264 mp4 frames given in RGB24, with the audio stream of `source` copied packet by
 * packet beside them (in sync: each audio packet is written once the video has reached its
 * time, so the muxer's interleaving queue stays a few packets long).
 *
 * On node-av's low-level API (CodecContext, FormatContext): its high-level Encoder with libx264
 * crashes Node 20 when the environment that used it shuts down (measured: a one-frame encode
 * then a normal exit gave SIGSEGV, in the main thread and in worker threads; the same encode
 * through CodecContext exits cleanly).
 */
export class VideoWriter {
  private readonly fmt = new FormatContext();
  private readonly enc = new CodecContext();
  private readonly pkt = new Packet();
  private readonly srcIn: Demuxer;
  private readonly vst: Stream;
  private ast: Stream | null = null;
  private audio: Generator<Packet | null> | null = null;
  private pendingAudio: Packet | null = null;
  private readonly audioTb: Rational | null = null;
  private readonly videoTb: Rational;
  private frames = 0;
  private closed = false;
  private headerWritten = false;
  private readonly scaler = new Scaler();
  private readonly maxAudioSec: number;
  private readonly regionQOffset: number;
  /** One frame's duration in the video time base (so the last frame counts in the duration and the frame rate). */
  private readonly frameTicks: bigint;
  /**
   * The encoded size: 4:2:0, what every player decodes, needs an even one, so a frame's odd last
   * column or row is left out (a 853x480 template is written 852x480; Tencent's output reports
   * the result's own size).
   */
  readonly encWidth: number;
  readonly encHeight: number;
  private crop: Buffer | null = null;

  constructor(readonly path: string, source: string, private readonly width: number, private readonly height: number, o: EncodeOptions) {
    this.maxAudioSec = o.maxAudioSec ?? Infinity;
    this.encWidth = width & ~1;
    this.encHeight = height & ~1;
    this.regionQOffset = Math.max(-1, Math.min(0, o.regionQOffset ?? 0));
    this.srcIn = openInput(source);
    const vs = mainVideo(this.srcIn.streams);
    if (!vs) { this.srcIn.closeSync(); throw new MediaError('no-video', 'the template has no video stream'); }
    this.videoTb = new Rational(vs.timeBase.num, vs.timeBase.den);
    // The decoded rate (decodeFrames keeps every frameStep-th frame of a fast clip).
    const src = rateOf(vs), fr = o.frameRate ?? { num: src.num, den: src.den * frameStep(fpsOf(src)) };
    this.frameTicks = BigInt(Math.max(1, Math.round((vs.timeBase.den * fr.den) / (vs.timeBase.num * fr.num))));
    try {
      check(this.fmt.allocOutputContext2(null, 'mp4', path), 'mp4 output');
      const codec = Codec.findEncoderByName(FF_ENCODER_LIBX264);
      if (!codec) throw new MediaError('codec', 'this FFmpeg build has no libx264 encoder');
      this.enc.allocContext3(codec);
      this.enc.width = this.encWidth; this.enc.height = this.encHeight;
      this.enc.pixelFormat = AV_PIX_FMT_YUV420P;
      this.enc.timeBase = this.videoTb;
      this.enc.framerate = new Rational(fr.num, fr.den);
      this.enc.threadCount = o.threads ?? 0;
      if ((this.fmt.oformat?.flags ?? 0) & AVFMT_GLOBALHEADER) this.enc.flags = (this.enc.flags | AV_CODEC_FLAG_GLOBAL_HEADER) as never;
      // Private options by av_opt_set, not an options dictionary: avcodec_open2 consumes the
      // dictionary it is given and node-av's wrapper freed it again at exit (SIGSEGV, measured).
      check(Option.set(this.enc.getNative(), 'preset', o.preset ?? 'veryfast', AV_OPT_SEARCH_CHILDREN), 'preset');
      check(Option.set(this.enc.getNative(), 'crf', String(o.crf ?? 20), AV_OPT_SEARCH_CHILDREN), 'crf');
      check(this.enc.open2Sync(codec, null), 'libx264');
      this.vst = this.fmt.newStream(null);
      check(this.vst.codecpar.fromContext(this.enc), 'video stream');
      if (o.displayTurn) check(this.vst.codecpar.addCodedSideData(AV_PKT_DATA_DISPLAYMATRIX, matrixOfTurn(o.displayTurn)), 'display matrix');
      this.vst.timeBase = this.videoTb;
      this.vst.avgFrameRate = new Rational(fr.num, fr.den);
      const as = this.srcIn.audio();
      if (as) {
        this.ast = this.fmt.newStream(null);
        check(as.codecpar.copy(this.ast.codecpar), 'audio stream');
        this.ast.codecpar.codecTag = 0;
        this.ast.timeBase = new Rational(as.timeBase.num, as.timeBase.den);
        this.audioTb = new Rational(as.timeBase.num, as.timeBase.den);
        this.audio = onlyStream(this.srcIn.packetsSync(), as.index);
      }
      this.fmt.metadata = Dictionary.fromObject(o.tags);
      check(this.fmt.openOutputSync(), 'output file');
      // faststart: the moov atom goes first so the result plays while it downloads;
      // use_metadata_tags: our own keys (aigc) survive in the container metadata.
      check(Option.set(this.fmt.getNative(), 'movflags', '+faststart+use_metadata_tags', AV_OPT_SEARCH_CHILDREN), 'movflags');
      check(this.fmt.writeHeaderSync(null), 'mp4 header');
      this.headerWritten = true;
      this.pkt.alloc();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Appends one frame (RGB24, the writer's size), with the source frame's pts; `regions` are encoded finer (EncodeOptions.regionQOffset). */
  write(rgb: Buffer | Uint8Array, pts: bigint, regions: readonly FrameRegion[] = []): void {
    let buf = Buffer.isBuffer(rgb) ? rgb : Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
    const W = this.encWidth, H = this.encHeight;
    if (W !== this.width || H !== this.height) {
      // 4:2:0 needs an even size: the odd last column or row is left out.
      this.crop ??= Buffer.allocUnsafe(W * H * 3);
      for (let y = 0; y < H; y++) buf.copy(this.crop, y * W * 3, y * this.width * 3, y * this.width * 3 + W * 3);
      buf = this.crop;
    }
    // RGB → YUV 4:2:0 by swscale: 4:2:0 is what every player decodes.
    const rgbFrame = Frame.fromVideoBuffer(buf, { width: W, height: H, format: AV_PIX_FMT_RGB24, pts, timeBase: this.videoTb });
    let f: Frame | null = null;
    try {
      const yuv = this.scaler.toBufferSync(rgbFrame, { format: 'yuv420p' });
      // A frame with its own (FFmpeg-allocated) buffers: libx264 keeps frames for its lookahead,
      // and a frame wrapping JavaScript memory crashed the process at exit when it was released then.
      f = new Frame();
      f.alloc();
      f.width = W; f.height = H; f.format = AV_PIX_FMT_YUV420P;
      check(f.getBuffer(0), 'frame buffer');
      check(f.fromBuffer(yuv), 'frame copy');
      f.pts = pts;
      f.timeBase = this.videoTb;
      f.duration = this.frameTicks;
      if (regions.length && this.regionQOffset < 0) this.markRegions(f, regions);
      check(this.enc.sendFrameSync(f), 'encode');
    } finally {
      rgbFrame.free();
      f?.free();
    }
    this.drainVideo();
    this.frames++;
    this.writeAudioUntil(Number(pts) * this.videoTb.num / this.videoTb.den);
  }

  /** The regions as AV_FRAME_DATA_REGIONS_OF_INTEREST (libx264 lowers the quantiser of their macroblocks; it needs adaptive quantisation, on in every preset). */
  private markRegions(f: Frame, regions: readonly FrameRegion[]): void {
    const sd = f.newSideData(AV_FRAME_DATA_REGIONS_OF_INTEREST, ROI_SIZE * regions.length);
    const den = 1000, num = Math.round(this.regionQOffset * den);
    regions.forEach((r, i) => {
      const o = i * ROI_SIZE;
      sd.writeUInt32LE(ROI_SIZE, o);
      sd.writeInt32LE(Math.max(0, Math.floor(r.y)), o + 4);
      sd.writeInt32LE(Math.min(this.encHeight, Math.ceil(r.y + r.height)), o + 8);
      sd.writeInt32LE(Math.max(0, Math.floor(r.x)), o + 12);
      sd.writeInt32LE(Math.min(this.encWidth, Math.ceil(r.x + r.width)), o + 16);
      sd.writeInt32LE(num, o + 20);
      sd.writeInt32LE(den, o + 24);
    });
  }

  private drainVideo(): void {
    while (this.enc.receivePacketSync(this.pkt) >= 0) {
      this.pkt.rescaleTs(this.videoTb, this.vst.timeBase);
      this.pkt.streamIndex = this.vst.index;
      check(this.fmt.interleavedWriteFrameSync(this.pkt), 'write video');
      this.pkt.unref();
    }
  }

  private writeAudioUntil(sec: number): void {
    if (!this.audio || !this.audioTb || !this.ast) return;
    for (;;) {
      if (!this.pendingAudio) {
        const n = this.audio.next();
        if (n.done || !n.value) { this.audio = null; return; }
        this.pendingAudio = n.value;
      }
      const p = this.pendingAudio;
      const at = Number(p.pts) * this.audioTb.num / this.audioTb.den;
      if (at >= this.maxAudioSec) { p.free(); this.pendingAudio = null; this.audio.return(undefined); this.audio = null; return; }
      if (sec !== Infinity && at > sec) return;
      p.rescaleTs(this.audioTb, this.ast.timeBase);
      p.streamIndex = this.ast.index;
      try { check(this.fmt.interleavedWriteFrameSync(p), 'write audio'); } finally { p.free(); }
      this.pendingAudio = null;
    }
  }

  get framesWritten(): number { return this.frames; }

  /** Flushes the encoder, writes the remaining audio and the trailer. */
  finish(): void {
    if (this.closed) return;
    check(this.enc.sendFrameSync(null), 'flush');
    this.drainVideo();
    this.writeAudioUntil(Infinity);
    check(this.fmt.writeTrailerSync(), 'mp4 trailer');
    this.close();
  }

  /** Closes without finishing (the file is incomplete; the caller deletes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pendingAudio?.free();
    this.audio?.return(undefined);
    try { this.fmt.closeOutputSync(); } catch { /* already failed */ }
    this.fmt.freeContext();
    this.enc.freeContext();
    this.pkt.free();
    this.scaler.close();
    this.srcIn.closeSync();
  }
}

function check(ret: number, what: string): void {
  if (ret < 0) throw new MediaError('codec', `${what} failed (FFmpeg error ${ret})`);
}
