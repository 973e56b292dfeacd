// Face fusion persistence. Every method takes the owner AppId first and filters by it, so one
// tenant can never read or touch another's activities, materials or results. The fusion tables
// (activities, materials, material faces, results, fusion log) are erased only through here.
import crypto from 'node:crypto';
import type { Db } from '../db/db.ts';
import { chunks, deleted, type Executor } from '../db/executor.ts';
import { forgetBlobs, recordBlob } from '../blobs/blob-records.ts';
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

const blobRow = (appId: number, b: NewBlob) => ({
  key: b.key, app_id: appId, data_class: b.dataClass, expires_at: b.expiresAt, size: b.size, content_type: b.contentType, owner_ref: b.ownerRef, created_at: b.createdAt,
});

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
      await recordBlob(tx, blobRow(row.app_id, blob));
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
      await forgetBlobs(tx, appId, blobKeys);
      if (activityId) await tx.deleteFrom('fusion_activities').where('app_id', '=', appId).where('activity_id', '=', activityId).execute();
    });
  }

  // ---- results
  async insertResult(row: ResultRow, blob: NewBlob): Promise<void> {
    await this.db.kysely.transaction().execute(async (tx) => {
      await recordBlob(tx, blobRow(row.app_id, blob));
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

  // ---- erasure (deletion requests)
  /** Results made for the end user or by these calls. */
  async resultsOf(appId: number, o: { endUserId?: string; requestIds: string[] }): Promise<{ token: string; blob_key: string }[]> {
    const k = this.db.kysely;
    const out = new Map<string, { token: string; blob_key: string }>();
    if (o.endUserId !== undefined) {
      for (const r of await k.selectFrom('fusion_results').select(['token', 'blob_key']).where('app_id', '=', appId).where('end_user_id', '=', o.endUserId).execute()) out.set(r.token, r);
    }
    for (const ids of chunks(o.requestIds)) {
      for (const r of await k.selectFrom('fusion_results').select(['token', 'blob_key']).where('app_id', '=', appId).where('request_id', 'in', ids).execute()) out.set(r.token, r);
    }
    return [...out.values()];
  }

  /** Removes result links with their blob records (their objects are deleted before this). */
  async deleteResults(appId: number, rows: { token: string; blob_key: string }[]): Promise<void> {
    for (const part of chunks(rows)) {
      await this.db.kysely.transaction().execute(async (tx) => {
        await tx.deleteFrom('fusion_results').where('app_id', '=', appId).where('token', 'in', part.map((r) => r.token)).execute();
        await forgetBlobs(tx, appId, part.map((r) => r.blob_key));
      });
    }
  }

  /** Fusion log records of the end user or of these calls. */
  async eraseLogFor(appId: number, o: { endUserId?: string; requestIds: string[] }): Promise<number> {
    const k = this.db.kysely;
    let n = 0;
    if (o.endUserId !== undefined) n += deleted(await k.deleteFrom('fusion_log').where('app_id', '=', appId).where('end_user_id', '=', o.endUserId).executeTakeFirst());
    for (const ids of chunks(o.requestIds)) n += deleted(await k.deleteFrom('fusion_log').where('app_id', '=', appId).where('request_id', 'in', ids).executeTakeFirst());
    return n;
  }

  async activityIds(appId: number): Promise<string[]> {
    return (await this.db.kysely.selectFrom('fusion_activities').select('activity_id').where('app_id', '=', appId).execute()).map((r) => r.activity_id);
  }

  async countMaterials(appId: number): Promise<{ materials: number; materialFaces: number }> {
    const k = this.db.kysely;
    const m = await k.selectFrom('fusion_materials').select((e) => e.fn.countAll<number>().as('n')).where('app_id', '=', appId).executeTakeFirstOrThrow();
    const f = await k.selectFrom('fusion_material_faces').select((e) => e.fn.countAll<number>().as('n')).where('app_id', '=', appId).executeTakeFirstOrThrow();
    return { materials: Number(m.n), materialFaces: Number(f.n) };
  }

  /** Every fusion row of the app on `ex` (an AppId erasure), with the count per table; idempotent. */
  async eraseApp(ex: Executor, appId: number): Promise<Record<FusionTable, number>> {
    const counts = {} as Record<FusionTable, number>;
    for (const table of FUSION_TABLES) counts[table] = deleted(await ex.deleteFrom(table).where('app_id', '=', appId).executeTakeFirst());
    return counts;
  }
}

/** The fusion tables, in the order an AppId erasure empties them (dependents before owners). */
const FUSION_TABLES = ['fusion_log', 'fusion_results', 'fusion_material_faces', 'fusion_materials', 'fusion_activities'] as const;
export type FusionTable = (typeof FUSION_TABLES)[number];
