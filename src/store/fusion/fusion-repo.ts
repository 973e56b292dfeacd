// Face fusion persistence. Every method takes the owner AppId first and filters by it, so one
// tenant can never read or touch another's activities, materials or results.
import crypto from 'node:crypto';
import type { Db } from '../db/db.ts';
import type { FusionActivitiesTable, FusionMaterialsTable, FusionMaterialFacesTable, FusionResultsTable } from '../db/schema.ts';

export type ActivityRow = FusionActivitiesTable;
export type MaterialRow = FusionMaterialsTable;
export type MaterialFaceRow = FusionMaterialFacesTable;
export type ResultRow = FusionResultsTable;

export interface NewBlob { key: string; dataClass: string; expiresAt: number | null; size: number; contentType: string; ownerRef: string; createdAt: number }

export interface FusionLogEntry {
  time: number; appId: number; uin: string; subUin: string; requestId: string; clientIp: string; latencyMs: number;
  region: string; action: string; activityId: string | null; materialId: string | null; imageUrls: string[];
  resultUrl: string | null; code: string; expiresAt: number;
  /** The caller's EndUserId (privacy extension field), for deletion requests by end user. */
  endUserId?: string | null;
}

export class FusionRepo {
  constructor(private readonly db: Db) {}

  // ---- activities
  async insertActivity(row: ActivityRow): Promise<void> {
    await this.db.kysely.insertInto('fusion_activities').values(row).execute();
  }

  async activity(appId: number, activityId: string): Promise<ActivityRow | undefined> {
    return this.db.kysely.selectFrom('fusion_activities').selectAll().where('app_id', '=', appId).where('activity_id', '=', activityId).executeTakeFirst();
  }

  async listActivities(appId: number, offset: number, limit: number): Promise<{ rows: ActivityRow[]; total: number }> {
    const rows = await this.db.kysely.selectFrom('fusion_activities').selectAll().where('app_id', '=', appId)
      .orderBy('created_at', 'desc').orderBy('activity_id').offset(offset).limit(limit).execute();
    const c = await this.db.kysely.selectFrom('fusion_activities').select((e) => e.fn.countAll<number>().as('n')).where('app_id', '=', appId).executeTakeFirstOrThrow();
    return { rows, total: Number(c.n) };
  }

  async updateActivity(appId: number, activityId: string, patch: Partial<Pick<ActivityRow, 'name' | 'status' | 'profile_degree' | 'face_degree' | 'updated_at'>>): Promise<void> {
    await this.db.kysely.updateTable('fusion_activities').set(patch).where('app_id', '=', appId).where('activity_id', '=', activityId).execute();
  }

  // ---- materials
  /** The material row, its faces and its blob record in one transaction. */
  async insertMaterial(row: MaterialRow, faces: MaterialFaceRow[], blob: NewBlob): Promise<void> {
    await this.db.kysely.transaction().execute(async (tx) => {
      await tx.insertInto('blobs').values({
        key: blob.key, app_id: row.app_id, data_class: blob.dataClass, expires_at: blob.expiresAt, size: blob.size,
        content_type: blob.contentType, owner_ref: blob.ownerRef, created_at: blob.createdAt,
      }).execute();
      await tx.insertInto('fusion_materials').values(row).execute();
      if (faces.length) await tx.insertInto('fusion_material_faces').values(faces).execute();
    });
  }

  async material(appId: number, materialId: string): Promise<MaterialRow | undefined> {
    return this.db.kysely.selectFrom('fusion_materials').selectAll().where('app_id', '=', appId).where('material_id', '=', materialId).executeTakeFirst();
  }

  async materialFaces(appId: number, materialIds: string[]): Promise<MaterialFaceRow[]> {
    if (!materialIds.length) return [];
    return this.db.kysely.selectFrom('fusion_material_faces').selectAll().where('app_id', '=', appId).where('material_id', 'in', materialIds)
      .orderBy('material_id').orderBy('face_index').execute();
  }

  async listMaterials(appId: number, activityId: string, materialId: string | null, offset: number, limit: number): Promise<{ rows: MaterialRow[]; total: number }> {
    let q = this.db.kysely.selectFrom('fusion_materials').where('app_id', '=', appId).where('activity_id', '=', activityId);
    if (materialId) q = q.where('material_id', '=', materialId);
    const rows = await q.selectAll().orderBy('created_at', 'desc').orderBy('material_id').offset(offset).limit(limit).execute();
    const c = await q.select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { rows, total: Number(c.n) };
  }

  async materialIdsOfActivity(appId: number, activityId: string): Promise<string[]> {
    const rows = await this.db.kysely.selectFrom('fusion_materials').select('material_id').where('app_id', '=', appId).where('activity_id', '=', activityId).execute();
    return rows.map((r) => r.material_id);
  }

  /** Every blob key that deleting these materials must remove: the images and their results. */
  async blobKeysOfMaterials(appId: number, materialIds: string[]): Promise<string[]> {
    if (!materialIds.length) return [];
    const m = await this.db.kysely.selectFrom('fusion_materials').select('blob_key').where('app_id', '=', appId).where('material_id', 'in', materialIds).execute();
    const r = await this.db.kysely.selectFrom('fusion_results').select('blob_key').where('app_id', '=', appId).where('material_id', 'in', materialIds).execute();
    // A video material's tracks, and its video jobs' inputs and results, are recorded as owned by
    // the material or the job.
    const jobs = await this.db.kysely.selectFrom('video_jobs').select('job_id').where('app_id', '=', appId).where('material_id', 'in', materialIds).execute();
    const owners = [...materialIds, ...jobs.map((j) => j.job_id)];
    const owned = await this.db.kysely.selectFrom('blobs').select('key').where('app_id', '=', appId).where('owner_ref', 'in', owners).execute();
    return [...new Set([...m.map((x) => x.blob_key), ...r.map((x) => x.blob_key), ...owned.map((x) => x.key)])];
  }

  /** Removes materials with their faces, result links and blob records (and optionally their activity). */
  async deleteMaterials(appId: number, materialIds: string[], blobKeys: string[], activityId?: string): Promise<void> {
    await this.db.kysely.transaction().execute(async (tx) => {
      if (materialIds.length) {
        await tx.deleteFrom('fusion_material_faces').where('app_id', '=', appId).where('material_id', 'in', materialIds).execute();
        await tx.deleteFrom('fusion_results').where('app_id', '=', appId).where('material_id', 'in', materialIds).execute();
        // Video materials' derivative rows and their jobs (queued ones included: they never run).
        await tx.deleteFrom('video_jobs').where('app_id', '=', appId).where('material_id', 'in', materialIds).execute();
        await tx.deleteFrom('video_materials').where('app_id', '=', appId).where('material_id', 'in', materialIds).execute();
        await tx.deleteFrom('fusion_materials').where('app_id', '=', appId).where('material_id', 'in', materialIds).execute();
      }
      if (blobKeys.length) await tx.deleteFrom('blobs').where('app_id', '=', appId).where('key', 'in', blobKeys).execute();
      if (activityId) await tx.deleteFrom('fusion_activities').where('app_id', '=', appId).where('activity_id', '=', activityId).execute();
    });
  }

  // ---- results
  async insertResult(row: ResultRow, blob: NewBlob): Promise<void> {
    await this.db.kysely.transaction().execute(async (tx) => {
      await tx.insertInto('blobs').values({
        key: blob.key, app_id: row.app_id, data_class: blob.dataClass, expires_at: blob.expiresAt, size: blob.size,
        content_type: blob.contentType, owner_ref: blob.ownerRef, created_at: blob.createdAt,
      }).execute();
      await tx.insertInto('fusion_results').values(row).execute();
    });
  }

  /** Looked up by its unguessable token only (the signed URL carries no AppId). */
  async resultByToken(token: string): Promise<ResultRow | undefined> {
    return this.db.kysely.selectFrom('fusion_results').selectAll().where('token', '=', token).executeTakeFirst();
  }

  // ---- fusion log
  async appendLog(e: FusionLogEntry): Promise<void> {
    await this.db.kysely.insertInto('fusion_log').values({
      id: crypto.randomUUID(), time: e.time, app_id: e.appId, uin: e.uin, sub_uin: e.subUin, request_id: e.requestId,
      client_ip: e.clientIp, latency_ms: Math.round(e.latencyMs), region: e.region, action: e.action, activity_id: e.activityId,
      material_id: e.materialId, image_urls: JSON.stringify(e.imageUrls), result_url: e.resultUrl, code: e.code,
      data_class: 'fusion_log', expires_at: e.expiresAt, end_user_id: e.endUserId ?? null,
    }).execute();
  }

  async logForApp(appId: number, limit = 100) {
    return this.db.kysely.selectFrom('fusion_log').selectAll().where('app_id', '=', appId).orderBy('time', 'desc').limit(limit).execute();
  }

  async deleteExpiredLog(now: number): Promise<number> {
    const r = await this.db.kysely.deleteFrom('fusion_log').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows ?? 0);
  }
}
