// Deletion requests (GDPR Art. 17): erase everything held about a PersonId, an end user (the
// customer's EndUserId on persons, calls and fusion results) or a whole AppId, and hand back a
// receipt that names what was erased per store without naming the subject.
//
// Restart safety: the request row is written first, with its subject sealed under the master
// key; each step is idempotent and its counts are saved as it goes. The running process holds
// the row's lease and renews it with each save; when it dies the lease runs out and another
// process of the deployment (each looks every half lease, and at start) takes the request over
// and finishes it: one process at a time, never one per node. Once done, the sealed subject is wiped and only a
// keyed hash (HMAC-SHA256 under a key derived from the master key) remains.
//
// Each table is erased by the repository that owns it (library, running log, fusion, the blobs
// registry, accounts, privacy); this file only orders the steps. The library rows of a whole
// AppId go in one transaction with its consents, so no process sees half an app.
import crypto from 'node:crypto';
import type { Caller } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import { LeaseLost, newJobLease, type JobLease } from '../../domain/job-lease.ts';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { BlobRecords } from '../../store/blobs/blob-records.ts';
import { checkpointWal, type Db } from '../../store/db/db.ts';
import { inTransaction } from '../../store/db/executor.ts';
import type { AccountsRepo } from '../../store/accounts/accounts-repo.ts';
import type { FusionRepo } from '../../store/fusion/fusion-repo.ts';
import type { ErrorLog } from '../../store/logs/error-log.ts';
import type { RunningLogRepo } from '../../store/logs/running-log-repo.ts';
import type { FeatureCrypto } from '../../store/keys/feature-crypto.ts';
import type { Keyring } from '../../store/keys/keyring.ts';
import type { KeyStore } from '../../store/keys/key-store.ts';
import type { LibraryIndex } from '../library/library-index.ts';
import type { LibraryRepo } from '../../store/library/library-repo.ts';
import type { DeletionRow, PrivacyRepo } from '../../store/privacy/privacy-repo.ts';
import type { AuditLog } from '../accounts/audit.ts';
import { auditActor } from '../accounts/audit.ts';
import type { Clock } from '../../domain/clock.ts';
import type { FusionMaterials } from '../fusion/fusion-materials.ts';
import type { VideoRepo } from '../../store/video/video-repo.ts';

export type DeletionSubject = { kind: 'person'; personId: string } | { kind: 'end_user'; endUserId: string } | { kind: 'app' };

export interface DeletionDeps {
  /** The database (its dialect is named in the receipt; the AppId erasure's transactions run on it). */
  db: Db;
  /** Deletion requests, consents and policies (the privacy tables). */
  repo: PrivacyRepo;
  blobs: BlobStore;
  /** The `blobs` table: which objects each AppId owns. */
  blobRecords: BlobRecords;
  runningLog: RunningLogRepo;
  fusion: FusionRepo;
  /** Video materials' derivative rows and video jobs. */
  video: VideoRepo;
  /** Apps, users and API keys. */
  accounts: AccountsRepo;
  errorLog: ErrorLog;
  keyring: Keyring;
  /** The data keys; an AppId erasure erases its key there (crypto-shredding). */
  keys: KeyStore;
  clock: Clock;
  audit: AuditLog;
  library: { repo: LibraryRepo; index: LibraryIndex; crypto: FeatureCrypto };
  materials: FusionMaterials;
  /** This process's lease identity (default: a new one, 30 s). */
  lease?: JobLease;
}

/** What a receipt counts, per store. */
export interface ErasedCounts {
  Persons: number; Faces: number; GroupMemberships: number; Groups: number; Consents: number;
  SearchIndexEntries: number; LibraryHistoryRecords: number; EnrolmentImages: number;
  RunningLogRecords: number; RunningLogBilledRecords: number; RunningLogResultsScrubbed: number;
  ErrorLogRecords: number; FusionLogRecords: number; FusionResults: number; Objects: number;
  Activities: number; Materials: number; MaterialFaces: number; ApiKeys: number; Users: number; DataKeys: number;
}

export interface Receipt {
  RequestId: string;
  AppId: number;
  Scope: 'PersonId' | 'EndUserId' | 'AppId';
  /** HMAC-SHA256 of the erased identifier: lets the operator confirm a given id was erased, names nobody. */
  SubjectDigest: string;
  Status: 'RUNNING' | 'DONE';
  CreatedTime: string;
  CompletedTime: string | null;
  Stores: { Database: string; ObjectStore: string; ErrorLog: string; SearchIndex: string; KeyStore: string };
  Deleted: ErasedCounts;
  /** SHA-256 over the receipt's other fields (canonical JSON, sorted keys). */
  Digest: string | null;
}

const SCOPE_NAME = { person: 'PersonId', end_user: 'EndUserId', app: 'AppId' } as const;

const zero = (): ErasedCounts => ({
  Persons: 0, Faces: 0, GroupMemberships: 0, Groups: 0, Consents: 0, SearchIndexEntries: 0, LibraryHistoryRecords: 0, EnrolmentImages: 0,
  RunningLogRecords: 0, RunningLogBilledRecords: 0, RunningLogResultsScrubbed: 0, ErrorLogRecords: 0, FusionLogRecords: 0, FusionResults: 0,
  Objects: 0, Activities: 0, Materials: 0, MaterialFaces: 0, ApiKeys: 0, Users: 0, DataKeys: 0,
});

function canonical(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v && typeof v === 'object') return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical((v as Record<string, unknown>)[k])).join(',') + '}';
  return JSON.stringify(v);
}

export function receiptDigest(r: Omit<Receipt, 'Digest'> | Receipt): string {
  const { Digest: _d, ...rest } = r as Receipt;
  return crypto.createHash('sha256').update(canonical(rest)).digest('hex');
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class DeletionService {
  private readonly running = new Map<string, Promise<Receipt>>();
  private readonly lease: JobLease;
  private takeoverTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly d: DeletionDeps) {
    this.lease = d.lease ?? newJobLease();
  }

  subjectDigest(appId: number, s: DeletionSubject): string {
    const value = s.kind === 'person' ? s.personId : s.kind === 'end_user' ? s.endUserId : String(appId);
    return crypto.createHmac('sha256', this.d.keyring.deriveKey('deletion-subject')).update(`${appId}\n${s.kind}\n${value}`).digest('hex');
  }

  /** Creates the request and runs it to completion (every scope runs before the reply). */
  async create(caller: Caller, subject: DeletionSubject): Promise<Receipt> {
    if (subject.kind === 'app' && caller.subUin !== caller.uin) {
      throw new TcError('AuthFailure.UnauthorizedOperation', 'AppId: only the root account may erase a whole AppId');
    }
    const requestId = crypto.randomUUID();
    const now = this.d.clock.now();
    const digest = this.subjectDigest(caller.appId, subject);
    const row: Omit<DeletionRow, 'data_class' | 'expires_at'> = {
      request_id: requestId, app_id: caller.appId, scope: subject.kind, subject_digest: digest,
      subject_sealed: this.d.keyring.sealSecret(JSON.stringify(subject), `deletion:${requestId}`),
      status: 'running', requested_by: caller.subUin, created_at: now, completed_at: null, attempts: 0, receipt: null, digest: null,
      lease_owner: this.lease.owner, lease_until: now + this.lease.ttlMs,
    };
    await this.d.repo.insertRequest(row);
    // The audit record names the request and the digest, never the subject.
    await this.d.audit.append({ actor: auditActor(caller), action: 'deletion.request', appId: caller.appId, target: requestId, details: { scope: SCOPE_NAME[subject.kind], subjectDigest: digest } });
    return this.runOnce({ ...row, data_class: 'receipt', expires_at: null });
  }

  async describe(caller: Caller, requestId: string | null, offset: number, limit: number): Promise<{ receipts: Receipt[]; total: number }> {
    if (requestId) {
      const r = await this.d.repo.request(caller.appId, requestId);
      return { receipts: r ? [this.receiptOf(r)] : [], total: r ? 1 : 0 };
    }
    const { rows, total } = await this.d.repo.listRequests(caller.appId, offset, limit);
    return { receipts: rows.map((r) => this.receiptOf(r)), total };
  }

  /**
   * Takes over the requests whose process died (lease ran out) and finishes them; called at
   * start, then every half lease until stop(). Returns how many this process took.
   */
  async resumeAll(): Promise<number> {
    if (!this.takeoverTimer && !this.stopped) {
      this.takeoverTimer = setInterval(() => { this.takeOver().catch(() => { /* retried next tick; a failing database shows in /readyz */ }); }, Math.max(500, Math.floor(this.lease.ttlMs / 2)));
      this.takeoverTimer.unref();
    }
    return this.takeOver();
  }

  private async takeOver(): Promise<number> {
    let n = 0;
    for (const r of await this.d.repo.expiredRunning(this.d.clock.now())) {
      if (this.stopped || this.running.has(r.request_id)) continue;
      if (!(await this.d.repo.claim(r.request_id, this.lease.owner, this.d.clock.now(), this.lease.ttlMs))) continue;
      n++;
      await this.runOnce(r).catch((e: Error) => { if (!(e instanceof LeaseLost)) throw e; });
    }
    return n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.takeoverTimer) clearInterval(this.takeoverTimer);
    this.takeoverTimer = null;
  }

  private receiptOf(r: DeletionRow): Receipt {
    if (r.status === 'done' && r.receipt) return JSON.parse(r.receipt) as Receipt;
    return this.build(r, r.receipt ? (JSON.parse(r.receipt) as Receipt).Deleted : zero(), null);
  }

  private build(r: DeletionRow | Omit<DeletionRow, 'data_class' | 'expires_at'>, counts: ErasedCounts, completedAt: number | null): Receipt {
    const base: Omit<Receipt, 'Digest'> = {
      RequestId: r.request_id, AppId: Number(r.app_id), Scope: SCOPE_NAME[r.scope as DeletionSubject['kind']], SubjectDigest: r.subject_digest,
      Status: completedAt === null ? 'RUNNING' : 'DONE', CreatedTime: iso(Number(r.created_at))!, CompletedTime: iso(completedAt),
      Stores: { Database: this.d.db.dialect, ObjectStore: this.d.blobs.kind, ErrorLog: 'segment files', SearchIndex: 'in-memory index of every process', KeyStore: this.d.keys.kind },
      Deleted: counts,
    };
    return { ...base, Digest: completedAt === null ? null : receiptDigest(base) };
  }

  /** One run per request at a time in this process. */
  private runOnce(r: DeletionRow): Promise<Receipt> {
    let p = this.running.get(r.request_id);
    if (!p) {
      p = this.run(r).finally(() => this.running.delete(r.request_id));
      this.running.set(r.request_id, p);
    }
    return p;
  }

  private async run(r: DeletionRow): Promise<Receipt> {
    if (!r.subject_sealed) throw new Error(`deletion request ${r.request_id} has no subject`);
    const subject = JSON.parse(this.d.keyring.openSecret(r.subject_sealed, `deletion:${r.request_id}`)) as DeletionSubject;
    const counts: ErasedCounts = r.receipt ? { ...zero(), ...(JSON.parse(r.receipt) as Receipt).Deleted } : zero();
    const attempts = Number(r.attempts) + 1;
    const save = async () => {
      const until = this.d.clock.now() + this.lease.ttlMs;
      if (!(await this.d.repo.saveProgress(r.request_id, JSON.stringify(this.build(r, counts, null)), attempts, { owner: this.lease.owner, until }))) throw new LeaseLost(`deletion request ${r.request_id}`);
    };
    // Saves renew the lease; a step that erases much (a whole AppId) may run longer than a lease.
    const renew = setInterval(() => { this.d.repo.claim(r.request_id, this.lease.owner, this.d.clock.now(), this.lease.ttlMs).catch(() => {}); }, Math.max(200, Math.floor(this.lease.ttlMs / 3)));
    renew.unref();
    try {
      return await this.runSteps(r, subject, counts, save);
    } finally {
      clearInterval(renew);
    }
  }

  private async runSteps(r: DeletionRow, subject: DeletionSubject, counts: ErasedCounts, save: () => Promise<void>): Promise<Receipt> {
    await save();
    const appId = Number(r.app_id);
    if (subject.kind === 'app') await this.eraseApp(appId, counts, save);
    else await this.eraseSubject(appId, subject, counts, save);
    const completedAt = this.d.clock.now();
    const receipt = this.build(r, counts, completedAt);
    await this.d.repo.finish(r.request_id, completedAt, JSON.stringify(receipt), receipt.Digest!);
    // SQLite: the deleted rows' old page images live in the WAL until a checkpoint copies the
    // (zeroed, secure_delete) pages back and the WAL is truncated.
    await checkpointWal(this.d.db);
    await this.d.audit.append({ actor: 'system', action: 'deletion.completed', appId, target: r.request_id, details: { digest: receipt.Digest, deleted: counts } }).catch(() => {});
    return receipt;
  }

  /** Stops an AppId's keys at once: authentication refuses keys of an app that is not active. */
  closeApp(appId: number): Promise<void> {
    return this.d.accounts.markAppDeleted(appId);
  }

  /** The end user's persons: enrolled with the EndUserId, or given it later by a consent record (CreateFace). */
  private async personsOfEndUser(appId: number, endUserId: string): Promise<string[]> {
    const enrolled = await this.d.library.repo.personsOfEndUser(appId, endUserId);
    const consented = await this.d.repo.consentPersonsOfEndUser(appId, endUserId);
    return [...new Set([...enrolled, ...consented])];
  }

  /**
   * Deletes every row the app owns, owner by owner (each erase is idempotent, so a resumed request
   * simply runs it again). The library's rows and the consents given for them go in one
   * transaction with the bump of its seq (other processes then drop their copy of the index).
   */
  private async deleteAppRows(appId: number): Promise<Record<string, number>> {
    const d = this.d;
    const library = await inTransaction(d.db, async (tx) => ({ ...(await d.library.repo.eraseApp(tx, appId)), consents: await d.repo.eraseConsents(tx, appId) }));
    const running_log = await inTransaction(d.db, (tx) => d.runningLog.eraseApp(tx, appId));
    const video = await inTransaction(d.db, (tx) => d.video.eraseApp(tx, appId));
    const fusion = await inTransaction(d.db, (tx) => d.fusion.eraseApp(tx, appId));
    const blobs = await inTransaction(d.db, (tx) => d.blobRecords.eraseApp(tx, appId));
    const privacy_policies = await inTransaction(d.db, (tx) => d.repo.erasePolicy(tx, appId));
    const accounts = await inTransaction(d.db, (tx) => d.accounts.eraseApp(tx, appId));
    return { ...library, running_log, ...video, ...fusion, blobs, privacy_policies, ...accounts };
  }

  /** A PersonId or an end user: persons with their faces and consents, their calls, results and logs. */
  private async eraseSubject(appId: number, s: Exclude<DeletionSubject, { kind: 'app' }>, c: ErasedCounts, save: () => Promise<void>) {
    const lib = this.d.library;
    const endUserId = s.kind === 'end_user' ? s.endUserId : undefined;
    const personIds = s.kind === 'person' ? [s.personId] : await this.personsOfEndUser(appId, s.endUserId);

    // 1. Library rows, through the library's write path (this process's index follows at once).
    const reader = lib.repo.reader(appId);
    const present = await reader.getPersons(personIds);
    if (present.length) {
      const images = await lib.repo.enrolmentImageKeys(appId, present.map((p) => p.person_id));
      for (const k of images) await this.d.blobs.delete(k);
      await this.d.blobRecords.forget(appId, images);
      c.EnrolmentImages += images.length;
      c.Objects += images.length;
      await lib.index.sync(appId);
      const { seq } = await lib.repo.write(appId, this.d.clock.now(), async (w) => {
        for (const p of present) {
          const faces = await w.faces(p.person_id);
          const groups = await w.memberships(p.person_id);
          c.Faces += faces.length;
          c.GroupMemberships += groups.length;
          c.Consents += (await w.consents(p.person_id)).length;
          for (const g of groups) {
            const gi = lib.index.group(appId, g.group_id);
            if (gi) c.SearchIndexEntries += gi.faces.idsOf(p.person_id).length + (gi.persons.has(p.person_id) ? 1 : 0);
          }
          await w.deletePerson(p.person_id);
          c.Persons++;
        }
      });
      await lib.index.sync(appId);
      // The change log names the PersonIds: drop the history up to this write, which makes every
      // process still behind it reload the app from the database.
      c.LibraryHistoryRecords += await lib.repo.truncateHistory(appId, seq);
      await save();
    }
    if (endUserId !== undefined) c.Consents += await this.d.repo.eraseConsentsOfEndUser(appId, endUserId);

    // 2. Fusion results and logs of the end user's calls (found by EndUserId and by request id).
    const requestIds = await this.d.runningLog.requestIdsOf(appId, { personIds, endUserId });
    const results = await this.d.fusion.resultsOf(appId, { endUserId, requestIds });
    for (const r of results) await this.d.blobs.delete(r.blob_key);
    await this.d.fusion.deleteResults(appId, results);
    c.FusionResults += results.length;
    c.Objects += results.length;
    c.FusionLogRecords += await this.d.fusion.eraseLogFor(appId, { endUserId, requestIds });
    // Video jobs for the end user (queued ones included: a runner finds the row gone and stops),
    // with their photos, template copies and results.
    if (endUserId !== undefined) {
      const jobIds = (await this.d.video.jobsOfEndUser(appId, endUserId)).map((j) => j.job_id);
      const keys = await this.d.video.blobKeysOwnedBy(appId, jobIds);
      for (const k of keys) await this.d.blobs.delete(k);
      await this.d.video.deleteJobs(appId, jobIds, keys);
      c.FusionResults += jobIds.length;
      c.Objects += keys.length;
    }
    await save();

    // 3. Error log: records of this AppId (or of no AppId: failed authentication) that name the
    //    subject or belong to its calls.
    const needles = [...personIds, ...(endUserId !== undefined ? [endUserId] : [])].map((x) => JSON.stringify(x));
    const reqs = new Set(requestIds);
    c.ErrorLogRecords += await this.d.errorLog.rewrite((line, rec) => {
      const owner = rec.appId;
      if (owner !== undefined && owner !== null && Number(owner) !== appId) return false;
      if (typeof rec.requestId === 'string' && reqs.has(rec.requestId)) return true;
      return needles.some((n) => line.includes(n));
    });
    await save();

    // 4. Running log last (its request ids found the rest): the subject's calls go, and other
    //    calls' results that named an erased person keep their record with the id replaced.
    const rl = await this.d.runningLog.eraseFor(appId, { personIds, endUserId });
    c.RunningLogRecords += rl.deleted;
    c.RunningLogBilledRecords += rl.billed;
    c.RunningLogResultsScrubbed += await this.d.runningLog.scrubResults(appId, [...personIds, ...(endUserId !== undefined ? [endUserId] : [])]);
    await save();
  }

  /** A whole AppId: everything it owns, its keys, and its data key (crypto-shredding). */
  private async eraseApp(appId: number, c: ErasedCounts, save: () => Promise<void>) {
    // Keys stop working first, so nothing new arrives while the rest goes.
    await this.closeApp(appId);
    const lib = this.d.library;

    // Fusion: activities with their materials, derivatives and results (blobs first).
    const caller: Caller = { appId, uin: 'system', subUin: 'system' };
    const f = await this.d.fusion.countMaterials(appId);
    c.Materials += f.materials;
    c.MaterialFaces += f.materialFaces;
    for (const activityId of await this.d.fusion.activityIds(appId)) {
      await this.d.materials.deleteActivity(caller, activityId);
      c.Activities++;
    }
    // Every other object the app owns (results, enrolment images), recorded or not.
    const keys = new Set(await this.d.blobRecords.keysOf(appId));
    for (const k of await this.d.blobs.list(`fusion/${appId}/`)) keys.add(k);
    for (const k of await this.d.blobs.list(`video/${appId}/`)) keys.add(k);
    for (const k of keys) await this.d.blobs.delete(k);
    c.Objects += keys.size;
    await save();

    // This process's index: count, then zero and drop it (other processes see the bumped seq).
    await lib.index.sync(appId).catch(() => {});
    for (const g of await lib.repo.groupIds(appId)) {
      const gi = lib.index.group(appId, g.group_id);
      if (gi) c.SearchIndexEntries += gi.faces.size + gi.persons.size;
    }
    const n = await this.deleteAppRows(appId);
    lib.index.drop(appId);
    c.Persons += n.persons ?? 0; c.Faces += n.faces ?? 0; c.GroupMemberships += n.group_persons ?? 0; c.Groups += n.face_groups ?? 0;
    c.Consents += n.consents ?? 0; c.LibraryHistoryRecords += n.library_changes ?? 0;
    c.RunningLogRecords += n.running_log ?? 0; c.FusionLogRecords += n.fusion_log ?? 0; c.FusionResults += n.fusion_results ?? 0;
    c.Materials += n.fusion_materials ?? 0; c.MaterialFaces += n.fusion_material_faces ?? 0; c.Activities += n.fusion_activities ?? 0;
    c.ApiKeys += n.api_keys ?? 0; c.Users += n.users ?? 0;
    await save();

    c.ErrorLogRecords += await this.d.errorLog.rewrite((_line, rec) => rec.appId !== undefined && rec.appId !== null && Number(rec.appId) === appId);
    // The key store's key, and any copy a database from before the key store still holds.
    const shredded = await this.d.keys.erase(appId, this.d.clock.now());
    if ((await this.d.accounts.shredDataKey(appId)) || shredded) c.DataKeys++;
    lib.crypto.forget(appId);
    await save();
  }
}
