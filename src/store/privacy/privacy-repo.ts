// Privacy persistence: the tables privacy owns — per-AppId policies, consent records, deletion
// requests (with their receipts). Every method takes the owner AppId and filters by it. The
// other capabilities' tables are erased by their own repositories (deletion.ts calls each).
import type { Db } from '../db/db.ts';
import { deleted, type Executor } from '../db/executor.ts';
import type { DeletionRequestsTable, PrivacyPoliciesTable } from '../db/schema.ts';

export type PolicyRow = PrivacyPoliciesTable;
export type DeletionRow = DeletionRequestsTable;

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

  // ---- deletion requests
  async insertRequest(row: Omit<DeletionRow, 'data_class' | 'expires_at' | 'lease_owner' | 'lease_until'> & Partial<Pick<DeletionRow, 'lease_owner' | 'lease_until'>>): Promise<void> {
    await this.db.kysely.insertInto('deletion_requests').values({ lease_owner: null, lease_until: 0, ...row, data_class: 'receipt', expires_at: null }).execute();
  }

  /** Saves a running request's counts; with `owner`, only while that process holds its lease (false: taken over). */
  async saveProgress(requestId: string, receipt: string, attempts: number, lease?: { owner: string; until: number }): Promise<boolean> {
    let q = this.db.kysely.updateTable('deletion_requests').set({ receipt, attempts, ...(lease ? { lease_until: lease.until } : {}) }).where('request_id', '=', requestId);
    if (lease) q = q.where('lease_owner', '=', lease.owner).where('status', '=', 'running');
    return Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
  }

  /** Takes or renews a running request's lease (compare-and-set: one process wins an expired one). */
  async claim(requestId: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const r = await this.db.kysely.updateTable('deletion_requests').set({ lease_owner: owner, lease_until: now + ttlMs })
      .where('request_id', '=', requestId).where('status', '=', 'running')
      .where((eb) => eb.or([eb('lease_owner', '=', owner), eb('lease_until', '<', now)])).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Running requests whose process died (lease ran out). */
  expiredRunning(now: number): Promise<DeletionRow[]> {
    return this.db.kysely.selectFrom('deletion_requests').selectAll().where('status', '=', 'running').where('lease_until', '<', now).orderBy('created_at').execute();
  }

  /** Done: the receipt stays, the sealed subject goes. */
  async finish(requestId: string, completedAt: number, receipt: string, digest: string): Promise<void> {
    await this.db.kysely.updateTable('deletion_requests')
      .set({ status: 'done', completed_at: completedAt, receipt, digest, subject_sealed: null, lease_owner: null, lease_until: 0 })
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

  // ---- consents (written in the library's enrolment transaction, LibraryWriter.insertConsent)
  /** Persons an end user consented for: CreateFace may attach an EndUserId to a person enrolled without one. */
  async consentPersonsOfEndUser(appId: number, endUserId: string): Promise<string[]> {
    const c = await this.db.kysely.selectFrom('consents').select('person_id').where('app_id', '=', appId).where('end_user_id', '=', endUserId).execute();
    return c.map((x) => x.person_id);
  }

  async eraseConsentsOfEndUser(appId: number, endUserId: string): Promise<number> {
    return deleted(await this.db.kysely.deleteFrom('consents').where('app_id', '=', appId).where('end_user_id', '=', endUserId).executeTakeFirst());
  }

  // ---- erasure of a whole AppId, on the caller's executor (the receipts in deletion_requests stay)
  async eraseConsents(ex: Executor, appId: number): Promise<number> {
    return deleted(await ex.deleteFrom('consents').where('app_id', '=', appId).executeTakeFirst());
  }

  async erasePolicy(ex: Executor, appId: number): Promise<number> {
    return deleted(await ex.deleteFrom('privacy_policies').where('app_id', '=', appId).executeTakeFirst());
  }
}
