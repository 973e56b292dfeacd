// Video materials: CreateMaterial with an mp4 stores it as a material (MaterialStatus 0 while
// it is processed) and runs the tracking pass in the background: every frame's faces found by
// the shared inference pool, tracked with stable identities, meshes smoothed. The tracks and the
// video/audio metadata are the material's derivative data; MaterialStatus becomes 31 (usable)
// or 32 (pre-processing failed), as Tencent's DescribeMaterialList shows.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Caller } from '../../domain/call.ts';
import type { Clock } from '../../domain/clock.ts';
import { TcError } from '../../domain/errors.ts';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { FusionRepo, MaterialRow } from '../../store/fusion/fusion-repo.ts';
import type { VideoMaterialRow, VideoRepo } from '../../store/video/video-repo.ts';
import { decodeTrackFile, encodeTracks, MediaError, probeVideo, trackVideo, type Area, type Track, type VideoInfo } from '../../vision/video/index.ts';
import { encodeGeometry, newMaterialId } from '../fusion/fusion-materials.ts';
import type { FaceFinder } from '../fusion/fusion-vision.ts';
import { checkTemplate, isMp4, VIDEO_LIMITS } from './video-limits.ts';
import { frameDetector } from './video-vision.ts';

export const STATUS_PROCESSING = 0;
export const STATUS_VIDEO_READY = 31;
export const STATUS_VIDEO_FAILED = 32;

/** `picture`: the frame inside the video's bars (null for materials tracked before it was kept). */
export interface LoadedVideoMaterial { row: MaterialRow; video: VideoMaterialRow; info: VideoInfo; tracks: Track[]; picture: Area | null }

/** A scratch file for FFmpeg (it reads and writes paths); removed by the caller. */
export async function scratchFile(workDir: string, ext: string, bytes?: Buffer): Promise<string> {
  await fs.promises.mkdir(workDir, { recursive: true });
  const p = path.join(workDir, `${crypto.randomBytes(12).toString('hex')}.${ext}`);
  if (bytes) await fs.promises.writeFile(p, bytes, { mode: 0o600 });
  return p;
}
export const removeFile = (p: string) => fs.promises.rm(p, { force: true });

/** The first 12 bytes of a file (enough to tell an mp4). */
async function head(file: string, offset = 0): Promise<Buffer> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const b = Buffer.alloc(12);
    const { bytesRead } = await fh.read(b, 0, 12, offset);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Probes a file as a template video, refusing what is not an mp4 within the limits. */
export async function probeTemplateFile(file: string, size: number, field: string, limitCode: string, decodeCode: string): Promise<VideoInfo> {
  if (size > VIDEO_LIMITS.maxBytes) throw new TcError(limitCode, `${field}: the video is ${size} bytes; at most 1 GB is accepted`);
  if (!isMp4(await head(file))) throw new TcError(decodeCode, `${field}: the file is not an mp4 video`);
  let info: VideoInfo;
  try { info = probeVideo(file); } catch (e) {
    if (e instanceof MediaError) throw new TcError(decodeCode, `${field}: ${e.message}`);
    throw e;
  }
  checkTemplate(info, field, limitCode);
  return info;
}

/** A downloaded or copied video in the work directory; `remove` deletes it (whatever happened). */
export interface ScratchVideo { file: string; size: number; remove(): Promise<void> }

/** Downloads a Url into the work directory (SSRF-guarded by the fetcher, up to 1 GB). */
export async function downloadVideo(workDir: string, fetchToFile: FetchToFile, url: string, field: string): Promise<ScratchVideo> {
  const file = await scratchFile(workDir, 'mp4');
  try {
    const size = await fetchToFile(url, field, VIDEO_LIMITS.maxBytes, file);
    return { file, size, remove: () => removeFile(file) };
  } catch (e) {
    await removeFile(file);
    throw e;
  }
}

/** Fetches a Url into `file` up to maxBytes, resolving with its size (services/media/image-input.ts fetchToFile). */
export type FetchToFile = (url: string, field: string, maxBytes: number, file: string) => Promise<number>;

export class VideoMaterials {
  private readonly running = new Set<Promise<void>>();
  readonly maxBytes = VIDEO_LIMITS.maxBytes;
  readonly isVideo = isMp4;

  constructor(
    private readonly fusionRepo: FusionRepo,
    private readonly repo: VideoRepo,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly finder: FaceFinder,
    private readonly workDir: string,
    private readonly fetchToFile: FetchToFile,
    private readonly report: (e: Error) => void,
  ) {}

  /** CreateMaterial with an mp4 given as bytes (base64, at most 10 MB): through a scratch file. */
  async create(caller: Caller, activityId: string, name: string, bytes: Buffer): Promise<{ row: MaterialRow }> {
    if (bytes.length > VIDEO_LIMITS.maxBytes) throw new TcError('InvalidParameterValue.ParameterValueError', `Image: the video is ${bytes.length} bytes; at most 1 GB is accepted`);
    const file = await scratchFile(this.workDir, 'mp4', bytes);
    try {
      return await this.createFromFile(caller, activityId, name, { file, offset: 0, size: bytes.length });
    } finally {
      await removeFile(file);
    }
  }

  download(url: string, field: string): Promise<ScratchVideo> {
    return downloadVideo(this.workDir, this.fetchToFile, url, field);
  }

  /**
   * CreateMaterial with an mp4 in (part of) a file (a multipart file part in the spooled body, a
   * download): stored at once by stream (status 0), tracked in the background. A part inside a
   * larger file is copied to a scratch file first (FFmpeg probes whole files).
   */
  async createFromFile(caller: Caller, activityId: string, name: string, src: { file: string; offset: number; size: number }): Promise<{ row: MaterialRow }> {
    const field = 'Image', limitCode = 'InvalidParameterValue.ParameterValueError';
    if (src.size > VIDEO_LIMITS.maxBytes) throw new TcError(limitCode, `${field}: the video is ${src.size} bytes; at most 1 GB is accepted`);
    const whole = src.offset === 0 && (await fs.promises.stat(src.file)).size === src.size;
    const file = whole ? src.file : await scratchFile(this.workDir, 'mp4');
    try {
      if (!whole) await pipeline(fs.createReadStream(src.file, { start: src.offset, end: src.offset + src.size - 1 }), fs.createWriteStream(file, { mode: 0o600 }));
      const info = await probeTemplateFile(file, src.size, field, limitCode, 'FailedOperation.MediaDataError');
      return await this.store(caller, activityId, name, file, info);
    } finally {
      if (!whole) await removeFile(file);
    }
  }

  private async store(caller: Caller, activityId: string, name: string, file: string, info: VideoInfo): Promise<{ row: MaterialRow }> {
    const now = this.clock.now();
    const materialId = newMaterialId();
    const blobKey = `fusion/${caller.appId}/materials/${materialId}.mp4`;
    const row: MaterialRow = {
      material_id: materialId, app_id: caller.appId, activity_id: activityId, name, status: STATUS_PROCESSING,
      blob_key: blobKey, width: info.width, height: info.height, created_at: now, updated_at: now, data_class: 'material', expires_at: null,
    };
    // Object first, row second: a crash between them leaves an object no row names, which the
    // orphan sweep deletes (jobs/orphan-objects.ts).
    const { size } = await this.blobs.putFile(blobKey, file, 'video/mp4');
    try {
      await this.fusionRepo.insertMaterial(row, [], { key: blobKey, dataClass: 'material', expiresAt: null, size, contentType: 'video/mp4', ownerRef: materialId, createdAt: now });
      await this.repo.insertMaterial({ material_id: materialId, app_id: caller.appId, activity_id: activityId, state: 'tracking', info: JSON.stringify(publicInfo(info)), tracks_key: null, error: null, tracking_ms: null, created_at: now, data_class: 'material_derivative', expires_at: null });
    } catch (e) {
      await this.blobs.delete(blobKey);
      throw e;
    }
    this.startTracking(caller.appId, materialId);
    return { row };
  }

  private startTracking(appId: number, materialId: string): void {
    const p = this.track(appId, materialId).catch((e: Error) => this.report(e)).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Tracking passes a stopped process left unfinished start again. */
  async resume(): Promise<number> {
    const rows = await this.repo.unfinishedMaterials();
    for (const r of rows) this.startTracking(r.app_id, r.material_id);
    return rows.length;
  }

  /** For tests and shutdown: waits for the tracking passes in flight. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  private async track(appId: number, materialId: string): Promise<void> {
    const m = await this.fusionRepo.material(appId, materialId);
    if (!m) return;
    const file = await scratchFile(this.workDir, 'mp4');
    const t0 = this.clock.now();
    try {
      if (!(await this.blobs.getToFile(m.blob_key, file))) return;
      let tracks: Track[];
      let ms: number;
      let picture: Area | null;
      try {
        const info = probeVideo(file);
        const r = await trackVideo(file, info, frameDetector(this.finder));
        tracks = r.tracks; ms = Math.round(r.ms); picture = r.picture;
      } catch (e) {
        await this.repo.finishTracking(appId, materialId, { state: 'failed', tracksKey: null, error: (e as Error).message.slice(0, 300), trackingMs: this.clock.now() - t0, status: STATUS_VIDEO_FAILED }, [], null);
        return;
      }
      const withMesh = tracks.filter((t) => t.points.some((p) => p.mesh));
      if (!withMesh.length) {
        await this.repo.finishTracking(appId, materialId, { state: 'failed', tracksKey: null, error: 'no face was found in the video', trackingMs: ms, status: STATUS_VIDEO_FAILED }, [], null);
        return;
      }
      const key = `fusion/${appId}/materials/${materialId}.tracks`;
      // The bars go with the tracks: derivative data of the material, deleted with it.
      const enc = encodeTracks(withMesh, picture);
      await this.blobs.put(key, enc, 'application/octet-stream');
      const faces = withMesh.map((t) => {
        const best = t.points.find((p) => p.frame === t.bestFrame && p.mesh) ?? t.points.find((p) => p.mesh)!;
        return { face_index: t.id, x: Math.round(t.bestBox.x), y: Math.round(t.bestBox.y), width: Math.round(t.bestBox.width), height: Math.round(t.bestBox.height), geometry: encodeGeometry([], best.mesh!) };
      });
      const ok = await this.repo.finishTracking(appId, materialId, { state: 'ready', tracksKey: key, error: null, trackingMs: ms, status: STATUS_VIDEO_READY }, faces, { key, dataClass: 'material_derivative', expiresAt: null, size: enc.length, contentType: 'application/octet-stream', ownerRef: materialId, createdAt: this.clock.now() });
      // Deleted while it was tracked: the tracks must not outlive it.
      if (!ok) await this.blobs.delete(key);
    } finally {
      await removeFile(file);
    }
  }

  /** A ready video material with its tracks (FuseMaterialNotAvailable while processing or failed). */
  async load(caller: Caller, activityId: string, materialId: string): Promise<LoadedVideoMaterial> {
    const row = await this.fusionRepo.material(caller.appId, materialId);
    if (!row || row.activity_id !== activityId) throw new TcError('FailedOperation.FuseMaterialNotExist', `ModelId: material ${materialId} does not exist in activity ${activityId}`);
    const video = await this.repo.material(caller.appId, materialId);
    if (!video) throw new TcError('FailedOperation.FuseMaterialNotAvailable', `ModelId: material ${materialId} is an image; video fusion needs a video material`);
    if (video.state !== 'ready' || !video.tracks_key) {
      throw new TcError('FailedOperation.FuseMaterialNotAvailable', video.state === 'tracking' ? `ModelId: material ${materialId} is still being pre-processed (MaterialStatus 0); try again when it is 31` : `ModelId: the pre-processing of material ${materialId} failed (MaterialStatus 32): ${video.error ?? ''}`);
    }
    const t = await this.blobs.get(video.tracks_key);
    if (!t) throw new TcError('FailedOperation.FuseMaterialNotAvailable', `ModelId: the face tracks of material ${materialId} are missing`);
    return { row, video, info: JSON.parse(video.info) as VideoInfo, ...decodeTrackFile(t) };
  }
}

/** What the material keeps of the metadata (no container tags: they may carry the uploader's text). */
function publicInfo(i: VideoInfo): VideoInfo {
  return { ...i, tags: {} };
}
