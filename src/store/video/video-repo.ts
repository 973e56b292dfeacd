// Video fusion persistence: video materials' derivative rows and video jobs. A job is claimed
// with a lease (owner + deadline) that its runner renews; a result is written only by the
// lease's holder, so a job retried after its process died can never end with two results.
import type { Db } from '../db/db.ts';
import type { VideoJobsTable, VideoMaterialsTable } from '../db/schema.ts';
import type { NewBlob } from '../fusion/fusion-repo.ts';
import type { Executor } from '../db/executor.ts';

export type VideoMaterialRow = VideoMaterialsTable;
export type VideoJobRow = VideoJobsTable;

const num = <T extends Record<string, unknown>>(r: T | undefined): T | undefined => {
  if (!r) return r;
  // PostgreSQL returns bigint as text.
  for (const k of ['app_id', 'lease_until', 'created_at', 'started_at', 'finished_at', 'expires_at'] as const) if (typeof r[k] === 'string') (r as Record<string, unknown>)[k] = Number(r[k]);
  return r;
};

export class VideoRepo {
  constructor(private readonly db: Db) {}

  async insertMaterial(row: VideoMaterialRow): Promise<void> {
    await this.db.kysely.insertInto('video_materials').values(row).execute();
  }

  async material(appId: number, materialId: string): Promise<VideoMaterialRow | undefined> {
    return num(await this.db.kysely.selectFrom('video_materials').selectAll().where('app_id', '=', appId).where('material_id', '=', materialId).executeTakeFirst());
  }

  async materials(appId: number, ids: string[]): Promise<VideoMaterialRow[]> {
    if (!ids.length) return [];
    return (await this.db.kysely.selectFrom('video_materials').selectAll().where('app_id', '=', appId).where('material_id', 'in', ids).execute()).map((r) => num(r)!);
  }

  /** Records the tracking pass's outcome; false when the material was deleted meanwhile. */
  async finishTracking(appId: number, materialId: string, patch: { state: 'ready' | 'failed'; tracksKey: string | null; error: string | null; trackingMs: number; status: number }, faces: { face_index: number; x: number; y: number; width: number; height: number; geometry: Buffer }[], blob: NewBlob | null): Promise<boolean> {
    return this.db.kysely.transaction().execute(async (tx) => {
      const r = await tx.updateTable('video_materials').set({ state: patch.state, tracks_key: patch.tracksKey, error: patch.error, tracking_ms: patch.trackingMs })
        .where('app_id', '=', appId).where('material_id', '=', materialId).where('state', '=', 'tracking').executeTakeFirst();
      if (Number(r.numUpdatedRows ?? 0) === 0) return false;
      await tx.updateTable('fusion_materials').set({ status: patch.status }).where('app_id', '=', appId).where('material_id', '=', materialId).execute();
      for (const f of faces) {
        await tx.insertInto('fusion_material_faces').values({ material_id: materialId, app_id: appId, ...f, stats: '{}', data_class: 'material_derivative', expires_at: null }).execute();
      }
      if (blob) {
        await tx.insertInto('blobs').values({ key: blob.key, app_id: appId, data_class: blob.dataClass, expires_at: blob.expiresAt, size: blob.size, content_type: blob.contentType, owner_ref: blob.ownerRef, created_at: blob.createdAt }).execute();
      }
      return true;
    });
  }

  /** Materials whose tracking pass a stopped process left unfinished (resumed on start). */
  async unfinishedMaterials(): Promise<VideoMaterialRow[]> {
    return (await this.db.kysely.selectFrom('video_materials').selectAll().where('state', '=', 'tracking').execute()).map((r) => num(r)!);
  }

  // ---- jobs
  async insertJob(row: VideoJobRow, blobs: NewBlob[]): Promise<void> {
    await this.db.kysely.transaction().execute(async (tx) => {
      for (const b of blobs) {
        await tx.insertInto('blobs').values({ key: b.key, app_id: row.app_id, data_class: b.dataClass, expires_at: b.expiresAt, size: b.size, content_type: b.contentType, owner_ref: b.ownerRef, created_at: b.createdAt }).execute();
      }
      await tx.insertInto('video_jobs').values(row).execute();
    });
  }

  async job(appId: number, jobId: string): Promise<VideoJobRow | undefined> {
    return num(await this.db.kysely.selectFrom('video_jobs').selectAll().where('app_id', '=', appId).where('job_id', '=', jobId).executeTakeFirst());
  }

  async jobById(jobId: string): Promise<VideoJobRow | undefined> {
    return num(await this.db.kysely.selectFrom('video_jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst());
  }

  /** Jobs waiting, and the position a new one would take. */
  async queueLength(): Promise<number> {
    const r = await this.db.kysely.selectFrom('video_jobs').select((e) => e.fn.countAll<number>().as('n')).where('status', 'in', ['queued', 'running']).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * Takes a job: the given one, or else the oldest claimable. Claimable = queued, or running
   * with its lease run out (its process died). Returns the row as claimed, or undefined.
   */
  async claim(owner: string, now: number, leaseMs: number, maxAttempts: number, jobId?: string): Promise<VideoJobRow | undefined> {
    for (let tries = 0; tries < 5; tries++) {
      let q = this.db.kysely.selectFrom('video_jobs').select(['job_id', 'attempts', 'status', 'lease_owner'])
        .where((eb) => eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now)])]));
      q = jobId ? q.where('job_id', '=', jobId) : q.orderBy('created_at').limit(1);
      const c = await q.executeTakeFirst();
      if (!c) return undefined;
      if (c.attempts >= maxAttempts) {
        await this.db.kysely.updateTable('video_jobs').set({ status: 'failed', error_code: 'FailedOperation.InnerError', error_message: `the job was interrupted ${c.attempts} times and was given up`, finished_at: now, lease_owner: null, lease_until: null })
          .where('job_id', '=', c.job_id).where('attempts', '=', c.attempts).execute();
        if (jobId) return undefined;
        continue;
      }
      // Compare-and-set on the attempt counter: of two claimers, one wins.
      const r = await this.db.kysely.updateTable('video_jobs').set({ status: 'running', lease_owner: owner, lease_until: now + leaseMs, attempts: c.attempts + 1, started_at: now })
        .where('job_id', '=', c.job_id).where('attempts', '=', c.attempts).where('status', '=', c.status).executeTakeFirst();
      if (Number(r.numUpdatedRows ?? 0) === 1) return this.jobById(c.job_id);
    }
    return undefined;
  }

  /** Renews the lease and records progress; false when the job is no longer this owner's (cancelled, deleted, taken over). */
  async heartbeat(jobId: string, owner: string, now: number, leaseMs: number, done: number, total: number): Promise<boolean> {
    const r = await this.db.kysely.updateTable('video_jobs').set({ lease_until: now + leaseMs, frames_done: done, frames_total: total })
      .where('job_id', '=', jobId).where('lease_owner', '=', owner).where('status', '=', 'running').executeTakeFirst();
    return Number(r.numUpdatedRows ?? 0) === 1;
  }

  /** Ends a job, only if `owner` still holds it; the result blob is recorded in the same transaction. */
  async finish(jobId: string, owner: string, patch: Partial<Pick<VideoJobRow, 'status' | 'error_code' | 'error_message' | 'result_key' | 'result' | 'finished_at' | 'frames_done' | 'frames_total' | 'expires_at'>>, blob: (NewBlob & { appId: number }) | null): Promise<boolean> {
    return this.db.kysely.transaction().execute(async (tx) => {
      const r = await tx.updateTable('video_jobs').set({ ...patch, lease_owner: null, lease_until: null })
        .where('job_id', '=', jobId).where('lease_owner', '=', owner).where('status', '=', 'running').executeTakeFirst();
      if (Number(r.numUpdatedRows ?? 0) !== 1) return false;
      if (blob) await tx.insertInto('blobs').values({ key: blob.key, app_id: blob.appId, data_class: blob.dataClass, expires_at: blob.expiresAt, size: blob.size, content_type: blob.contentType, owner_ref: blob.ownerRef, created_at: blob.createdAt }).execute();
      return true;
    });
  }

  /** Cancels a job that has not ended; a running one stops at its next heartbeat. */
  async cancel(appId: number, jobId: string, now: number): Promise<boolean> {
    const r = await this.db.kysely.updateTable('video_jobs').set({ status: 'cancelled', finished_at: now, lease_owner: null, lease_until: null, error_code: 'FailedOperation.JobHasBeenCanceled', error_message: 'the job was cancelled' })
      .where('app_id', '=', appId).where('job_id', '=', jobId).where('status', 'in', ['queued', 'running']).executeTakeFirst();
    return Number(r.numUpdatedRows ?? 0) === 1;
  }

  /** The job's input blobs are released when it ends (their rows go; the caller deletes the objects first). */
  async dropBlobRows(appId: number, keys: string[]): Promise<void> {
    if (keys.length) await this.db.kysely.deleteFrom('blobs').where('app_id', '=', appId).where('key', 'in', keys).execute();
  }

  async setInputKeys(jobId: string, keys: string[]): Promise<void> {
    await this.db.kysely.updateTable('video_jobs').set({ input_keys: JSON.stringify(keys) }).where('job_id', '=', jobId).execute();
  }

  /** Jobs of these materials (material deletion removes them with their blobs). */
  async jobsOfMaterials(appId: number, materialIds: string[]): Promise<VideoJobRow[]> {
    if (!materialIds.length) return [];
    return (await this.db.kysely.selectFrom('video_jobs').selectAll().where('app_id', '=', appId).where('material_id', 'in', materialIds).execute()).map((r) => num(r)!);
  }

  async jobsOfEndUser(appId: number, endUserId: string): Promise<VideoJobRow[]> {
    return (await this.db.kysely.selectFrom('video_jobs').selectAll().where('app_id', '=', appId).where('end_user_id', '=', endUserId).execute()).map((r) => num(r)!);
  }

  async deleteJobs(appId: number, jobIds: string[], blobKeys: string[]): Promise<void> {
    await this.db.kysely.transaction().execute(async (tx) => {
      if (jobIds.length) await tx.deleteFrom('video_jobs').where('app_id', '=', appId).where('job_id', 'in', jobIds).execute();
      if (blobKeys.length) await tx.deleteFrom('blobs').where('app_id', '=', appId).where('key', 'in', blobKeys).execute();
    });
  }

  async deleteMaterialRows(appId: number, materialIds: string[]): Promise<void> {
    if (materialIds.length) await this.db.kysely.deleteFrom('video_materials').where('app_id', '=', appId).where('material_id', 'in', materialIds).execute();
  }

  /** Every blob key recorded for these owners (material ids, job ids). */
  async blobKeysOwnedBy(appId: number, owners: string[]): Promise<string[]> {
    if (!owners.length) return [];
    return (await this.db.kysely.selectFrom('blobs').select('key').where('app_id', '=', appId).where('owner_ref', 'in', owners).execute()).map((r) => r.key);
  }

  /** The whole AppId's video rows (jobs first: they name materials). */
  async eraseApp(ex: Executor, appId: number): Promise<{ video_jobs: number; video_materials: number }> {
    const jobs = await ex.deleteFrom('video_jobs').where('app_id', '=', appId).executeTakeFirst();
    const materials = await ex.deleteFrom('video_materials').where('app_id', '=', appId).executeTakeFirst();
    return { video_jobs: Number(jobs.numDeletedRows ?? 0), video_materials: Number(materials.numDeletedRows ?? 0) };
  }
}
