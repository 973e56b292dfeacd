// FuseFace, FuseFaceUltra and CreateMaterial as one call each: the steps behind them (the
// privacy age gate, activity admission, the fusion itself and its fusion-log record; the
// activity check and image read before a material is analysed), in the order that keeps a
// refused call cheap.
import fs from 'node:fs';
import type { Caller } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import type { FusionMaterials, MaterialRow } from './fusion-materials.ts';
import type { FuseOptions, FuseOutcome, FusionService, ImageInput, ImageReader } from './fusion.ts';
import { imageUrls, type FusionCallInfo, type FusionLog } from './fusion-log.ts';

/** The privacy policy fusion applies (services/privacy PrivacyService): the AppId's minimum age, 0 = none. */
export interface AgePolicy {
  minAge(appId: number): Promise<number>;
  /** Throws when the face's estimated age is under minAge and no parental consent was asserted. */
  checkAge(age: number | undefined, minAge: number, extras: { parentalConsent?: string }, field: string): void;
}

/** Privacy extension fields of a fusion request (docs/PRIVACY.md). */
export interface FusionPrivacy {
  endUserId?: string;
  /** ParentalConsent.Reference: lifts the minimum-age check. */
  parentalConsent?: string;
}

type Common = Pick<FuseOptions, 'rspImgType' | 'merges' | 'logoAdd' | 'logo' | 'meta'> & FusionPrivacy;

export interface FuseFaceCall extends Common {
  activityId: string;
  materialId: string;
  /** 0-100; absent: the activity's default. */
  profileDegree?: number;
  faceDegree?: number;
}

/** FusionUltraParam ratios that change the result (BlurRadio and TeethEnhanceRadio do not). */
export interface UltraRatios { warp: number; enhance: number; mp: number; makeup: number }

export interface FuseFaceUltraCall extends Common {
  model: ImageInput;
  swapModelType: number;
  ratios: UltraRatios;
}

/** A file part of a multipart upload, left in its spooled body file (api/protocol/multipart.ts). */
export interface UploadedFile { file: string; offset: number; size: number }

/** Where CreateMaterial hands a video (services/video/video-materials.ts). */
export interface VideoIntake {
  maxBytes: number;
  isVideo(bytes: Uint8Array): boolean;
  create(caller: Caller, activityId: string, name: string, bytes: Buffer): Promise<{ row: MaterialRow }>;
  /** A video in (part of) a file, stored by stream: never read into memory. */
  createFromFile(caller: Caller, activityId: string, name: string, src: UploadedFile): Promise<{ row: MaterialRow }>;
  /** Downloads a Url (SSRF-guarded, up to maxBytes) into a temp file; `remove` deletes it. */
  download(url: string, field: string): Promise<{ file: string; size: number; remove(): Promise<void> }>;
}

const isUploaded = (s: unknown): s is UploadedFile => typeof s === 'object' && s !== null && typeof (s as UploadedFile).file === 'string' && typeof (s as UploadedFile).offset === 'number';

async function readRange(src: UploadedFile, length: number): Promise<Buffer> {
  const fh = await fs.promises.open(src.file, 'r');
  try {
    const b = Buffer.alloc(Math.min(length, src.size));
    await fh.read(b, 0, b.length, src.offset);
    return b;
  } finally {
    await fh.close();
  }
}

const MATERIAL_LIMITS = { maxBase64Bytes: 10 * 1024 * 1024, maxUrlBytes: 20 * 1024 * 1024 };

/** One of a base64 image and a URL (the URL wins when both are sent). */
export function requireImage(input: ImageInput, field: string, imageKey: string, urlKey: string): ImageInput {
  if (!input.url && !input.image) throw new TcError('InvalidParameterValue', `${field}: one of ${imageKey} or ${urlKey} is required`);
  return input.url ? { url: input.url } : { image: input.image };
}

export class FusionCalls {
  constructor(
    private readonly service: FusionService,
    private readonly materials: FusionMaterials,
    private readonly log: FusionLog,
    private readonly readImage: ImageReader,
    /** Without it no minimum age applies (deployments and tests without the privacy capability). */
    private readonly policy?: AgePolicy,
    /** Video materials (services/video): an mp4 given to CreateMaterial goes there. */
    private readonly video?: VideoIntake,
  ) {}

  async fuseFace(call: FusionCallInfo, r: FuseFaceCall): Promise<FuseOutcome> {
    return this.log.around(call, { activityId: r.activityId, materialId: r.materialId, imageUrls: imageUrls(r), endUserId: r.endUserId }, async () => {
      const privacy = await this.privacy(call.caller, r);
      const activity = await this.service.admit(call.caller, r.activityId);
      return this.service.fuseFace(call.caller, call.requestId, activity.activity_id, r.materialId, {
        rspImgType: r.rspImgType, merges: r.merges, logoAdd: r.logoAdd, logo: r.logo, meta: r.meta, ...privacy,
        profile: (r.profileDegree ?? activity.profile_degree) / 100, appearance: (r.faceDegree ?? activity.face_degree) / 100,
      });
    });
  }

  async fuseFaceUltra(call: FusionCallInfo, r: FuseFaceUltraCall): Promise<FuseOutcome> {
    return this.log.around(call, { activityId: null, materialId: null, imageUrls: imageUrls(r), endUserId: r.endUserId }, async () => {
      const model = requireImage(r.model, 'Model', 'ModelImage', 'ModelUrl');
      const privacy = await this.privacy(call.caller, r);
      const { warp, enhance, mp, makeup } = r.ratios;
      return this.service.fuseFaceUltra(call.caller, call.requestId, model, {
        rspImgType: r.rspImgType, merges: r.merges, logoAdd: r.logoAdd, logo: r.logo, meta: r.meta, ...privacy,
        ...ultraEngine(r.swapModelType, warp, enhance, mp, makeup),
      });
    });
  }

  /** A material from an uploaded file part or an Image/Url input, once its activity is known to exist. */
  async createMaterial(caller: Caller, activityId: string, name: string, source: Buffer | UploadedFile | ImageInput) {
    if (Buffer.isBuffer(source)) return this.fromBytes(caller, activityId, name, source);
    if (isUploaded(source)) {
      await this.materials.activity(caller, activityId);
      // A video part is streamed to the object store; an image is read (it is decoded in memory anyway).
      if (this.video && this.video.isVideo(await readRange(source, 12))) return { row: (await this.video.createFromFile(caller, activityId, name, source)).row, faces: [] };
      if (source.size > MATERIAL_LIMITS.maxUrlBytes) throw new TcError('FailedOperation.ImageSizeExceed', `Image: the image is ${source.size} bytes; at most ${MATERIAL_LIMITS.maxUrlBytes} bytes are accepted`);
      return this.materials.createMaterial(caller, activityId, name, await readRange(source, source.size));
    }
    const input = requireImage(source, 'Material', 'Image', 'Url');
    await this.materials.activity(caller, activityId);
    if (input.url && this.video) {
      // A Url may name a video (up to the video limit): downloaded to a temp file, not to memory.
      const got = await this.video.download(input.url, 'Url');
      try {
        const src = { file: got.file, offset: 0, size: got.size };
        if (this.video.isVideo(await readRange(src, 12))) return { row: (await this.video.createFromFile(caller, activityId, name, src)).row, faces: [] };
        if (got.size > MATERIAL_LIMITS.maxUrlBytes) throw new TcError('FailedOperation.ImageSizeExceed', `Url: the image is ${got.size} bytes; at most ${MATERIAL_LIMITS.maxUrlBytes} bytes are accepted`);
        return await this.materials.createMaterial(caller, activityId, name, await readRange(src, got.size));
      } finally {
        await got.remove();
      }
    }
    return this.fromBytes(caller, activityId, name, await this.readImage(input, input.url ? 'Url' : 'Image', MATERIAL_LIMITS), true);
  }

  private async fromBytes(caller: Caller, activityId: string, name: string, bytes: Buffer, activityChecked = false) {
    if (!activityChecked) await this.materials.activity(caller, activityId);
    if (this.video && this.video.isVideo(bytes)) {
      const { row } = await this.video.create(caller, activityId, name, bytes);
      return { row, faces: [] };
    }
    return this.materials.createMaterial(caller, activityId, name, bytes);
  }

  /** EndUserId for a stored result, and the AppId's minimum age unless parental consent was asserted. */
  private async privacy(caller: Caller, r: FusionPrivacy): Promise<Pick<FuseOptions, 'endUserId' | 'ageGate'>> {
    const policy = this.policy;
    const minAge = policy ? await policy.minAge(caller.appId) : 0;
    const extras = { parentalConsent: r.parentalConsent };
    return {
      ...(r.endUserId ? { endUserId: r.endUserId } : {}),
      ...(policy && minAge > 0 && !r.parentalConsent ? { ageGate: (age: number | undefined, field: string) => policy.checkAge(age, minAge, extras, field) } : {}),
    };
  }
}

/**
 * FuseFaceUltra's model types and FusionUltraParam mapped onto our engine (docs/API.md):
 * profile = 1 − WarpRadio (types 1–5; type 6 keeps the user's full shape), appearance =
 * template share of the inner features (0 for the high-similarity types 4 and 6),
 * detail = 0.6·EnhanceRadio − 0.6·MpRadio (+0.3 for the "sharp" type 1),
 * MakeupTransferRadio = 1 adds 0.2 template appearance.
 */
export function ultraEngine(swap: number, warp: number, enhance: number, mp: number, makeup: number): { profile: number; appearance: number; detail: number } {
  const appearanceByType: Record<number, number> = { 1: 0.1, 2: 0.15, 3: 0.15, 4: 0, 5: 0.1, 6: 0 };
  const usesParams = swap <= 5;
  const profile = usesParams ? 1 - warp : 0;
  const appearance = Math.min(1, appearanceByType[swap] + (usesParams && makeup >= 0.5 ? 0.2 : 0));
  const detail = usesParams ? Math.max(-1, Math.min(1, 0.6 * enhance - 0.6 * mp + (swap === 1 ? 0.3 : 0))) : 0;
  return { profile, appearance, detail };
}
