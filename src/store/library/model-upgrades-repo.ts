// Rows of group model upgrades: the jobs, and features under a model version other than the
// one their face/person serves with (face_alt_features, migration 006). The switch between
// versions runs inside a library write (LibraryRepo.write), so every process's index follows it.
import type { Db } from '../db/db.ts';
import type { FaceUpgradeJobsTable } from '../db/schema.ts';
import type { LibraryWriter } from './library-repo.ts';

export type UpgradeJobRow = FaceUpgradeJobsTable;
export const JOB = { running: 0, done: 1, reverted: 2, failed: 3 } as const;

export class ModelUpgradesRepo {
  constructor(private readonly db: Db) {}

  async insertJob(j: Omit<UpgradeJobRow, 'data_class' | 'expires_at' | 'lease_owner' | 'lease_until'> & Partial<Pick<UpgradeJobRow, 'lease_owner' | 'lease_until'>>) {
    await this.db.kysely.insertInto('face_upgrade_jobs').values({ lease_owner: null, lease_until: 0, ...j, data_class: 'face_feature', expires_at: null }).execute();
  }
  /**
   * Takes or renews a running job's lease: succeeds when `owner` holds it or it ran out (a
   * compare-and-set, so of several processes exactly one wins an expired job).
   */
  async claim(appId: number, jobId: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const r = await this.db.kysely.updateTable('face_upgrade_jobs').set({ lease_owner: owner, lease_until: now + ttlMs })
      .where('app_id', '=', appId).where('job_id', '=', jobId).where('status', '=', JOB.running)
      .where((eb) => eb.or([eb('lease_owner', '=', owner), eb('lease_until', '<', now)])).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
  /** Running jobs whose lease ran out (their process died). */
  expired(now: number) {
    return this.db.kysely.selectFrom('face_upgrade_jobs').select(['app_id', 'job_id']).where('status', '=', JOB.running).where('lease_until', '<', now).execute();
  }
  getJob(appId: number, jobId: string) {
    return this.db.kysely.selectFrom('face_upgrade_jobs').selectAll().where('app_id', '=', appId).where('job_id', '=', jobId).executeTakeFirst();
  }
  jobsOfGroup(appId: number, groupId: string) {
    return this.db.kysely.selectFrom('face_upgrade_jobs').selectAll().where('app_id', '=', appId).where('group_id', '=', groupId).execute();
  }
  listJobs(appId: number, offset: number, limit: number) {
    return this.db.kysely.selectFrom('face_upgrade_jobs').selectAll().where('app_id', '=', appId).orderBy('start_time', 'desc').orderBy('job_id').offset(offset).limit(limit).execute();
  }
  async countJobs(appId: number): Promise<number> {
    const r = await this.db.kysely.selectFrom('face_upgrade_jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('app_id', '=', appId).executeTakeFirstOrThrow();
    return Number(r.n);
  }
  /** FaceIds among these persons' faces that already have a feature under `version`. */
  async altFaceIds(appId: number, personIds: string[], version: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < personIds.length; i += 500) {
      const rows = await this.db.kysely.selectFrom('face_alt_features').select('face_id').where('app_id', '=', appId)
        .where('person_id', 'in', personIds.slice(i, i + 500)).where('model_version', '=', version).where('face_id', '!=', '').execute();
      for (const r of rows) out.add(r.face_id);
    }
    return out;
  }
  running() {
    return this.db.kysely.selectFrom('face_upgrade_jobs').selectAll().where('status', '=', JOB.running).execute();
  }
  async setProgress(appId: number, jobId: string, progress: number) {
    await this.db.kysely.updateTable('face_upgrade_jobs').set({ progress }).where('app_id', '=', appId).where('job_id', '=', jobId).where('status', '=', JOB.running).execute();
  }
  /** Ends a running job (a job another process already ended keeps its status). */
  async finish(appId: number, jobId: string, status: number, now: number, error: string | null = null) {
    await this.db.kysely.updateTable('face_upgrade_jobs').set({ status, end_time: now, error, ...(status === JOB.done ? { progress: 100 } : {}) })
      .where('app_id', '=', appId).where('job_id', '=', jobId).where('status', '=', JOB.running).execute();
  }
  /**
   * Same, inside a library write (the switch and its job row commit together). With `owner`,
   * only while that process holds the lease: false (the caller rolls back) when another took over.
   */
  async finishIn(w: LibraryWriter, jobId: string, status: number, owner?: string): Promise<boolean> {
    let q = w.trx.updateTable('face_upgrade_jobs').set({ status, end_time: w.now, error: null, lease_owner: null, lease_until: 0, ...(status === JOB.done ? { progress: 100 } : {}) })
      .where('app_id', '=', w.appId).where('job_id', '=', jobId);
    if (owner) q = q.where('lease_owner', '=', owner).where('status', '=', JOB.running);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}

/** Alternative-version features, read and written inside a library write. */
export class AltFeatures {
  constructor(private readonly w: LibraryWriter) {}

  async get(personId: string, faceId: string, version: string): Promise<Buffer | undefined> {
    const r = await this.w.trx.selectFrom('face_alt_features').select('feature').where('app_id', '=', this.w.appId)
      .where('person_id', '=', personId).where('face_id', '=', faceId).where('model_version', '=', version).executeTakeFirst();
    return r?.feature;
  }
  async put(personId: string, faceId: string, version: string, feature: Buffer) {
    await this.drop(personId, faceId, version);
    await this.w.trx.insertInto('face_alt_features').values({ app_id: this.w.appId, person_id: personId, face_id: faceId, model_version: version, feature, data_class: 'face_feature', expires_at: null }).execute();
  }
  async drop(personId: string, faceId: string, version: string) {
    await this.w.trx.deleteFrom('face_alt_features').where('app_id', '=', this.w.appId).where('person_id', '=', personId)
      .where('face_id', '=', faceId).where('model_version', '=', version).execute();
  }
  async setFaceFeature(faceId: string, feature: Buffer) {
    await this.w.trx.updateTable('faces').set({ feature }).where('app_id', '=', this.w.appId).where('face_id', '=', faceId).execute();
  }
  async setPersonVersion(personId: string, version: string, combined: Buffer | null) {
    await this.w.trx.updateTable('persons').set({ face_model_version: version, combined_feature: combined, updated_at: this.w.now }).where('app_id', '=', this.w.appId).where('person_id', '=', personId).execute();
    this.w.touchPerson(personId);
  }
  async setGroupVersion(groupId: string, version: string) {
    await this.w.trx.updateTable('face_groups').set({ face_model_version: version, updated_at: this.w.now }).where('app_id', '=', this.w.appId).where('group_id', '=', groupId).execute();
    this.w.touchGroup(groupId);
  }
}
