// Face library rows (groups, persons, memberships, faces). Every method is scoped by AppId.
// The library owns face_groups, persons, group_persons, faces, library_seq, library_changes
// and the model-upgrade rows (face_alt_features, face_upgrade_jobs; model-upgrades-repo.ts);
// the erasure queries over them are here too (deletion requests call them). Consent records
// and object records written in a library write go through their owners' functions
// (privacy/consent-records.ts, blobs/blob-records.ts) on the write's transaction.
// Writes go through write(appId, fn): one transaction that first bumps the app's library_seq row
// (which serialises the app's library writes on PostgreSQL too) and records which persons and
// groups it touched in library_changes, so every process's search index can catch up.
import type { Kysely, Transaction } from 'kysely';
import type { Db } from '../db/db.ts';
import { chunks, deleted, type Executor } from '../db/executor.ts';
import { forgetBlobs, recordBlob } from '../blobs/blob-records.ts';
import { consentsOf, deleteConsentsOf, insertConsent } from '../privacy/consent-records.ts';
import type { ConsentsTable, DB, FaceGroupsTable, FacesTable, GroupPersonsTable, PersonsTable } from '../db/schema.ts';

export type GroupRow = Omit<FaceGroupsTable, 'person_num' | 'face_num'> & { person_num: number; face_num: number };
export type PersonRow = PersonsTable;
export type MembershipRow = GroupPersonsTable;
export type FaceRow = FacesTable;
export type ConsentRow = ConsentsTable;

const CLASS = 'face_feature';
/** Change-log rows older than this are pruned; a process further behind reloads the app. */
export const CHANGE_RETENTION_MS = 24 * 3600_000;

export interface Change { seq: number; kind: 'person' | 'group'; ref: string }

type Q = Kysely<DB> | Transaction<DB>;

/** Reads, usable both inside and outside a write transaction. */
export class LibraryReader {
  constructor(protected readonly q: Q, readonly appId: number) {}

  getGroup(groupId: string) {
    return this.q.selectFrom('face_groups').selectAll().where('app_id', '=', this.appId).where('group_id', '=', groupId).executeTakeFirst();
  }
  getGroups(groupIds: string[]) {
    if (!groupIds.length) return Promise.resolve([] as GroupRow[]);
    return this.q.selectFrom('face_groups').selectAll().where('app_id', '=', this.appId).where('group_id', 'in', groupIds).execute();
  }
  async groupByName(name: string) {
    return this.q.selectFrom('face_groups').select('group_id').where('app_id', '=', this.appId).where('name', '=', name).executeTakeFirst();
  }
  listGroups(offset: number, limit: number) {
    return this.q.selectFrom('face_groups').selectAll().where('app_id', '=', this.appId).orderBy('created_at').orderBy('group_id').offset(offset).limit(limit).execute();
  }
  async countFaces(): Promise<number> {
    const r = await this.q.selectFrom('faces').select((eb) => eb.fn.countAll<number>().as('n')).where('app_id', '=', this.appId).executeTakeFirstOrThrow();
    return Number(r.n);
  }
  async countGroups(): Promise<number> {
    const r = await this.q.selectFrom('face_groups').select((eb) => eb.fn.countAll<number>().as('n')).where('app_id', '=', this.appId).executeTakeFirstOrThrow();
    return Number(r.n);
  }
  getPerson(personId: string) {
    return this.q.selectFrom('persons').selectAll().where('app_id', '=', this.appId).where('person_id', '=', personId).executeTakeFirst();
  }
  getPersons(personIds: string[]) {
    if (!personIds.length) return Promise.resolve([] as PersonRow[]);
    return this.q.selectFrom('persons').selectAll().where('app_id', '=', this.appId).where('person_id', 'in', personIds).execute();
  }
  membership(groupId: string, personId: string) {
    return this.q.selectFrom('group_persons').selectAll().where('app_id', '=', this.appId).where('group_id', '=', groupId).where('person_id', '=', personId).executeTakeFirst();
  }
  /** The groups a person belongs to, in the order it joined them. */
  memberships(personId: string, offset = 0, limit = 1000) {
    return this.q.selectFrom('group_persons').selectAll().where('app_id', '=', this.appId).where('person_id', '=', personId)
      .orderBy('created_at').orderBy('group_id').offset(offset).limit(limit).execute();
  }
  membershipsOf(personIds: string[], groupIds?: string[]) {
    if (!personIds.length) return Promise.resolve([] as MembershipRow[]);
    let q = this.q.selectFrom('group_persons').selectAll().where('app_id', '=', this.appId).where('person_id', 'in', personIds);
    if (groupIds) q = q.where('group_id', 'in', groupIds);
    return q.execute();
  }
  async countMemberships(personId: string): Promise<number> {
    const r = await this.q.selectFrom('group_persons').select((eb) => eb.fn.countAll<number>().as('n')).where('app_id', '=', this.appId).where('person_id', '=', personId).executeTakeFirstOrThrow();
    return Number(r.n);
  }
  consents(personId: string) {
    return consentsOf(this.q, this.appId, personId);
  }
  faces(personId: string) {
    return this.q.selectFrom('faces').selectAll().where('app_id', '=', this.appId).where('person_id', '=', personId).orderBy('created_at').orderBy('face_id').execute();
  }
  faceIdsOf(personIds: string[]) {
    if (!personIds.length) return Promise.resolve([] as { person_id: string; face_id: string }[]);
    return this.q.selectFrom('faces').select(['person_id', 'face_id']).where('app_id', '=', this.appId).where('person_id', 'in', personIds)
      .orderBy('created_at').orderBy('face_id').execute();
  }
  /**
   * Persons of a group, in the order they joined it. The page is cut from the members' order
   * index alone (group_persons_page) and only its rows are joined to persons: joining first made
   * every call read every member's person row (0.2 s for 20k members on PostgreSQL).
   */
  listMembers(groupId: string, offset: number, limit: number) {
    const page = this.q.selectFrom('group_persons').select(['person_id', 'created_at']).where('app_id', '=', this.appId).where('group_id', '=', groupId)
      .orderBy('created_at').orderBy('person_id').offset(offset).limit(limit).as('pg');
    return this.q.selectFrom(page)
      .innerJoin('group_persons as m', (j) => j.on('m.app_id', '=', this.appId).on('m.group_id', '=', groupId).onRef('m.person_id', '=', 'pg.person_id'))
      .innerJoin('persons as p', (j) => j.on('p.app_id', '=', this.appId).onRef('p.person_id', '=', 'pg.person_id'))
      .select(['p.person_id', 'p.name', 'p.gender', 'p.created_at', 'm.ex_descriptions'])
      .orderBy('pg.created_at').orderBy('pg.person_id').execute();
  }
  /** The group's persons and faces, as its library writes keep them (no scan of the group). */
  async countMembers(groupId: string): Promise<{ persons: number; faces: number }> {
    const g = await this.q.selectFrom('face_groups').select(['person_num', 'face_num']).where('app_id', '=', this.appId).where('group_id', '=', groupId).executeTakeFirst();
    return { persons: Number(g?.person_num ?? 0), faces: Number(g?.face_num ?? 0) };
  }
  /** Counted from the rows (tests compare it with countMembers). */
  async countMembersFromRows(groupId: string): Promise<{ persons: number; faces: number }> {
    const p = await this.q.selectFrom('group_persons').select((eb) => eb.fn.countAll<number>().as('n')).where('app_id', '=', this.appId).where('group_id', '=', groupId).executeTakeFirstOrThrow();
    const f = await this.q.selectFrom('faces as f').innerJoin('group_persons as m', (j) => j.onRef('m.app_id', '=', 'f.app_id').onRef('m.person_id', '=', 'f.person_id'))
      .select((eb) => eb.fn.countAll<number>().as('n')).where('m.app_id', '=', this.appId).where('m.group_id', '=', groupId).executeTakeFirstOrThrow();
    return { persons: Number(p.n), faces: Number(f.n) };
  }
}

/** Writes; only reachable inside LibraryRepo.write(). */
export class LibraryWriter extends LibraryReader {
  readonly touched: { kind: 'person' | 'group'; ref: string }[] = [];
  constructor(q: Transaction<DB>, appId: number, readonly now: number) { super(q, appId); }

  /** The write's transaction, for store modules that extend a library write (model-upgrades-repo.ts). */
  get trx(): Transaction<DB> { return this.q as Transaction<DB>; }
  touchPerson(personId: string) { this.touched.push({ kind: 'person', ref: personId }); }
  touchGroup(groupId: string) { this.touched.push({ kind: 'group', ref: groupId }); }

  // face_groups.person_num / face_num follow every membership and face change here, in the same
  // transaction (an app's library writes are serialised by its library_seq row, so no two of
  // them change one group's counts at once).
  private async bump(groupIds: string[], persons: number, faces: number) {
    if (!groupIds.length || (!persons && !faces)) return;
    await this.q.updateTable('face_groups').set((eb) => ({ person_num: eb('person_num', '+', persons), face_num: eb('face_num', '+', faces) }))
      .where('app_id', '=', this.appId).where('group_id', 'in', groupIds).execute();
  }
  private async groupIdsOf(personId: string): Promise<string[]> {
    return (await this.q.selectFrom('group_persons').select('group_id').where('app_id', '=', this.appId).where('person_id', '=', personId).execute()).map((r) => r.group_id);
  }
  private async faceCountOf(personId: string): Promise<number> {
    const r = await this.q.selectFrom('faces').select((eb) => eb.fn.countAll<number>().as('n')).where('app_id', '=', this.appId).where('person_id', '=', personId).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async insertGroup(g: Omit<GroupRow, 'app_id' | 'data_class' | 'expires_at' | 'person_num' | 'face_num'>) {
    await this.q.insertInto('face_groups').values({ ...g, app_id: this.appId, data_class: CLASS, expires_at: null, person_num: 0, face_num: 0 }).execute();
    this.touchGroup(g.group_id);
  }
  async updateGroup(groupId: string, patch: Partial<Pick<GroupRow, 'name' | 'ex_descriptions' | 'tag' | 'updated_at' | 'last_used_at'>>) {
    await this.q.updateTable('face_groups').set(patch).where('app_id', '=', this.appId).where('group_id', '=', groupId).execute();
  }
  /** Deletes a group; persons in no other group are deleted with their faces. Returns those PersonIds. */
  async deleteGroup(groupId: string): Promise<string[]> {
    const members = await this.q.selectFrom('group_persons').select('person_id').where('app_id', '=', this.appId).where('group_id', '=', groupId).execute();
    const orphans: string[] = [];
    // Batched so a 1M-person group does not build one giant IN list.
    for (let i = 0; i < members.length; i += 500) {
      const ids = members.slice(i, i + 500).map((m) => m.person_id);
      const elsewhere = await this.q.selectFrom('group_persons').select('person_id').distinct().where('app_id', '=', this.appId)
        .where('person_id', 'in', ids).where('group_id', '!=', groupId).execute();
      const keep = new Set(elsewhere.map((r) => r.person_id));
      orphans.push(...ids.filter((id) => !keep.has(id)));
    }
    await this.q.deleteFrom('group_persons').where('app_id', '=', this.appId).where('group_id', '=', groupId).execute();
    for (let i = 0; i < orphans.length; i += 500) {
      const ids = orphans.slice(i, i + 500);
      await this.q.deleteFrom('faces').where('app_id', '=', this.appId).where('person_id', 'in', ids).execute();
      await this.q.deleteFrom('face_alt_features').where('app_id', '=', this.appId).where('person_id', 'in', ids).execute();
      await deleteConsentsOf(this.q, this.appId, ids);
      await this.q.deleteFrom('persons').where('app_id', '=', this.appId).where('person_id', 'in', ids).execute();
    }
    await this.q.deleteFrom('face_groups').where('app_id', '=', this.appId).where('group_id', '=', groupId).execute();
    // Survivors only lose this group, which the group change covers.
    this.touchGroup(groupId);
    return orphans;
  }
  /** `expiresAt`: the end of the enrolment's consented retention term (null = until deleted). */
  async insertPerson(p: Omit<PersonRow, 'app_id' | 'data_class' | 'expires_at'>, expiresAt: number | null = null) {
    await this.q.insertInto('persons').values({ ...p, app_id: this.appId, data_class: CLASS, expires_at: expiresAt }).execute();
    this.touchPerson(p.person_id);
  }
  async updatePerson(personId: string, patch: Partial<Pick<PersonRow, 'name' | 'gender' | 'combined_feature' | 'updated_at' | 'last_used_at'>>) {
    await this.q.updateTable('persons').set(patch).where('app_id', '=', this.appId).where('person_id', '=', personId).execute();
    if (patch.combined_feature !== undefined) this.touchPerson(personId);
  }
  async deletePerson(personId: string) {
    await this.bump(await this.groupIdsOf(personId), -1, -(await this.faceCountOf(personId)));
    await this.q.deleteFrom('faces').where('app_id', '=', this.appId).where('person_id', '=', personId).execute();
    await this.q.deleteFrom('face_alt_features').where('app_id', '=', this.appId).where('person_id', '=', personId).execute();
    await deleteConsentsOf(this.q, this.appId, [personId]);
    await this.q.deleteFrom('group_persons').where('app_id', '=', this.appId).where('person_id', '=', personId).execute();
    await this.q.deleteFrom('persons').where('app_id', '=', this.appId).where('person_id', '=', personId).execute();
    this.touchPerson(personId);
  }
  async insertMembership(groupId: string, personId: string, exDescriptions: string[]) {
    await this.q.insertInto('group_persons').values({
      app_id: this.appId, group_id: groupId, person_id: personId, ex_descriptions: JSON.stringify(exDescriptions),
      created_at: this.now, data_class: CLASS, expires_at: null,
    }).execute();
    await this.bump([groupId], 1, await this.faceCountOf(personId));
    this.touchPerson(personId);
  }
  async updateMembership(groupId: string, personId: string, exDescriptions: string[]) {
    await this.q.updateTable('group_persons').set({ ex_descriptions: JSON.stringify(exDescriptions) })
      .where('app_id', '=', this.appId).where('group_id', '=', groupId).where('person_id', '=', personId).execute();
  }
  async deleteMembership(groupId: string, personId: string) {
    const n = deleted(await this.q.deleteFrom('group_persons').where('app_id', '=', this.appId).where('group_id', '=', groupId).where('person_id', '=', personId).executeTakeFirst());
    if (n) await this.bump([groupId], -1, -(await this.faceCountOf(personId)));
    this.touchPerson(personId);
  }
  async insertFace(f: Omit<FaceRow, 'app_id' | 'data_class' | 'expires_at'>) {
    await this.q.insertInto('faces').values({ ...f, app_id: this.appId, data_class: CLASS, expires_at: null }).execute();
    await this.bump(await this.groupIdsOf(f.person_id), 0, 1);
    this.touchPerson(f.person_id);
  }
  /** A consent record of an enrolment (privacy policy), in the enrolment's transaction. */
  async insertConsent(c: Omit<ConsentRow, 'app_id' | 'data_class' | 'expires_at'>, expiresAt: number | null = null) {
    await insertConsent(this.q, { ...c, app_id: this.appId }, expiresAt);
  }
  /** A `blobs` record of an object written for this library write (enrolment images). */
  async insertBlobRecord(b: { key: string; data_class: string; expires_at: number | null; size: number; content_type: string; owner_ref: string }) {
    await recordBlob(this.q, { ...b, app_id: this.appId, created_at: this.now });
  }
  async deleteBlobRecords(keys: string[]) {
    await forgetBlobs(this.q, this.appId, keys);
  }
  /** Kept enrolment image keys of these persons' faces (optionally only of `faceIds`). */
  async imageKeys(personIds: string[], faceIds?: string[]): Promise<{ person_id: string; key: string }[]> {
    const out: { person_id: string; key: string }[] = [];
    for (let i = 0; i < personIds.length; i += 500) {
      let q = this.q.selectFrom('faces').select(['person_id', 'image_key']).where('app_id', '=', this.appId).where('person_id', 'in', personIds.slice(i, i + 500)).where('image_key', 'is not', null);
      if (faceIds) q = q.where('face_id', 'in', faceIds.length ? faceIds : ['']);
      for (const r of await q.execute()) out.push({ person_id: r.person_id, key: r.image_key! });
    }
    return out;
  }
  async deleteFaces(personId: string, faceIds: string[]) {
    if (!faceIds.length) return;
    const n = deleted(await this.q.deleteFrom('faces').where('app_id', '=', this.appId).where('person_id', '=', personId).where('face_id', 'in', faceIds).executeTakeFirst());
    await this.bump(await this.groupIdsOf(personId), 0, -n);
    await this.q.deleteFrom('face_alt_features').where('app_id', '=', this.appId).where('person_id', '=', personId).where('face_id', 'in', faceIds).execute();
    this.touchPerson(personId);
  }
}

export class LibraryRepo {
  constructor(private readonly db: Db) {}

  reader(appId: number): LibraryReader {
    return new LibraryReader(this.db.kysely, appId);
  }

  /** One library write transaction for `appId`; commits before it returns. */
  async write<T>(appId: number, now: number, fn: (w: LibraryWriter) => Promise<T>): Promise<{ result: T; seq: number }> {
    return this.db.kysely.transaction().execute(async (tx) => {
      await tx.insertInto('library_seq').values({ app_id: appId, seq: 0 }).onConflict((oc) => oc.column('app_id').doNothing()).execute();
      // Row lock on PostgreSQL: the app's library writes are serialised until commit, so the
      // seqs become visible in order and a reader never skips one.
      const bumped = await tx.updateTable('library_seq').set((eb) => ({ seq: eb('seq', '+', 1) })).where('app_id', '=', appId).returning('seq').executeTakeFirstOrThrow();
      const seq = Number(bumped.seq);
      const w = new LibraryWriter(tx, appId, now);
      const result = await fn(w);
      const seen = new Set<string>();
      if (!w.touched.length) w.touched.push({ kind: 'noop' as 'group', ref: '' });
      const rows = w.touched.filter((c) => !seen.has(c.kind + ':' + c.ref) && seen.add(c.kind + ':' + c.ref))
        .map((c) => ({ app_id: appId, seq, kind: c.kind, ref: c.ref, created_at: now, data_class: 'face_feature', expires_at: now + CHANGE_RETENTION_MS }));
      for (let i = 0; i < rows.length; i += 200) await tx.insertInto('library_changes').values(rows.slice(i, i + 200)).execute();
      if (seq % 100 === 0) await tx.deleteFrom('library_changes').where('app_id', '=', appId).where('expires_at', '<', now).execute();
      return { result, seq };
    });
  }

  async seq(appId: number): Promise<number> {
    const r = await this.db.kysely.selectFrom('library_seq').select('seq').where('app_id', '=', appId).executeTakeFirst();
    return r ? Number(r.seq) : 0;
  }

  /** Changes after `seq`, plus whether the log still reaches back that far. */
  async changesSince(appId: number, seq: number): Promise<{ changes: Change[]; complete: boolean }> {
    const rows = await this.db.kysely.selectFrom('library_changes').select(['seq', 'kind', 'ref']).where('app_id', '=', appId).where('seq', '>', seq).orderBy('seq').execute();
    // Every write leaves at least one row (a 'noop' when it touched nothing the index holds), so
    // the log reaches back far enough exactly when it still has seq + 1.
    const complete = rows.length > 0 && Number(rows[0].seq) === seq + 1;
    return { changes: rows.filter((r) => r.kind !== 'noop').map((r) => ({ seq: Number(r.seq), kind: r.kind as Change['kind'], ref: r.ref })), complete };
  }

  async appsWithLibraries(): Promise<number[]> {
    const r = await this.db.kysely.selectFrom('library_seq').select('app_id').execute();
    return r.map((x) => Number(x.app_id));
  }

  /** Pages through every face of an app with its memberships (for index rebuilds). */
  async *allFaces(appId: number, page = 5000): AsyncGenerator<{ face_id: string; person_id: string; feature: Buffer }[]> {
    let after = '';
    for (;;) {
      const rows = await this.db.kysely.selectFrom('faces').select(['face_id', 'person_id', 'feature']).where('app_id', '=', appId)
        .where('face_id', '>', after).orderBy('face_id').limit(page).execute();
      if (!rows.length) return;
      yield rows;
      after = rows[rows.length - 1].face_id;
    }
  }

  async *allMemberships(appId: number, page = 20000): AsyncGenerator<{ group_id: string; person_id: string }[]> {
    let afterG = '', afterP = '';
    for (;;) {
      const rows = await this.db.kysely.selectFrom('group_persons').select(['group_id', 'person_id']).where('app_id', '=', appId)
        .where((eb) => eb.or([eb('group_id', '>', afterG), eb.and([eb('group_id', '=', afterG), eb('person_id', '>', afterP)])]))
        .orderBy('group_id').orderBy('person_id').limit(page).execute();
      if (!rows.length) return;
      yield rows;
      afterG = rows[rows.length - 1].group_id;
      afterP = rows[rows.length - 1].person_id;
    }
  }

  async *allCombined(appId: number, page = 5000): AsyncGenerator<{ person_id: string; combined_feature: Buffer | null }[]> {
    let after = '';
    for (;;) {
      const rows = await this.db.kysely.selectFrom('persons').select(['person_id', 'combined_feature']).where('app_id', '=', appId)
        .where('person_id', '>', after).orderBy('person_id').limit(page).execute();
      if (!rows.length) return;
      yield rows;
      after = rows[rows.length - 1].person_id;
    }
  }

  /** Every AppId's feature rows (faces and persons), for the start-up load's progress. */
  async featureRows(): Promise<number> {
    const f = await this.db.kysely.selectFrom('faces').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const p = await this.db.kysely.selectFrom('persons').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(f.n) + Number(p.n);
  }

  /** Faces per group (index rebuilds size their buffers once instead of doubling through them). */
  async faceCountsByGroup(appId: number): Promise<Map<string, number>> {
    const rows = await this.db.kysely.selectFrom('faces as f').innerJoin('group_persons as m', (j) => j.onRef('m.app_id', '=', 'f.app_id').onRef('m.person_id', '=', 'f.person_id'))
      .select(['m.group_id', (eb) => eb.fn.countAll<number>().as('n')]).where('f.app_id', '=', appId).groupBy('m.group_id').execute();
    return new Map(rows.map((r) => [r.group_id, Number(r.n)]));
  }

  async groupIds(appId: number): Promise<{ group_id: string; created_at: number }[]> {
    return this.db.kysely.selectFrom('face_groups').select(['group_id', 'created_at']).where('app_id', '=', appId).execute();
  }

  // ---- use, for the privacy policy's inactivity purge
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

  // ---- erasure (deletion requests)
  /** Persons enrolled with this EndUserId. */
  async personsOfEndUser(appId: number, endUserId: string): Promise<string[]> {
    const r = await this.db.kysely.selectFrom('persons').select('person_id').where('app_id', '=', appId).where('end_user_id', '=', endUserId).execute();
    return r.map((x) => x.person_id);
  }

  /** Keys of the kept enrolment images of these persons' faces. */
  async enrolmentImageKeys(appId: number, personIds: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const ids of chunks(personIds)) {
      const r = await this.db.kysely.selectFrom('faces').select('image_key').where('app_id', '=', appId).where('person_id', 'in', ids).where('image_key', 'is not', null).execute();
      for (const x of r) out.push(x.image_key!);
    }
    return out;
  }

  /**
   * Drops the app's library change history up to `seq`. The history names PersonIds; without it,
   * every other process whose index is behind `seq` finds the log incomplete and reloads the
   * app from the database, which no longer has the erased persons.
   */
  async truncateHistory(appId: number, seq: number): Promise<number> {
    return deleted(await this.db.kysely.deleteFrom('library_changes').where('app_id', '=', appId).where('seq', '<=', seq).executeTakeFirst());
  }

  /**
   * Deletes every library row of the app on `ex` (the caller's transaction) and returns the
   * count per table. The app's seq is bumped rather than deleted, so other processes notice
   * the change and drop their copy of its index. Idempotent: a resumed erasure runs it again.
   */
  async eraseApp(ex: Executor, appId: number): Promise<Record<LibraryTable, number>> {
    await ex.insertInto('library_seq').values({ app_id: appId, seq: 0 }).onConflict((oc) => oc.column('app_id').doNothing()).execute();
    await ex.updateTable('library_seq').set((eb) => ({ seq: eb('seq', '+', 1) })).where('app_id', '=', appId).execute();
    const counts = {} as Record<LibraryTable, number>;
    for (const table of LIBRARY_TABLES) counts[table] = deleted(await ex.deleteFrom(table).where('app_id', '=', appId).executeTakeFirst());
    return counts;
  }
}

/** The library's per-AppId tables, in the order an AppId erasure empties them (members before owners). */
const LIBRARY_TABLES = ['faces', 'face_alt_features', 'face_upgrade_jobs', 'group_persons', 'persons', 'face_groups', 'library_changes'] as const;
export type LibraryTable = (typeof LIBRARY_TABLES)[number];
