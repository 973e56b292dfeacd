// Face fusion activities and materials (Tencent keeps these in its console; we give them an
// API). A material is analysed once on upload: every face's box, 5 points, dense mesh and
// skin colour statistics are stored beside the image, so fusion does no work on the template
// beyond what the user's face requires.
import crypto from 'node:crypto';
import type { Caller } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { ActivityRow, FusionRepo, MaterialFaceRow, MaterialRow } from '../../store/fusion/fusion-repo.ts';
import { decodeImage, sniffFormat } from '../../vision/image-decode.ts';
import { ImageError, type Box, type Point, type RgbImage } from '../../vision/types.ts';
import { skinStats, type SkinStats } from '../../vision/fusion/colour.ts';
import { fillPolygon } from '../../vision/fusion/raster.ts';
import { ring, MESH_POINTS } from '../../vision/fusion/geometry.ts';
import type { Clock } from '../../domain/clock.ts';
import type { FaceFinder } from './fusion-vision.ts';

// The rows these methods return, for the API's mappers (which do not import the store).
export type { ActivityRow, MaterialFaceRow, MaterialRow };

export const MATERIAL_STATUS_MACHINE_APPROVED = 21;
export const MIN_FACE = 34;

export interface MaterialFace { index: number; box: Box; kps: Point[]; mesh: Float64Array; stats: SkinStats; /** Mesh depth (materials stored before depth was kept have none). */ meshZ?: Float64Array }

/** A decoded template ready for fusion; pixels in shared memory so workers read them without a copy. */
export interface LoadedMaterial { appId: number; materialId: string; activityId: string; image: RgbImage & { data: Uint8Array }; faces: MaterialFace[] }

export interface FusionLimits { draftQps: number; publishedQps: number; materialMaxSide: number; cacheBytes: number }

const digits = (n: number) => Array.from(crypto.randomBytes(n), (b) => String(b % 10)).join('');
export const newActivityId = () => `at_${1 + (crypto.randomBytes(1)[0] % 9)}${digits(18)}`;
export const newMaterialId = () => `mt_${1 + (crypto.randomBytes(1)[0] % 9)}${digits(18)}`;

export function mapImageError(e: unknown, field: string): never {
  if (e instanceof ImageError) {
    const code = { decode: 'FailedOperation.ImageDecodeFailed', format: 'FailedOperation.ImageDecodeFailed', too_large_bytes: 'FailedOperation.ImageSizeExceed', too_large_pixels: 'FailedOperation.ImageResolutionExceed', too_small: 'FailedOperation.ImageResolutionTooSmall', timeout: 'FailedOperation.RequestTimeout' }[e.kind];
    throw new TcError(code, `${field}: ${e.message}`);
  }
  throw e;
}

/** A small LRU by bytes, so hot templates stay decoded. */
class MaterialCache {
  private map = new Map<string, LoadedMaterial>();
  private bytes = 0;
  constructor(private readonly cap: number) {}
  get(id: string) {
    const m = this.map.get(id);
    if (m) { this.map.delete(id); this.map.set(id, m); }
    return m;
  }
  set(m: LoadedMaterial) {
    this.delete(m.materialId);
    this.map.set(m.materialId, m);
    this.bytes += m.image.data.byteLength;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.cap || k === m.materialId) break;
      this.map.delete(k);
      this.bytes -= v.image.data.byteLength;
    }
  }
  delete(id: string) {
    const m = this.map.get(id);
    if (m) { this.map.delete(id); this.bytes -= m.image.data.byteLength; }
  }
  has(id: string) { return this.map.has(id); }
}

/** 5 points, the mesh's x/y, then (when known) its depth: older rows end after the mesh. */
export function encodeGeometry(kps: Point[], mesh: ArrayLike<number>, meshZ?: ArrayLike<number>): Buffer {
  const f = new Float32Array(10 + MESH_POINTS * 2 + (meshZ ? MESH_POINTS : 0));
  kps.slice(0, 5).forEach((p, i) => { f[2 * i] = p.x; f[2 * i + 1] = p.y; });
  for (let i = 0; i < MESH_POINTS * 2; i++) f[10 + i] = mesh[i];
  if (meshZ) for (let i = 0; i < MESH_POINTS; i++) f[10 + MESH_POINTS * 2 + i] = meshZ[i];
  return Buffer.from(f.buffer);
}

function decodeGeometry(b: Buffer): { kps: Point[]; mesh: Float64Array; meshZ?: Float64Array } {
  const f = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const kps = [0, 1, 2, 3, 4].map((i) => ({ x: f[2 * i], y: f[2 * i + 1] }));
  const zAt = 10 + MESH_POINTS * 2;
  return { kps, mesh: Float64Array.from(f.subarray(10, zAt)), meshZ: f.length >= zAt + MESH_POINTS ? Float64Array.from(f.subarray(zAt, zAt + MESH_POINTS)) : undefined };
}

export function meshArray(points: Point[]): Float64Array {
  const a = new Float64Array(MESH_POINTS * 2);
  for (let i = 0; i < MESH_POINTS; i++) { a[2 * i] = points[i].x; a[2 * i + 1] = points[i].y; }
  return a;
}

/** Skin colour statistics inside the face silhouette (shrunk to 0.85), on the face's window only. */
export function faceSkinStats(img: RgbImage, mesh: Float64Array): SkinStats {
  const poly = ring(mesh, 0.85);
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < poly.length; i += 2) { x0 = Math.min(x0, poly[i]); x1 = Math.max(x1, poly[i]); y0 = Math.min(y0, poly[i + 1]); y1 = Math.max(y1, poly[i + 1]); }
  x0 = Math.max(0, Math.floor(x0)); y0 = Math.max(0, Math.floor(y0)); x1 = Math.min(img.width, Math.ceil(x1)); y1 = Math.min(img.height, Math.ceil(y1));
  const w = Math.max(1, x1 - x0), h = Math.max(1, y1 - y0);
  for (let i = 0; i < poly.length; i += 2) { poly[i] -= x0; poly[i + 1] -= y0; }
  const mask = fillPolygon(poly, w, h);
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h && y + y0 < img.height; y++) px.set(img.data.subarray(((y + y0) * img.width + x0) * 3, ((y + y0) * img.width + x0 + w) * 3), y * w * 3);
  return skinStats(px, mask);
}

export class FusionMaterials {
  private cache: MaterialCache;

  constructor(private readonly repo: FusionRepo, private readonly blobs: BlobStore, private readonly clock: Clock, private readonly finder: FaceFinder, readonly limits: FusionLimits) {
    this.cache = new MaterialCache(limits.cacheBytes);
  }

  // ---- activities
  async createActivity(caller: Caller, o: { name: string; published: boolean; profileDegree: number; faceDegree: number }): Promise<ActivityRow> {
    const now = this.clock.now();
    const row: ActivityRow = {
      activity_id: newActivityId(), app_id: caller.appId, name: o.name, status: o.published ? 'published' : 'draft',
      profile_degree: o.profileDegree, face_degree: o.faceDegree, created_at: now, updated_at: now, data_class: 'material', expires_at: null,
    };
    await this.repo.insertActivity(row);
    return row;
  }

  async activity(caller: Caller, activityId: string): Promise<ActivityRow> {
    const a = await this.repo.activity(caller.appId, activityId);
    if (!a) throw new TcError('InvalidParameterValue.ActivityIdNotFound', `ActivityId: activity ${activityId} does not exist`);
    return a;
  }

  listActivities(caller: Caller, offset: number, limit: number) {
    return this.repo.listActivities(caller.appId, offset, limit);
  }

  async modifyActivity(caller: Caller, activityId: string, patch: { name?: string; published?: boolean; profileDegree?: number; faceDegree?: number }): Promise<ActivityRow> {
    await this.activity(caller, activityId);
    await this.repo.updateActivity(caller.appId, activityId, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.published !== undefined ? { status: patch.published ? 'published' : 'draft' } : {}),
      ...(patch.profileDegree !== undefined ? { profile_degree: patch.profileDegree } : {}),
      ...(patch.faceDegree !== undefined ? { face_degree: patch.faceDegree } : {}),
      updated_at: this.clock.now(),
    });
    return this.activity(caller, activityId);
  }

  async deleteActivity(caller: Caller, activityId: string): Promise<void> {
    await this.activity(caller, activityId);
    const ids = await this.repo.materialIdsOfActivity(caller.appId, activityId);
    await this.purge(caller.appId, ids, activityId);
  }

  // ---- materials
  async createMaterial(caller: Caller, activityId: string, name: string, bytes: Buffer): Promise<{ row: MaterialRow; faces: MaterialFace[] }> {
    await this.activity(caller, activityId);
    // Refused by its signature before any decoding; JPG and PNG are decoded in the worker.
    const sniffed = sniffFormat(bytes);
    if (sniffed === 'bmp' || sniffed === 'webp') throw new TcError('FailedOperation.ImageDecodeFailed', 'Image: a material must be a JPG or PNG image');
    let found;
    try {
      found = await this.finder.analyze(bytes, { limits: { maxLongEdgeJpeg: this.limits.materialMaxSide, maxLongEdge: this.limits.materialMaxSide, minShortEdge: 64 }, returnImage: true, mesh: true, minFaceSize: MIN_FACE });
    } catch (e) { mapImageError(e, 'Image'); }
    const img = found.image!;
    const format = img.format;
    if (format !== 'jpeg' && format !== 'png') throw new TcError('FailedOperation.ImageDecodeFailed', 'Image: a material must be a JPG or PNG image');
    const usable = found.faces.filter((f) => f.mesh && f.mesh.length >= MESH_POINTS && f.kps.length >= 5);
    if (!usable.length) {
      throw new TcError(found.faces.length ? 'FailedOperation.FaceSizeTooSmall' : 'FailedOperation.NoFaceDetected', `Image: no face of at least ${MIN_FACE}x${MIN_FACE} pixels was found in the material`);
    }
    // FaceId "0", "1", ... from left to right: stable and easy to pick in the picture.
    usable.sort((a, b) => a.box.x - b.box.x);
    const faces: MaterialFace[] = usable.map((f, index) => {
      const mesh = meshArray(f.mesh!);
      return { index, box: f.box, kps: f.kps, mesh, meshZ: f.meshZ ? Float64Array.from(f.meshZ.slice(0, MESH_POINTS)) : undefined, stats: faceSkinStats(img, mesh) };
    });
    const now = this.clock.now();
    const materialId = newMaterialId();
    const blobKey = `fusion/${caller.appId}/materials/${materialId}.${format === 'png' ? 'png' : 'jpg'}`;
    const row: MaterialRow = {
      material_id: materialId, app_id: caller.appId, activity_id: activityId, name, status: MATERIAL_STATUS_MACHINE_APPROVED,
      blob_key: blobKey, width: img.width, height: img.height, created_at: now, updated_at: now, data_class: 'material', expires_at: null,
    };
    const faceRows: MaterialFaceRow[] = faces.map((f) => ({
      material_id: materialId, face_index: f.index, app_id: caller.appId,
      x: Math.round(f.box.x), y: Math.round(f.box.y), width: Math.round(f.box.width), height: Math.round(f.box.height),
      geometry: encodeGeometry(f.kps, f.mesh, f.meshZ), stats: JSON.stringify(f.stats), data_class: 'material_derivative', expires_at: null,
    }));
    await this.blobs.put(blobKey, bytes, format === 'png' ? 'image/png' : 'image/jpeg');
    try {
      await this.repo.insertMaterial(row, faceRows, { key: blobKey, dataClass: 'material', expiresAt: null, size: bytes.length, contentType: format === 'png' ? 'image/png' : 'image/jpeg', ownerRef: materialId, createdAt: now });
    } catch (e) {
      await this.blobs.delete(blobKey);
      throw e;
    }
    this.cache.set({ appId: caller.appId, materialId, activityId, image: shared(img), faces });
    return { row, faces };
  }

  async listMaterials(caller: Caller, activityId: string, materialId: string | null, offset: number, limit: number) {
    await this.activity(caller, activityId);
    if (materialId) {
      const m = await this.repo.material(caller.appId, materialId);
      if (!m || m.activity_id !== activityId) throw new TcError('InvalidParameterValue.MaterialIdNotFound', `MaterialId: material ${materialId} does not exist in activity ${activityId}`);
    }
    const { rows, total } = await this.repo.listMaterials(caller.appId, activityId, materialId, offset, limit);
    const faces = await this.repo.materialFaces(caller.appId, rows.map((r) => r.material_id));
    return { rows, total, faces };
  }

  /** The same, with the activity (facefusion 2018-12-01 reports its fusion degrees per material). */
  async listMaterialsWithActivity(caller: Caller, activityId: string, materialId: string | null, offset: number, limit: number) {
    const activity = await this.activity(caller, activityId);
    return { activity, ...(await this.listMaterials(caller, activityId, materialId, offset, limit)) };
  }

  async deleteMaterial(caller: Caller, materialId: string): Promise<void> {
    const m = await this.repo.material(caller.appId, materialId);
    if (!m) throw new TcError('InvalidParameterValue.MaterialIdNotFound', `MaterialId: material ${materialId} does not exist`);
    await this.purge(caller.appId, [materialId]);
  }

  /** The material's stored image, to show it with its faces outlined (the console). */
  async materialImage(caller: Caller, materialId: string): Promise<{ row: MaterialRow; bytes: Buffer; contentType: string }> {
    const m = await this.repo.material(caller.appId, materialId);
    if (!m) throw new TcError('InvalidParameterValue.MaterialIdNotFound', `MaterialId: material ${materialId} does not exist`);
    const bytes = await this.blobs.get(m.blob_key);
    if (!bytes) throw new TcError('FailedOperation.FuseMaterialNotExist', `MaterialId: the image of material ${materialId} is missing`);
    const f = sniffFormat(bytes);
    return { row: m, bytes, contentType: f === 'png' ? 'image/png' : f === 'jpeg' ? 'image/jpeg' : 'application/octet-stream' };
  }

  /** Blobs first (idempotent), then rows in one transaction: a retry after a crash finishes the job. */
  private async purge(appId: number, materialIds: string[], activityId?: string) {
    const keys = await this.repo.blobKeysOfMaterials(appId, materialIds);
    for (const id of materialIds) this.cache.delete(id);
    for (const k of keys) await this.blobs.delete(k);
    await this.repo.deleteMaterials(appId, materialIds, keys, activityId);
    for (const id of materialIds) this.cache.delete(id); // a fusion may have reloaded it meanwhile
  }

  /** The material, decoded, with its stored analysis (cache first). */
  async load(caller: Caller, activityId: string, materialId: string): Promise<LoadedMaterial> {
    const c = this.cache.get(materialId);
    if (c && c.appId === caller.appId && c.activityId === activityId) return c;
    const m = await this.repo.material(caller.appId, materialId);
    if (!m || m.activity_id !== activityId) throw new TcError('FailedOperation.FuseMaterialNotExist', `ModelId: material ${materialId} does not exist in activity ${activityId}`);
    const bytes = await this.blobs.get(m.blob_key);
    if (!bytes) throw new TcError('FailedOperation.FuseMaterialNotExist', `ModelId: the image of material ${materialId} is missing`);
    // Stored materials are JPG or PNG (checked on upload), decoded by libvips off the event loop;
    // anything else in the store is refused rather than decoded here.
    const stored = sniffFormat(bytes);
    if (stored !== 'jpeg' && stored !== 'png') throw new TcError('FailedOperation.FuseMaterialNotAvailable', `ModelId: the image of material ${materialId} is not a JPG or PNG image`);
    const img = await decodeImage(bytes);
    const faces = (await this.repo.materialFaces(caller.appId, [materialId])).map((r) => {
      const g = decodeGeometry(r.geometry);
      return { index: r.face_index, box: { x: r.x, y: r.y, width: r.width, height: r.height }, kps: g.kps, mesh: g.mesh, meshZ: g.meshZ, stats: JSON.parse(r.stats) as SkinStats };
    });
    const loaded: LoadedMaterial = { appId: caller.appId, materialId, activityId, image: shared(img), faces };
    // Only cache what still exists (a concurrent delete must not be undone by this load).
    if (await this.repo.material(caller.appId, materialId)) this.cache.set(loaded);
    return loaded;
  }

  /** For tests: whether a material's pixels are held in memory. */
  cached(materialId: string): boolean {
    return this.cache.has(materialId);
  }
}

function shared(img: RgbImage): RgbImage & { data: Uint8Array } {
  const sab = new SharedArrayBuffer(img.data.byteLength);
  const data = new Uint8Array(sab);
  data.set(img.data);
  return { width: img.width, height: img.height, data: data as unknown as Buffer };
}
