// Video materials: CreateMaterial with an mp4 stores it as a material (MaterialStatus 0 while
// it is processed) and runs the tracking pass in the background: every frame's faces found by
// the shared inference pool, tracked with stable identities, meshes smoothed. The tracks and the
// video/audio metadata are the material's derivative data; MaterialStatus becomes 31 (usable)
// or 32 (pre-processing failed), as Tencent's DescribeMaterialList shows.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Caller } from '../../domain/call.ts';
import type { Clock } from '../../domain/clock.ts';
import { TcError } from '../../domain/errors.ts';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { FusionRepo, MaterialRow } from '../../store/fusion/fusion-repo.ts';
import type { VideoMaterialRow, VideoRepo } from '../../store/video/video-repo.ts';
import { decodeTracks, encodeTracks, MediaError, probeVideo, trackVideo, type Track, type VideoInfo } from '../../vision/video/index.ts';
import { encodeGeometry, newMaterialId } from '../fusion/fusion-materials.ts';
import type { FaceFinder } from '../fusion/fusion-vision.ts';
import { checkTemplate, isMp4, VIDEO_LIMITS } from './video-limits.ts';
import { frameDetector } from './video-vision.ts';

export const STATUS_PROCESSING = 0;
export const STATUS_VIDEO_READY = 31;
export const STATUS_VIDEO_FAILED = 32;

export interface LoadedVideoMaterial { row: MaterialRow; video: VideoMaterialRow; info: VideoInfo; tracks: Track[] }

/** A scratch file for FFmpeg (it reads and writes paths); removed by the caller. */
export async function scratchFile(workDir: string, ext: string, bytes?: Buffer): Promise<string> {
  await fs.promises.mkdir(workDir, { recursive: true });
  const p = path.join(workDir, `${crypto.randomBytes(12).toString('hex')}.${ext}`);
  if (bytes) await fs.promises.writeFile(p, bytes, { mode: 0o600 });
  return p;
}
export const removeFile = (p: string) => fs.promises.rm(p, { force: true });

/** Probes bytes as a template video, refusing what is not an mp4 within the limits. */
export async function probeTemplate(workDir: string, bytes: Buffer, field: string, limitCode: string, decodeCode: string): Promise<{ file: string; info: VideoInfo }> {
  if (bytes.length > VIDEO_LIMITS.maxBytes) throw new TcError(limitCode, `${field}: the video is ${bytes.length} bytes; at most 1 GB is accepted`);
  if (!isMp4(bytes)) throw new TcError(decodeCode, `${field}: the file is not an mp4 video`);
  const file = await scratchFile(workDir, 'mp4', bytes);
  try {
    let info: VideoInfo;
    try { info = probeVideo(file); } catch (e) {
      if (e instanceof MediaError) throw new TcError(decodeCode, `${field}: ${e.message}`);
      throw e;
    }
    checkTemplate(info, field, limitCode);
    return { file, info };
  } catch (e) {
    await removeFile(file);
    throw e;
  }
}

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
    private readonly report: (e: Error) => void,
  ) {}

  /** CreateMaterial with an mp4: stored at once (status 0), tracked in the background. */
  async create(caller: Caller, activityId: string, name: string, bytes: Buffer): Promise<{ row: MaterialRow }> {
    const { file, info } = await probeTemplate(this.workDir, bytes, 'Image', 'InvalidParameterValue.ParameterValueError', 'FailedOperation.MediaDataError');
    await removeFile(file);
    const now = this.clock.now();
    const materialId = newMaterialId();
    const blobKey = `fusion/${caller.appId}/materials/${materialId}.mp4`;
    const row: MaterialRow = {
      material_id: materialId, app_id: caller.appId, activity_id: activityId, name, status: STATUS_PROCESSING,
      blob_key: blobKey, width: info.width, height: info.height, created_at: now, updated_at: now, data_class: 'material', expires_at: null,
    };
    await this.blobs.put(blobKey, bytes, 'video/mp4');
    try {
      await this.fusionRepo.insertMaterial(row, [], { key: blobKey, dataClass: 'material', expiresAt: null, size: bytes.length, contentType: 'video/mp4', ownerRef: materialId, createdAt: now });
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
    const bytes = await this.blobs.get(m.blob_key);
    if (!bytes) return;
    const file = await scratchFile(this.workDir, 'mp4', bytes);
    const t0 = this.clock.now();
    try {
      let tracks: Track[];
      let ms: number;
      try {
        const info = probeVideo(file);
        const r = await trackVideo(file, info, frameDetector(this.finder));
        tracks = r.tracks; ms = Math.round(r.ms);
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
      const enc = encodeTracks(withMesh);
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
    return { row, video, info: JSON.parse(video.info) as VideoInfo, tracks: decodeTracks(t) };
  }
}

/** What the material keeps of the metadata (no container tags: they may carry the uploader's text). */
function publicInfo(i: VideoInfo): VideoInfo {
  return { ...i, tags: {} };
}
