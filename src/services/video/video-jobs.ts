// Video face fusion jobs, both dialects: intl facefusion 2022-09-27 (a video material of an
// activity, one MergeInfo) and vclm 2024-05-23 (the caller's own template video, up to 6 faces).
// Submit checks everything it can at once (template, user faces) and stores the inputs; a
// runner (embedded poller or `facevault worker` through pg-boss, src/jobs/video-queue.ts) claims
// the job with a lease, renews it with the progress, and only the lease holder may write the
// result — a job whose process died is taken over when its lease runs out, and never ends twice.
import crypto from 'node:crypto';
import sharp from 'sharp';
import type { Caller } from '../../domain/call.ts';
import type { Clock } from '../../domain/clock.ts';
import { TcError } from '../../domain/errors.ts';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { NewBlob } from '../../store/fusion/fusion-repo.ts';
import type { VideoJobRow, VideoRepo } from '../../store/video/video-repo.ts';
import { fuseVideo, iou, probeVideo, trackVideo, VideoCancelled, type Area, type FusionRunner, type LogoOverlay, type Track, type VideoFace, type VideoInfo } from '../../vision/video/index.ts';
import type { FaceFinder } from '../fusion/fusion-vision.ts';
import type { ImageInput, ImageReader, Rect } from '../fusion/fusion.ts';
import { downloadVideo, probeTemplateFile, removeFile, scratchFile, type FetchToFile, type VideoMaterials } from './video-materials.ts';
import { VIDEO_LIMITS } from './video-limits.ts';
import { frameDetector, userFace, VIDEO_FUSE_DEGREES, VIDEO_MIN_USER_FACE } from './video-vision.ts';
import type { VideoResults } from './video-results.ts';

const DAY = 24 * 3600_000;

export type Dialect = 'facefusion' | 'vclm';

/** Where jobs go once submitted (src/jobs: the embedded poller or pg-boss). */
export interface JobQueue { enqueue(jobId: string): Promise<void> }

/** One face of a job: which template face, and the user photo (stored as a blob until the job ends). */
export interface MergeSpec {
  field: string;
  userKey: string;
  userRect?: Rect;
  templateFaceId?: string;
  /** vclm: the template face chosen by a reference photo (blob) or a rectangle on the first frame it appears. */
  templateImageKey?: string;
  templateRect?: Rect;
}

export interface JobParams {
  merges: MergeSpec[];
  logoAdd: boolean;
  logo?: { rect: Rect; key: string };
  designatedUrl?: string;
  meta: { key: string; value: string }[];
  /** vclm: the downloaded template video. */
  templateKey?: string;
  /** intl: the tracks picked at submit. */
  trackIds?: number[];
}

export interface JobOutput { width: number; height: number; fps: number; durationSec: number; frames: number; md5: string; uploadedToDesignatedUrl?: boolean }

export interface JobView {
  jobId: string; dialect: Dialect; status: VideoJobRow['status'];
  errorCode: string; errorMessage: string;
  framesDone: number; framesTotal: number;
  output: (JobOutput & { url: string }) | null;
}

export interface SubmitIntl {
  activityId: string; materialId: string;
  merge: { input: ImageInput; faceRect?: Rect; templateFaceId?: string };
  logoAdd: boolean; logo?: { rect: Rect; input: ImageInput };
  userDesignatedUrl?: string; meta: { key: string; value: string }[];
  endUserId?: string; callbackUrl?: string;
}

export interface SubmitVclm {
  videoUrl: string;
  templates: { templateFaceId: string; image?: ImageInput; rect?: Rect }[];
  merges: { input: ImageInput; faceRect?: Rect; templateFaceId?: string }[];
  logoAdd: boolean; logo?: { rect: Rect; input: ImageInput };
  endUserId?: string; callbackUrl?: string;
}

export interface VideoJobsOptions {
  /** A claimed job's lease; renewed with every progress report (default 60 s). */
  leaseMs: number;
  /** Attempts before a job interrupted again and again is failed (default 3). */
  maxAttempts: number;
  workDir: string;
  /** Fetches a Url (SSRF-guarded) up to maxBytes, into a file; PUTs/POSTs a body (bytes or a file, streamed) to a URL (same guard). */
  fetchToFile: FetchToFile;
  sendUrl(url: string, o: { method: 'PUT' | 'POST'; body: Buffer | { file: string }; headers: Record<string, string> }, field: string): Promise<number>;
  /** Key for callback signatures (derived from the master key). */
  callbackKey: Buffer;
  report(e: Error): void;
}

/** An input stored with the job: bytes (photos), or a scratch file (the template video). */
type Stored = { key: string; type: string } & ({ bytes: Buffer; file?: undefined } | { file: string; bytes?: undefined });

const USER_LIMITS = { maxBase64Bytes: VIDEO_LIMITS.maxUserImageBytes, maxUrlBytes: VIDEO_LIMITS.maxUserImageBytes };

export class VideoJobs {
  private queue: JobQueue | null = null;

  constructor(
    private readonly repo: VideoRepo,
    private readonly materials: VideoMaterials,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly finder: FaceFinder,
    private readonly pool: FusionRunner,
    private readonly results: VideoResults,
    private readonly readImage: ImageReader,
    private readonly o: VideoJobsOptions,
  ) {}

  /** The queue that runs jobs (set once by the composition root, before the first request). */
  useQueue(q: JobQueue): void { this.queue = q; }

  async submitIntl(caller: Caller, r: SubmitIntl): Promise<{ jobId: string; estimatedSec: number; queueLength: number }> {
    const mat = await this.materials.load(caller, r.activityId, r.materialId);
    const tracks = mat.tracks;
    let track: Track | undefined;
    if (r.merge.templateFaceId !== undefined) {
      track = tracks.find((t) => String(t.id) === r.merge.templateFaceId);
      if (!track) throw new TcError('FailedOperation.FaceIdNotInVideo', `MergeInfos.0.TemplateFaceID: face "${r.merge.templateFaceId}" is not in the video (it has ${tracks.map((t) => `"${t.id}"`).join(', ')})`);
    } else track = largestTrack(tracks);
    if (!track) throw new TcError('FailedOperation.FaceIdNotInVideo', 'MergeInfos.0: the video has no face to fuse into');
    const field = `MergeInfos.0.${r.merge.input.url ? 'Url' : 'Image'}`;
    const bytes = await this.readImage(r.merge.input, field, { maxBase64Bytes: 5 * 1024 * 1024, maxUrlBytes: VIDEO_LIMITS.maxUserImageBytes });
    await this.checkUser(bytes, field, r.merge.faceRect, 34, 'FailedOperation.NoFaceDetected');
    const jobId = newJobId();
    const stored: Stored[] = [{ key: `video/${caller.appId}/jobs/${jobId}/user-0`, bytes, type: 'application/octet-stream' }];
    let logo: JobParams['logo'];
    if (r.logoAdd && r.logo) {
      const lb = await this.readLogo(r.logo.input);
      stored.push({ key: `video/${caller.appId}/jobs/${jobId}/logo`, bytes: lb, type: 'application/octet-stream' });
      logo = { rect: r.logo.rect, key: stored[stored.length - 1].key };
    }
    const params: JobParams = {
      merges: [{ field, userKey: stored[0].key, userRect: r.merge.faceRect, templateFaceId: String(track.id) }],
      logoAdd: r.logoAdd, logo, designatedUrl: r.userDesignatedUrl, meta: r.meta, trackIds: [track.id],
    };
    const frames = mat.info.frames || Math.round(mat.info.durationSec * mat.info.fps);
    return this.insert(caller, jobId, 'facefusion', r.activityId, r.materialId, params, stored, frames, r.endUserId, r.callbackUrl);
  }

  async submitVclm(caller: Caller, r: SubmitVclm): Promise<{ jobId: string; estimatedSec: number; queueLength: number }> {
    if (r.merges.length < 1 || r.merges.length > 6) throw new TcError('InvalidParameter.InvalidParameter', `MergeInfos: 1 to 6 faces are accepted, got ${r.merges.length}`);
    if (r.templates.length > 6) throw new TcError('InvalidParameter.InvalidParameter', `TemplateInfos: at most 6 faces are accepted, got ${r.templates.length}`);
    const ids = new Set(r.templates.map((t) => t.templateFaceId));
    if (ids.size !== r.templates.length) throw new TcError('InvalidParameter.InvalidParameter', 'TemplateInfos: each TemplateFaceID may appear once');
    const used = new Set<string>();
    r.merges.forEach((m, i) => {
      if (m.templateFaceId === undefined && r.merges.length > 1) throw new TcError('InvalidParameter.InvalidParameter', `MergeInfos.${i}.TemplateFaceID: required when more than one face is merged`);
      if (m.templateFaceId !== undefined && r.templates.length && !ids.has(m.templateFaceId)) throw new TcError('InvalidParameter.InvalidParameter', `MergeInfos.${i}.TemplateFaceID: "${m.templateFaceId}" is not among TemplateInfos`);
      if (m.templateFaceId !== undefined && used.has(m.templateFaceId)) throw new TcError('InvalidParameter.InvalidParameter', `MergeInfos.${i}.TemplateFaceID: "${m.templateFaceId}" is merged twice`);
      if (m.templateFaceId !== undefined) used.add(m.templateFaceId);
    });
    // The template is fetched (to a scratch file, never to memory) and probed now, so a wrong
    // video fails the submit, not the job; it is stored from the file at insert.
    const video = await downloadVideo(this.o.workDir, this.o.fetchToFile, r.videoUrl, 'VideoUrl');
    try {
      const info = await probeTemplateFile(video.file, video.size, 'VideoUrl', 'InvalidParameter.InvalidParameter', 'FailedOperation.ImageNotSupported');
      return await this.submitVclmWith(caller, r, video.file, info);
    } finally {
      await video.remove();
    }
  }

  private async submitVclmWith(caller: Caller, r: SubmitVclm, templateFile: string, templateInfo: VideoInfo): Promise<{ jobId: string; estimatedSec: number; queueLength: number }> {
    const jobId = newJobId();
    const stored: Stored[] = [{ key: `video/${caller.appId}/jobs/${jobId}/template.mp4`, file: templateFile, type: 'video/mp4' }];
    const merges: MergeSpec[] = [];
    for (const [i, m] of r.merges.entries()) {
      const field = `MergeInfos.${i}.MergeFaceImage`;
      const bytes = await this.readImage(m.input, field, USER_LIMITS);
      await this.checkUser(bytes, field, m.faceRect, VIDEO_MIN_USER_FACE, 'InvalidParameterValue.NoFaceInPhoto');
      const key = `video/${caller.appId}/jobs/${jobId}/user-${i}`;
      stored.push({ key, bytes, type: 'application/octet-stream' });
      const t = r.templates.find((x) => x.templateFaceId === m.templateFaceId);
      let templateImageKey: string | undefined;
      if (t?.image) {
        const tf = `TemplateInfos.${r.templates.indexOf(t)}.TemplateFaceImage`;
        const tb = await this.readImage(t.image, tf, USER_LIMITS);
        await this.checkUser(tb, tf, undefined, 34, 'InvalidParameterValue.NoFaceInPhoto');
        templateImageKey = `video/${caller.appId}/jobs/${jobId}/template-face-${i}`;
        stored.push({ key: templateImageKey, bytes: tb, type: 'application/octet-stream' });
      }
      merges.push({ field, userKey: key, userRect: m.faceRect, templateFaceId: m.templateFaceId, templateImageKey, templateRect: t?.rect });
    }
    let logo: JobParams['logo'];
    if (r.logoAdd && r.logo) {
      const lb = await this.readLogo(r.logo.input);
      stored.push({ key: `video/${caller.appId}/jobs/${jobId}/logo`, bytes: lb, type: 'application/octet-stream' });
      logo = { rect: r.logo.rect, key: stored[stored.length - 1].key };
    }
    const params: JobParams = { merges, logoAdd: r.logoAdd, logo, meta: [], templateKey: stored[0].key };
    const frames = templateInfo.frames || Math.round(templateInfo.durationSec * templateInfo.fps);
    // vclm runs the tracking pass in the job too: twice the frames.
    return this.insert(caller, jobId, 'vclm', null, null, params, stored, 2 * frames, r.endUserId, r.callbackUrl);
  }

  private async checkUser(bytes: Buffer, field: string, rect: Rect | undefined, minFace: number, noFace: string): Promise<void> {
    try {
      await userFace(this.finder, bytes, field, rect, minFace);
    } catch (e) {
      if (e instanceof TcError && e.code === 'InvalidParameterValue.NoFaceInPhoto') throw new TcError(noFace, e.message);
      throw e;
    }
  }

  private async readLogo(input: ImageInput): Promise<Buffer> {
    const field = input.url ? 'LogoParam.LogoUrl' : 'LogoParam.LogoImage';
    const bytes = await this.readImage(input, field, { maxBase64Bytes: 5 * 1024 * 1024, maxUrlBytes: VIDEO_LIMITS.maxUserImageBytes });
    let meta;
    try { meta = await sharp(bytes, { limitInputPixels: 40_000_000 }).metadata(); } catch { throw new TcError('FailedOperation.ImageDecodeFailed', `${field}: the logo is not a JPG or PNG image`); }
    if (meta.format !== 'jpeg' && meta.format !== 'png') throw new TcError('FailedOperation.ImageDecodeFailed', `${field}: the logo must be a JPG or PNG image`);
    return bytes;
  }

  private async insert(caller: Caller, jobId: string, dialect: Dialect, activityId: string | null, materialId: string | null, params: JobParams, stored: Stored[], frames: number, endUserId?: string, callbackUrl?: string) {
    const now = this.clock.now();
    const blobRows: NewBlob[] = [];
    // Objects first, the job row (naming them all) second; a crash between them leaves objects
    // no row names, which the orphan sweep deletes (jobs/orphan-objects.ts).
    for (const s of stored) {
      let size: number;
      if (s.file !== undefined) size = (await this.blobs.putFile(s.key, s.file, s.type)).size;
      else { await this.blobs.put(s.key, s.bytes, s.type); size = s.bytes.length; }
      blobRows.push({ key: s.key, dataClass: 'video_result', expiresAt: now + DAY, size, contentType: s.type, ownerRef: jobId, createdAt: now });
    }
    const queueLength = await this.repo.queueLength();
    try {
      await this.repo.insertJob({
        job_id: jobId, app_id: caller.appId, dialect, activity_id: activityId, material_id: materialId, status: 'queued', params: JSON.stringify(params),
        input_keys: JSON.stringify(stored.map((s) => s.key)), attempts: 0, lease_owner: null, lease_until: null, frames_done: 0, frames_total: frames,
        error_code: null, error_message: null, result_key: null, result: null, callback_url: callbackUrl ?? null, end_user_id: endUserId ?? null,
        created_at: now, started_at: null, finished_at: null, data_class: 'video_result', expires_at: now + DAY,
      }, blobRows);
    } catch (e) {
      for (const s of stored) await this.blobs.delete(s.key);
      throw e;
    }
    if (!this.queue) throw new TcError('InternalError', 'video jobs are not being run by this server');
    await this.queue.enqueue(jobId);
    // Measured (docs/PERFORMANCE.md): ~25 frames a second for one face at 640x360 on 2 cores.
    const estimatedSec = Math.ceil(frames / 25) + queueLength * 15;
    return { jobId, estimatedSec, queueLength };
  }

  async view(caller: Caller, jobId: string, dialect: Dialect): Promise<JobView> {
    const row = await this.repo.job(caller.appId, jobId);
    if (!row || row.dialect !== dialect || (row.expires_at !== null && row.expires_at <= this.clock.now())) {
      throw new TcError(dialect === 'vclm' ? 'FailedOperation.JobNotFound' : 'FailedOperation.JobNotExist', `JobId: job ${jobId} does not exist (jobs are kept 24 hours)`);
    }
    const out = row.result ? (JSON.parse(row.result) as JobOutput) : null;
    return {
      jobId, dialect, status: row.status, errorCode: row.error_code ?? '', errorMessage: row.error_message ?? '',
      framesDone: row.frames_done, framesTotal: row.frames_total,
      output: out && row.status === 'done' ? { ...out, url: this.results.url(jobId, row.expires_at ?? this.clock.now() + DAY) } : null,
    };
  }

  /** facevault extension: cancels a queued or running job (a running one stops at its next progress report). */
  async cancel(caller: Caller, jobId: string, dialect: Dialect): Promise<JobView> {
    const v = await this.view(caller, jobId, dialect);
    if (v.status === 'queued' || v.status === 'running') {
      if (await this.repo.cancel(caller.appId, jobId, this.clock.now())) {
        const row = await this.repo.job(caller.appId, jobId);
        if (row && row.status === 'cancelled' && !row.lease_owner) await this.release(row);
      }
    }
    return this.view(caller, jobId, dialect);
  }

  /** Claims and runs one job (the given one, or else the oldest claimable); false when none was claimable. */
  async runNext(owner: string, jobId?: string): Promise<boolean> {
    const job = await this.repo.claim(owner, this.clock.now(), this.o.leaseMs, this.o.maxAttempts, jobId);
    if (!job) return false;
    await this.execute(job, owner);
    return true;
  }

  /** Whether a job is running under a lease that has not run out (another process has it). */
  async heldElsewhere(jobId: string): Promise<boolean> {
    const row = await this.repo.jobById(jobId);
    return !!row && row.status === 'running' && (row.lease_until ?? 0) >= this.clock.now();
  }

  private async execute(job: VideoJobRow, owner: string): Promise<void> {
    const files: string[] = [];
    const abort = new AbortController();
    let lastBeat = 0, lastDone = 0, lastTotal = job.frames_total;
    const beat = async (done: number, total: number) => {
      lastDone = done; lastTotal = total;
      const now = this.clock.now();
      if (now - lastBeat < Math.min(2000, this.o.leaseMs / 4) && done < total) return;
      lastBeat = now;
      if (!(await this.repo.heartbeat(job.job_id, owner, now, this.o.leaseMs, done, total))) abort.abort();
    };
    // The lease is renewed on a timer too, not only with each frame: on a loaded machine the
    // first frame (user photo, media thread start, first fusion) or a single frame can take longer
    // than the lease (measured: 20+ s at load 20 with one fusion thread, against a 5 s lease), and
    // the job was taken away from a live process. The lease still runs out when the process dies.
    const renew = setInterval(() => {
      if (this.clock.now() - lastBeat < this.o.leaseMs / 3) return;
      void beat(lastDone, lastTotal).catch((e: Error) => this.o.report(e));
    }, Math.max(100, Math.floor(this.o.leaseMs / 3)));
    renew.unref();
    let ended = false;
    try {
      const p = JSON.parse(job.params) as JobParams;
      const caller: Caller = { appId: job.app_id, uin: 'system', subUin: 'system' };
      const src = await scratchFile(this.o.workDir, 'mp4');
      files.push(src);
      let info: VideoInfo, tracks: Track[], trackIds: number[], picture: Area | null;
      let offset = 0;
      if (job.dialect === 'facefusion') {
        const mat = await this.materials.load(caller, job.activity_id!, job.material_id!);
        // The template goes from the object store to the scratch file by stream, never whole in memory.
        if (!(await this.blobs.getToFile(mat.row.blob_key, src))) throw new TcError('FailedOperation.FuseMaterialNotExist', 'ModelId: the video of the material is missing');
        info = mat.info; tracks = mat.tracks; trackIds = p.trackIds!; picture = mat.picture;
      } else {
        if (!(await this.blobs.getToFile(p.templateKey!, src))) throw new TcError('FailedOperation.DriverFailed', 'the template video of the job is missing');
        info = probeVideo(src);
        const frames = info.frames || Math.round(info.durationSec * info.fps);
        const tr = await trackVideo(src, info, frameDetector(this.finder), { signal: abort.signal, onProgress: (d) => { void beat(d, 2 * frames); } });
        tracks = tr.tracks.filter((t) => t.points.some((x) => x.mesh));
        offset = tr.frames; picture = tr.picture;
        if (!tracks.length) throw new TcError('FailedOperation.TemplateFirstFrameNotDetectFace', 'no face was found in the template video');
        trackIds = await this.pickTracks(p.merges, tracks);
      }
      if (abort.signal.aborted) throw new VideoCancelled();
      const faces: VideoFace[] = [];
      for (const [i, m] of p.merges.entries()) {
        const bytes = await this.blobs.get(m.userKey);
        if (!bytes) throw new TcError('FailedOperation.InnerError', `${m.field}: the photo of the job is missing`);
        const u = await userFace(this.finder, bytes, m.field, m.userRect, 34);
        faces.push({ trackId: trackIds[i], user: u.user, userMesh: u.userMesh, ...(u.embedding ? { userEmbedding: u.embedding } : {}), ...VIDEO_FUSE_DEGREES });
      }
      let mark: Parameters<typeof fuseVideo>[0]['mark'] = { kind: p.logoAdd ? 'label' : 'none' };
      if (p.logoAdd && p.logo) {
        const lb = await this.blobs.get(p.logo.key);
        if (lb) mark = { kind: 'logo', logo: await logoOverlay(lb, p.logo.rect, info.width, info.height) };
      }
      const out = await scratchFile(this.o.workDir, 'mp4');
      files.push(out);
      const total = offset + (info.frames || Math.round(info.durationSec * info.fps));
      const r = await fuseVideo({
        source: src, output: out, info, tracks, faces, mark, pool: this.pool, signal: abort.signal, picture,
        tags: aigcTags(job.job_id, p.meta), onProgress: (d) => { void beat(offset + d, Math.max(total, offset + d)); },
      });
      const o2 = probeVideo(out);
      // The result goes from its scratch file to the object store by stream (its MD5 counted on the way).
      const key = `video/${job.app_id}/results/${job.job_id}.mp4`;
      const put = await this.blobs.putFile(key, out, 'video/mp4');
      const output: JobOutput = { width: o2.width, height: o2.height, fps: Math.round(info.fps * 100) / 100, durationSec: Math.round(o2.durationSec * 1000) / 1000, frames: r.frames, md5: put.md5 };
      if (p.designatedUrl) {
        // PUT to the caller's pre-signed URL, streamed from the file; on failure our copy stays the result (Tencent: the default location).
        try {
          const st = await this.o.sendUrl(p.designatedUrl, { method: 'PUT', body: { file: out }, headers: { 'content-type': 'video/mp4' } }, 'UserDesignatedUrl');
          output.uploadedToDesignatedUrl = st >= 200 && st < 300;
        } catch { output.uploadedToDesignatedUrl = false; }
      }
      const now = this.clock.now();
      const ok = await this.repo.finish(job.job_id, owner, { status: 'done', result_key: key, result: JSON.stringify(output), finished_at: now, frames_done: total, frames_total: total, expires_at: now + DAY },
        { key, dataClass: 'video_result', expiresAt: now + DAY, size: put.size, contentType: 'video/mp4', ownerRef: job.job_id, createdAt: now, appId: job.app_id });
      // Cancelled, deleted or taken over meanwhile: this result is not the job's.
      if (!ok) await this.blobs.delete(key);
      ended = ok;
    } catch (e) {
      if (e instanceof VideoCancelled || abort.signal.aborted) { ended = true; return; }
      const tc = e instanceof TcError ? e : null;
      if (!tc) this.o.report(e as Error);
      ended = await this.repo.finish(job.job_id, owner, {
        status: 'failed', error_code: tc?.code ?? (job.dialect === 'vclm' ? 'InternalError' : 'FailedOperation.InnerError'),
        error_message: tc?.message ?? 'the video could not be processed', finished_at: this.clock.now(),
      }, null);
    } finally {
      clearInterval(renew);
      for (const f of files) await removeFile(f);
      if (ended) {
        const row = await this.repo.jobById(job.job_id);
        if (row) { await this.release(row); await this.callback(row); }
      }
    }
  }

  /** vclm: the template track of each merge — by reference photo (embedding), by rectangle, else the largest free one. */
  private async pickTracks(merges: MergeSpec[], tracks: Track[]): Promise<number[]> {
    const taken = new Set<number>();
    const out: number[] = [];
    for (const m of merges) {
      let best: Track | undefined;
      if (m.templateImageKey) {
        const bytes = await this.blobs.get(m.templateImageKey);
        const ref = bytes ? (await userFace(this.finder, bytes, 'TemplateFaceImage', undefined, 34)).embedding : null;
        let bs = -2;
        for (const t of tracks) {
          if (taken.has(t.id) || !t.embedding || !ref) continue;
          let s = 0; for (let k = 0; k < ref.length; k++) s += ref[k] * t.embedding[k];
          if (s > bs) { bs = s; best = t; }
        }
      } else if (m.templateRect) {
        let bo = 0;
        for (const t of tracks) {
          if (taken.has(t.id)) continue;
          const o = iou(t.points.find((x) => !x.bridged)!.box, m.templateRect);
          if (o > bo) { bo = o; best = t; }
        }
        if (!best) throw new TcError('FailedOperation.ImageDetectFaceFailed', `${m.field.replace(/MergeFaceImage$/, 'TemplateFaceRect')}: no template face lies in this rectangle`);
      } else {
        best = largestTrack(tracks.filter((t) => !taken.has(t.id)));
      }
      if (!best) throw new TcError('FailedOperation.ImageDetectFaceFailed', `${m.field}: the template video has no further face to fuse into`);
      taken.add(best.id);
      out.push(best.id);
    }
    return out;
  }

  /** A job that ended gives up its inputs (user photos, template copy): only the result stays. */
  private async release(row: VideoJobRow): Promise<void> {
    const keys = JSON.parse(row.input_keys) as string[];
    for (const k of keys) await this.blobs.delete(k);
    await this.repo.dropBlobRows(row.app_id, keys);
    await this.repo.setInputKeys(row.job_id, []);
  }

  /** facevault extension: a signed POST to the owner's https URL when the job ends, retried (SSRF-guarded). */
  private async callback(row: VideoJobRow): Promise<void> {
    if (!row.callback_url) return;
    const body = Buffer.from(JSON.stringify({ JobId: row.job_id, Status: row.status, ErrorCode: row.error_code ?? '', ErrorMessage: row.error_message ?? '', Time: this.clock.now() }));
    const ts = String(Math.floor(this.clock.now() / 1000));
    const sig = crypto.createHmac('sha256', this.o.callbackKey).update(`${row.app_id}\n${ts}\n`).update(body).digest('hex');
    const headers = { 'content-type': 'application/json', 'x-facevault-timestamp': ts, 'x-facevault-signature': `sha256=${sig}` };
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const st = await this.o.sendUrl(row.callback_url, { method: 'POST', body, headers }, 'CallbackUrl');
        if (st >= 200 && st < 300) return;
      } catch { /* retried */ }
      await new Promise((r) => setTimeout(r, 500 * 4 ** attempt));
    }
  }

  /** Verifies a callback's signature (for receivers and tests). */
  verifyCallback(appId: number, ts: string, body: Buffer, signature: string): boolean {
    const sig = `sha256=${crypto.createHmac('sha256', this.o.callbackKey).update(`${appId}\n${ts}\n`).update(body).digest('hex')}`;
    return sig.length === signature.length && crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(signature));
  }
}

function largestTrack(tracks: Track[]): Track | undefined {
  // The face most on screen: detected frames × mean size.
  let best: Track | undefined, bs = -1;
  for (const t of tracks) {
    const seen = t.points.filter((p) => !p.bridged);
    const s = seen.reduce((a, p) => a + p.box.width * p.box.height, 0);
    if (s > bs) { bs = s; best = t; }
  }
  return best;
}

const newJobId = () => crypto.randomBytes(24).toString('base64url');

/** The container's mark, always written (docs/API.md): what made it, that it is AI generated. */
function aigcTags(jobId: string, meta: { key: string; value: string }[]): Record<string, string> {
  const tags: Record<string, string> = {
    comment: 'AI-GENERATED: face fused by facevault',
    aigc: JSON.stringify({ Label: '1', ContentProducer: 'facevault', ProduceID: jobId }),
  };
  for (const m of meta) if (!(m.key in tags)) tags[m.key] = m.value;
  return tags;
}

/** The logo resized to its rectangle (negative X/Y from the right/bottom edge), as RGBA. */
async function logoOverlay(bytes: Buffer, r: Rect, W: number, H: number): Promise<LogoOverlay> {
  const width = Math.max(1, Math.round(r.width)), height = Math.max(1, Math.round(r.height));
  const left = Math.round(r.x < 0 ? W + r.x - width : r.x), top = Math.round(r.y < 0 ? H + r.y - height : r.y);
  const { data } = await sharp(bytes).rotate().resize(width, height, { fit: 'fill' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, left, top };
}
