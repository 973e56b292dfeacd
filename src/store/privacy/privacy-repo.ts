// Privacy persistence: per-AppId policies, deletion requests, and the erasure queries that a
// deletion request runs over the other capabilities' tables (running log, fusion, library
// history, accounts). Every method takes the owner AppId and filters by it.
import { sql } from 'kysely';
import type { Db } from '../db/db.ts';
import type { DeletionRequestsTable, PrivacyPoliciesTable } from '../db/schema.ts';

export type PolicyRow = PrivacyPoliciesTable;
export type DeletionRow = DeletionRequestsTable;

/** LIKE pattern matching `needle` as a whole JSON string value ("needle"), with %/_ escaped. */
function jsonValuePattern(needle: string): string {
  return '%' + JSON.stringify(needle).replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

export class PrivacyRepo {
  constructor(private readonly db: Db) {}

  // ---- policy
  policy(appId: number): Promise<PolicyRow | undefined> {
    return this.db.kysely.selectFrom('privacy_policies').selectAll().where('app_id', '=', appId).executeTakeFirst();
  }

  async savePolicy(row: Omit<PolicyRow, 'data_class' | 'expires_at'>): Promise<void> {
    const v = { ...row, data_class: 'privacy_policy', expires_at: null };
    await this.db.kysely.insertInto('privacy_policies').values(v)
      .onConflict((oc) => oc.column('app_id').doUpdateSet({
        require_consent: v.require_consent, min_age: v.min_age, inactive_person_days: v.inactive_person_days, updated_at: v.updated_at, updated_by: v.updated_by,
      })).execute();
  }

  /** Marks a person as used (recognised) without a library write; at most once per `minGapMs`. */
  async noteUse(appId: number, personId: string, now: number, minGapMs: number): Promise<void> {
    await this.db.kysely.updateTable('persons').set({ last_used_at: now })
      .where('app_id', '=', appId).where('person_id', '=', personId).where('last_used_at', '<', now - minGapMs).execute();
  }

  /** Persons whose consented term ended or that were not used since `unusedBefore` (null = no inactivity rule). */
  async purgeablePersons(appId: number, now: number, unusedBefore: number | null, limit = 500): Promise<string[]> {
    const rows = await this.db.kysely.selectFrom('persons').select('person_id').where('app_id', '=', appId)
      .where((eb) => {
        const expired = eb.and([eb('expires_at', 'is not', null), eb('expires_at', '<=', now)]);
        return unusedBefore === null ? expired : eb.or([expired, eb('last_used_at', '<', unusedBefore)]);
      })
      .orderBy('person_id').limit(limit).execute();
    return rows.map((r) => r.person_id);
  }

  async appsWithPersons(): Promise<number[]> {
    const r = await this.db.kysely.selectFrom('persons').select('app_id').distinct().execute();
    return r.map((x) => Number(x.app_id));
  }

  // ---- deletion requests
  async insertRequest(row: Omit<DeletionRow, 'data_class' | 'expires_at'>): Promise<void> {
    await this.db.kysely.insertInto('deletion_requests').values({ ...row, data_class: 'receipt', expires_at: null }).execute();
  }

  async saveProgress(requestId: string, receipt: string, attempts: number): Promise<void> {
    await this.db.kysely.updateTable('deletion_requests').set({ receipt, attempts }).where('request_id', '=', requestId).execute();
  }

  /** Done: the receipt stays, the sealed subject goes. */
  async finish(requestId: string, completedAt: number, receipt: string, digest: string): Promise<void> {
    await this.db.kysely.updateTable('deletion_requests')
      .set({ status: 'done', completed_at: completedAt, receipt, digest, subject_sealed: null })
      .where('request_id', '=', requestId).execute();
  }

  running(): Promise<DeletionRow[]> {
    return this.db.kysely.selectFrom('deletion_requests').selectAll().where('status', '=', 'running').orderBy('created_at').execute();
  }

  request(appId: number, requestId: string): Promise<DeletionRow | undefined> {
    return this.db.kysely.selectFrom('deletion_requests').selectAll().where('app_id', '=', appId).where('request_id', '=', requestId).executeTakeFirst();
  }

  async listRequests(appId: number, offset: number, limit: number): Promise<{ rows: DeletionRow[]; total: number }> {
    const rows = await this.db.kysely.selectFrom('deletion_requests').selectAll().where('app_id', '=', appId)
      .orderBy('created_at', 'desc').orderBy('request_id').offset(offset).limit(limit).execute();
    const c = await this.db.kysely.selectFrom('deletion_requests').select((e) => e.fn.countAll<number>().as('n')).where('app_id', '=', appId).executeTakeFirstOrThrow();
    return { rows, total: Number(c.n) };
  }

  // ---- erasure: library
  async personsOfEndUser(appId: number, endUserId: string): Promise<string[]> {
    const r = await this.db.kysely.selectFrom('persons').select('person_id').where('app_id', '=', appId).where('end_user_id', '=', endUserId).execute();
    // CreateFace may attach an EndUserId to a person enrolled without one: its consent row has it.
    const c = await this.db.kysely.selectFrom('consents').select('person_id').where('app_id', '=', appId).where('end_user_id', '=', endUserId).execute();
    return [...new Set([...r, ...c].map((x) => x.person_id))];
  }

  async enrolmentImageKeys(appId: number, personIds: string[]): Promise<string[]> {
    if (!personIds.length) return [];
    const r = await this.db.kysely.selectFrom('faces').select('image_key').where('app_id', '=', appId).where('person_id', 'in', personIds).where('image_key', 'is not', null).execute();
    return r.map((x) => x.image_key!);
  }

  async consentsOfEndUser(appId: number, endUserId: string): Promise<number> {
    const r = await this.db.kysely.deleteFrom('consents').where('app_id', '=', appId).where('end_user_id', '=', endUserId).executeTakeFirst();
    return Number(r.numDeletedRows ?? 0);
  }

  /**
   * Drops the app's library change history up to `seq`. The history names PersonIds; without it,
   * every other process whose index is behind `seq` finds the log incomplete and reloads the
   * app from the database, which no longer has the erased persons.
   */
  async truncateLibraryHistory(appId: number, seq: number): Promise<number> {
    const r = await this.db.kysely.deleteFrom('library_changes').where('app_id', '=', appId).where('seq', '<=', seq).executeTakeFirst();
    return Number(r.numDeletedRows ?? 0);
  }

  // ---- erasure: running log
  async requestIdsOf(appId: number, o: { personIds: string[]; endUserId?: string }): Promise<string[]> {
    const out = new Set<string>();
    if (o.endUserId !== undefined) {
      for (const r of await this.db.kysely.selectFrom('running_log').select('request_id').where('app_id', '=', appId).where('end_user_id', '=', o.endUserId).execute()) out.add(r.request_id);
    }
    for (let i = 0; i < o.personIds.length; i += 500) {
      const ids = o.personIds.slice(i, i + 500);
      for (const r of await this.db.kysely.selectFrom('running_log').select('request_id').where('app_id', '=', appId).where('person_id', 'in', ids).execute()) out.add(r.request_id);
    }
    return [...out];
  }

  /** Deletes the records naming the persons or end user; returns how many, and how many were billed. */
  async deleteRunningLog(appId: number, o: { personIds: string[]; endUserId?: string }): Promise<{ deleted: number; billed: number }> {
    let deleted = 0, billed = 0;
    const run = async (where: (q: any) => any) => {
      const b = await where(this.db.kysely.selectFrom('running_log').select((e) => e.fn.countAll<number>().as('n')).where('app_id', '=', appId).where('billed', '=', 1)).executeTakeFirstOrThrow();
      const r = await where(this.db.kysely.deleteFrom('running_log').where('app_id', '=', appId)).executeTakeFirst();
      billed += Number(b.n);
      deleted += Number(r.numDeletedRows ?? 0);
    };
    if (o.endUserId !== undefined) await run((q) => q.where('end_user_id', '=', o.endUserId));
    for (let i = 0; i < o.personIds.length; i += 500) {
      const ids = o.personIds.slice(i, i + 500);
      await run((q) => q.where('person_id', 'in', ids));
    }
    return { deleted, billed };
  }

  /**
   * Other calls' recognition results that name an erased id (a search whose candidates included
   * the person): the id is replaced by "[erased]"; the call's record stays (usage, billing).
   */
  async scrubRunningLogResults(appId: number, needles: string[]): Promise<number> {
    let n = 0;
    for (const needle of needles) {
      const rows = await this.db.kysely.selectFrom('running_log').select(['id', 'result']).where('app_id', '=', appId)
        .where(sql<boolean>`result like ${jsonValuePattern(needle)} escape '\\'`).execute();
      for (const r of rows) {
        const scrubbed = r.result!.split(JSON.stringify(needle)).join('"[erased]"');
        await this.db.kysely.updateTable('running_log').set({ result: scrubbed }).where('id', '=', r.id).execute();
        n++;
      }
    }
    return n;
  }

  // ---- erasure: fusion
  async fusionResultsOf(appId: number, o: { endUserId?: string; requestIds: string[] }): Promise<{ token: string; blob_key: string }[]> {
    const out = new Map<string, { token: string; blob_key: string }>();
    if (o.endUserId !== undefined) {
      for (const r of await this.db.kysely.selectFrom('fusion_results').select(['token', 'blob_key']).where('app_id', '=', appId).where('end_user_id', '=', o.endUserId).execute()) out.set(r.token, r);
    }
    for (let i = 0; i < o.requestIds.length; i += 500) {
      const ids = o.requestIds.slice(i, i + 500);
      for (const r of await this.db.kysely.selectFrom('fusion_results').select(['token', 'blob_key']).where('app_id', '=', appId).where('request_id', 'in', ids).execute()) out.set(r.token, r);
    }
    return [...out.values()];
  }

  async deleteFusionResults(appId: number, rows: { token: string; blob_key: string }[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      const part = rows.slice(i, i + 500);
      await this.db.kysely.transaction().execute(async (tx) => {
        await tx.deleteFrom('fusion_results').where('app_id', '=', appId).where('token', 'in', part.map((r) => r.token)).execute();
        await tx.deleteFrom('blobs').where('app_id', '=', appId).where('key', 'in', part.map((r) => r.blob_key)).execute();
      });
    }
  }

  /** Video jobs submitted for this end user, with every object they own (inputs and result). */
  async videoJobsOf(appId: number, endUserId: string): Promise<{ jobIds: string[]; blobKeys: string[] }> {
    const jobs = (await this.db.kysely.selectFrom('video_jobs').select('job_id').where('app_id', '=', appId).where('end_user_id', '=', endUserId).execute()).map((r) => r.job_id);
    if (!jobs.length) return { jobIds: [], blobKeys: [] };
    const keys = (await this.db.kysely.selectFrom('blobs').select('key').where('app_id', '=', appId).where('owner_ref', 'in', jobs).execute()).map((r) => r.key);
    return { jobIds: jobs, blobKeys: keys };
  }

  async deleteVideoJobs(appId: number, jobIds: string[], blobKeys: string[]): Promise<void> {
    await this.db.kysely.transaction().execute(async (tx) => {
      if (jobIds.length) await tx.deleteFrom('video_jobs').where('app_id', '=', appId).where('job_id', 'in', jobIds).execute();
      if (blobKeys.length) await tx.deleteFrom('blobs').where('app_id', '=', appId).where('key', 'in', blobKeys).execute();
    });
  }

  async deleteFusionLog(appId: number, o: { endUserId?: string; requestIds: string[] }): Promise<number> {
    let n = 0;
    if (o.endUserId !== undefined) {
      n += Number((await this.db.kysely.deleteFrom('fusion_log').where('app_id', '=', appId).where('end_user_id', '=', o.endUserId).executeTakeFirst()).numDeletedRows ?? 0);
    }
    for (let i = 0; i < o.requestIds.length; i += 500) {
      const ids = o.requestIds.slice(i, i + 500);
      n += Number((await this.db.kysely.deleteFrom('fusion_log').where('app_id', '=', appId).where('request_id', 'in', ids).executeTakeFirst()).numDeletedRows ?? 0);
    }
    return n;
  }

  async deleteBlobRecords(appId: number, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 500) await this.db.kysely.deleteFrom('blobs').where('app_id', '=', appId).where('key', 'in', keys.slice(i, i + 500)).execute();
  }

  // ---- erasure: a whole AppId
  /** Stops the app's keys at once: authentication refuses keys of an app that is not active. */
  async markAppDeleted(appId: number): Promise<void> {
    await this.db.kysely.updateTable('apps').set({ status: 'deleted' }).where('app_id', '=', appId).execute();
  }

  async appBlobKeys(appId: number): Promise<string[]> {
    return (await this.db.kysely.selectFrom('blobs').select('key').where('app_id', '=', appId).execute()).map((r) => r.key);
  }

  async activityIds(appId: number): Promise<string[]> {
    return (await this.db.kysely.selectFrom('fusion_activities').select('activity_id').where('app_id', '=', appId).execute()).map((r) => r.activity_id);
  }

  async countFusion(appId: number): Promise<{ materials: number; materialFaces: number }> {
    const m = await this.db.kysely.selectFrom('fusion_materials').select((e) => e.fn.countAll<number>().as('n')).where('app_id', '=', appId).executeTakeFirstOrThrow();
    const f = await this.db.kysely.selectFrom('fusion_material_faces').select((e) => e.fn.countAll<number>().as('n')).where('app_id', '=', appId).executeTakeFirstOrThrow();
    return { materials: Number(m.n), materialFaces: Number(f.n) };
  }

  /**
   * Deletes every row the app owns, table by table (each delete is idempotent, so a resumed
   * request simply runs it again). The library's seq is bumped rather than deleted, so other
   * processes notice the change and drop their copy of the app's index.
   */
  async deleteAppRows(appId: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const del = async (table: 'faces' | 'group_persons' | 'persons' | 'face_groups' | 'consents' | 'library_changes' | 'running_log' | 'fusion_log' | 'fusion_results' | 'video_jobs' | 'video_materials' | 'fusion_material_faces' | 'fusion_materials' | 'fusion_activities' | 'blobs' | 'api_keys' | 'users' | 'privacy_policies') => {
      const r = await this.db.kysely.deleteFrom(table).where('app_id', '=', appId).executeTakeFirst();
      counts[table] = Number(r.numDeletedRows ?? 0);
    };
    await this.db.kysely.transaction().execute(async (tx) => {
      await tx.insertInto('library_seq').values({ app_id: appId, seq: 0 }).onConflict((oc) => oc.column('app_id').doNothing()).execute();
      await tx.updateTable('library_seq').set((eb) => ({ seq: eb('seq', '+', 1) })).where('app_id', '=', appId).execute();
      const t = tx as unknown as Db['kysely'];
      for (const table of ['faces', 'face_alt_features', 'face_upgrade_jobs', 'group_persons', 'persons', 'face_groups', 'consents', 'library_changes'] as const) {
        const r = await t.deleteFrom(table).where('app_id', '=', appId).executeTakeFirst();
        counts[table] = Number(r.numDeletedRows ?? 0);
      }
    });
    for (const t of ['running_log', 'fusion_log', 'fusion_results', 'video_jobs', 'video_materials', 'fusion_material_faces', 'fusion_materials', 'fusion_activities', 'blobs', 'privacy_policies', 'api_keys', 'users'] as const) await del(t);
    return counts;
  }

  /** Clears a copy of the data key left in the database (before the key store); the key store erases its own. */
  async shredDataKey(appId: number): Promise<boolean> {
    const r = await this.db.kysely.updateTable('apps').set({ data_key_wrapped: null, status: 'deleted' }).where('app_id', '=', appId).where('data_key_wrapped', 'is not', null).executeTakeFirst();
    return Number(r.numUpdatedRows ?? 0) > 0;
  }

  /** SQLite: move the WAL's pages (which hold the pre-deletion rows) into the file and empty it. */
  async checkpoint(): Promise<void> {
    if (this.db.dialect !== 'sqlite') return;
    for (let i = 0; i < 20; i++) {
      const r = await sql<{ busy: number }>`PRAGMA wal_checkpoint(TRUNCATE)`.execute(this.db.kysely);
      if (!r.rows[0] || Number(r.rows[0].busy) === 0) return;
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}
