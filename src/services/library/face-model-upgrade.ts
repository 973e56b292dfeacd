// iai group model upgrades: UpgradeGroupFaceModelVersion, GetUpgradeGroupFaceModelVersionResult,
// GetUpgradeGroupFaceModelVersionJobList, RevertGroupFaceModelVersion.
// An upgrade re-embeds every face of the group from its kept enrolment image (groups created
// with KeepEnrolmentImages) under the target model set, storing the new features beside the
// old ones while the group keeps serving on its old version; then one library write swaps
// features and versions of the group and its persons. The old features stay until a revert
// (one per group) swaps back. A job runs in the process that holds its row's lease (renewed
// while it runs); when that process dies the lease runs out and another process of the
// deployment takes the job over, skipping the faces already done (each process looks for such
// jobs every half lease, and at start).
import crypto from 'node:crypto';
import type { Caller } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import { LeaseLost, newJobLease, type JobLease } from '../../domain/job-lease.ts';
import { combine } from '../../store/keys/feature-crypto.ts';
import { AltFeatures, JOB, type ModelUpgradesRepo, type UpgradeJobRow } from '../../store/library/model-upgrades-repo.ts';
import { groupNotFound, type LibraryContext } from './library-context.ts';

/** Re-embedding passes before giving up on a group that keeps gaining faces during the job. */
const MAX_PASSES = 5;

const jobNotFound = (jobId: string) => new TcError('FailedOperation.UpgradeJobIdNotExist', `JobId: no upgrade job "${jobId}" exists`);
const cannotUpgrade = (msg: string) => new TcError('FailedOperation.GroupCannotUpgrade', msg);

/** Numeric comparison of dotted versions ("3.0" < "3.1" < "10.0"). */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number), y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d) return d;
  }
  return a.localeCompare(b);
}

export function mapJobResult(j: UpgradeJobRow, now: number) {
  // Tencent: EndTimestamp is the estimated end while running and 0 once the job has ended.
  const elapsed = now - Number(j.start_time);
  const end = j.status === JOB.running ? (j.progress > 0 ? Number(j.start_time) + Math.round(elapsed * 100 / j.progress) : 0) : 0;
  return {
    EndTimestamp: end, Progress: j.progress, Status: j.status, StartTime: Number(j.start_time),
    FromFaceModelVersion: j.from_version, ToFaceModelVersion: j.to_version, GroupId: j.group_id, FailedFacesUrl: '',
  };
}

export class ModelUpgradeService {
  private readonly running = new Map<string, Promise<void>>();
  private takeoverTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly ctx: LibraryContext, private readonly jobs: ModelUpgradesRepo, private readonly report: (e: Error) => void, private readonly lease: JobLease = newJobLease()) {}

  async upgrade(caller: Caller, groupId: string, to: string) {
    const appId = caller.appId;
    const installed = this.ctx.faces.modelVersions();
    if (!installed.includes(to)) throw new TcError('InvalidParameterValue.FaceModelVersionIllegal', `FaceModelVersion: "${to}" is not installed here; installed: ${installed.join(', ')}`);
    const r = this.ctx.repo.reader(appId);
    const g = await r.getGroup(groupId);
    if (!g) throw groupNotFound(groupId);
    const from = g.face_model_version;
    if (to === from) throw cannotUpgrade(`FaceModelVersion: group "${groupId}" already uses model ${from}`);
    if (compareVersions(to, from) < 0) throw cannotUpgrade(`FaceModelVersion: group "${groupId}" uses model ${from}; ${to} is older and upgrades never downgrade (RevertGroupFaceModelVersion undoes an upgrade)`);
    if (!g.keep_images) {
      throw cannotUpgrade(`group "${groupId}" was not created with KeepEnrolmentImages, so its enrolment images were not kept and its features cannot be recomputed with model ${to}: re-enrol the persons into a new group created with FaceModelVersion ${to}`);
    }
    const jobsOfGroup = await this.jobs.jobsOfGroup(appId, groupId);
    if (jobsOfGroup.some((j) => j.status === JOB.running)) throw cannotUpgrade(`group "${groupId}" already has an upgrade job running`);
    await this.checkMembers(appId, groupId, to);
    const jobId = crypto.randomUUID();
    const now = this.ctx.clock.now();
    await this.jobs.insertJob({ app_id: appId, job_id: jobId, group_id: groupId, from_version: from, to_version: to, status: JOB.running, progress: 0, error: null, start_time: now, end_time: 0, lease_owner: this.lease.owner, lease_until: now + this.lease.ttlMs });
    this.launch(appId, jobId);
    return { JobId: jobId };
  }

  /** Every face needs a kept image, and no person may be in a group outside the upgrade. */
  private async checkMembers(appId: number, groupId: string, to: string) {
    const r = this.ctx.repo.reader(appId);
    const members = (await r.listMembers(groupId, 0, 10_000_000)).map((m) => m.person_id);
    for (let i = 0; i < members.length; i += 500) {
      const ids = members.slice(i, i + 500);
      const other = (await r.membershipsOf(ids)).find((m) => m.group_id !== groupId);
      if (other) throw cannotUpgrade(`person "${other.person_id}" is also in group "${other.group_id}", which would be left on the old model: remove it from one of the groups (or upgrade them one after the other after copying) before upgrading`);
    }
    const lacking = await this.facesWithoutImage(appId, members);
    if (lacking) throw cannotUpgrade(`${lacking} face(s) of group "${groupId}" have no kept enrolment image (persons copied in from a group that does not keep images): re-enrol them, or the persons into a new group created with FaceModelVersion ${to}`);
  }

  private async facesWithoutImage(appId: number, personIds: string[]): Promise<number> {
    let n = 0;
    const r = this.ctx.repo.reader(appId);
    for (const pid of personIds) n += (await r.faces(pid)).filter((f) => !f.image_key).length;
    return n;
  }

  /**
   * Takes over the jobs whose process died (their lease ran out), now and then every half
   * lease until stop(). Of several processes looking, one wins each job (a compare-and-set).
   */
  async resume(): Promise<void> {
    if (this.stopped) return;
    if (!this.takeoverTimer) {
      this.takeoverTimer = setInterval(() => { this.takeOver().catch((e: Error) => this.report(new Error(`taking over model upgrade jobs failed: ${e.message}`))); }, Math.max(500, Math.floor(this.lease.ttlMs / 2)));
      this.takeoverTimer.unref();
    }
    await this.takeOver();
  }

  /** Jobs this process took over; exposed for tests. */
  async takeOver(): Promise<number> {
    let n = 0;
    for (const j of await this.jobs.expired(this.ctx.clock.now())) {
      const appId = Number(j.app_id);
      if (this.running.has(`${appId}:${j.job_id}`)) continue;
      if (await this.jobs.claim(appId, j.job_id, this.lease.owner, this.ctx.clock.now(), this.lease.ttlMs)) { this.launch(appId, j.job_id); n++; }
    }
    return n;
  }

  /** Stops looking for jobs to take over and waits for this process's jobs to end or give up. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.takeoverTimer) clearInterval(this.takeoverTimer);
    this.takeoverTimer = null;
    await Promise.allSettled([...this.running.values()]);
  }

  /** Waits for a job of this process to end (tests, shutdown). */
  async settled(appId: number, jobId: string): Promise<void> {
    await this.running.get(`${appId}:${jobId}`);
  }

  private launch(appId: number, jobId: string) {
    const k = `${appId}:${jobId}`;
    if (this.running.has(k)) return;
    const p = this.run(appId, jobId).catch(async (e: Error) => {
      if (e instanceof LeaseLost) return; // another process runs it now
      this.report(new Error(`model upgrade job ${jobId} failed: ${e.message}`));
      await this.jobs.finish(appId, jobId, JOB.failed, this.ctx.clock.now(), e.message).catch(() => {});
    }).finally(() => this.running.delete(k));
    this.running.set(k, p);
  }

  private async run(appId: number, jobId: string): Promise<void> {
    const job = await this.jobs.getJob(appId, jobId);
    if (!job || job.status !== JOB.running) return;
    const what = `model upgrade job ${jobId}`;
    // Renewed on a timer as well as with progress: one face's re-embedding may take a while on a busy machine.
    let lost = false;
    const renew = async () => {
      if (lost || this.stopped || !(await this.jobs.claim(appId, jobId, this.lease.owner, this.ctx.clock.now(), this.lease.ttlMs))) { lost = true; throw new LeaseLost(what); }
    };
    const timer = setInterval(() => { renew().catch(() => {}); }, Math.max(200, Math.floor(this.lease.ttlMs / 3)));
    timer.unref();
    try {
      await renew();
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        await this.fill(appId, job.group_id, job.to_version, async (p) => { await renew(); await this.jobs.setProgress(appId, jobId, Math.min(99, p)); }, () => { if (lost || this.stopped) throw new LeaseLost(what); });
        const switched = await this.swap(appId, job.group_id, job.from_version, job.to_version, true, async (w) => {
          // Only the lease holder switches: a process that lost the job meanwhile rolls back.
          if (!(await this.jobs.finishIn(w, jobId, JOB.done, this.lease.owner))) throw new LeaseLost(what);
        });
        if (switched) return;
      }
    } finally {
      clearInterval(timer);
    }
    throw new Error(`faces kept being added to group "${job.group_id}" faster than they were re-embedded (${MAX_PASSES} passes)`);
  }

  /**
   * Computes `version` features for every face of the group that lacks one, from its kept image.
   * Each feature is written in its own library write, which first checks that the face still
   * exists (a face deleted meanwhile leaves nothing behind).
   */
  private async fill(appId: number, groupId: string, version: string, progress: (pct: number) => Promise<void>, check: () => void = () => {}) {
    const r = this.ctx.repo.reader(appId);
    const key = await this.ctx.crypto.dataKey(appId);
    const caller: Caller = { appId, uin: 'system', subUin: 'system' };
    const members = (await r.listMembers(groupId, 0, 10_000_000)).map((m) => m.person_id);
    const faces = [];
    for (const pid of members) faces.push(...(await r.faces(pid)));
    const have = await this.jobs.altFaceIds(appId, members, version);
    let done = 0;
    for (const f of faces) {
      check();
      if (!have.has(f.face_id)) {
        if (!f.image_key) throw new Error(`face ${f.face_id} has no kept enrolment image`);
        const image = await this.ctx.images!.get(key, appId, f.face_id, f.image_key);
        if (!image) throw new Error(`the kept enrolment image of face ${f.face_id} is missing from the object store`);
        const found = await this.ctx.faces.faces(caller, { Image: image.toString('base64') }, { maxFaces: 1, modelVersion: version });
        image.fill(0);
        const face = found.faces[0];
        if (!face) throw new Error(`model ${version} finds no face in the kept enrolment image of face ${f.face_id}`);
        const sealed = this.ctx.crypto.sealFace(key, appId, f.face_id, face.embedding);
        face.embedding.fill(0);
        await this.ctx.repo.write(appId, this.ctx.clock.now(), async (w) => {
          if ((await w.faces(f.person_id)).some((x) => x.face_id === f.face_id)) await new AltFeatures(w).put(f.person_id, f.face_id, version, sealed);
        });
      }
      done++;
      if (done % 20 === 0 || done === faces.length) await progress(Math.floor((done * 100) / faces.length));
    }
  }

  /**
   * One library write: every face of the group serves its `to` feature, persons get combined
   * features from them, and the group and its persons switch to `to`. With `keepOld`, the `from`
   * features are kept for a revert. Returns false (and writes nothing) when a face lacks its
   * `to` feature (added meanwhile): the caller fills again.
   */
  private async swap(appId: number, groupId: string, from: string, to: string, keepOld: boolean, also: (w: import('../../store/library/library-repo.ts').LibraryWriter) => Promise<void>): Promise<boolean> {
    const key = await this.ctx.crypto.dataKey(appId);
    const { result } = await this.ctx.repo.write(appId, this.ctx.clock.now(), async (w) => {
      const g = await w.getGroup(groupId);
      if (!g) throw new Error(`group "${groupId}" was deleted`);
      if (g.face_model_version !== from) throw new Error(`group "${groupId}" uses model ${g.face_model_version}, not ${from}`);
      const alt = new AltFeatures(w);
      const members = (await w.listMembers(groupId, 0, 10_000_000)).map((m) => m.person_id);
      const plan: { personId: string; faces: { faceId: string; cur: Buffer; next: Buffer }[] }[] = [];
      for (const pid of members) {
        const faces = [];
        for (const f of await w.faces(pid)) {
          const next = await alt.get(pid, f.face_id, to);
          if (!next) return false;
          faces.push({ faceId: f.face_id, cur: f.feature, next });
        }
        plan.push({ personId: pid, faces });
      }
      for (const p of plan) {
        const vs: Float32Array[] = [];
        for (const f of p.faces) {
          if (keepOld) await alt.put(p.personId, f.faceId, from, f.cur);
          await alt.setFaceFeature(f.faceId, f.next);
          await alt.drop(p.personId, f.faceId, to);
          vs.push(this.ctx.crypto.openFace(key, appId, f.faceId, f.next));
        }
        // Combined features are recomputed from the faces on both sides, so none is kept aside.
        const c = vs.length ? combine(vs) : null;
        for (const v of vs) v.fill(0);
        await alt.setPersonVersion(p.personId, to, c ? this.ctx.crypto.sealPerson(key, appId, p.personId, c) : null);
        c?.fill(0);
      }
      await alt.setGroupVersion(groupId, to);
      await also(w);
      return true;
    });
    await this.ctx.index.sync(appId);
    return result;
  }

  async result(caller: Caller, jobId: string) {
    const j = await this.jobs.getJob(caller.appId, jobId);
    if (!j) throw jobNotFound(jobId);
    return mapJobResult(j, this.ctx.clock.now());
  }

  async list(caller: Caller, offset: number, limit: number) {
    const rows = await this.jobs.listJobs(caller.appId, offset, limit);
    return {
      JobInfos: rows.map((j) => ({ JobId: j.job_id, GroupId: j.group_id, FromFaceModelVersion: j.from_version, ToFaceModelVersion: j.to_version, StartTime: Number(j.start_time), Status: j.status })),
      JobNum: await this.jobs.countJobs(caller.appId),
    };
  }

  /** Switches the group back to the job's old version (once per group); faces added since are re-embedded with it. */
  async revert(caller: Caller, jobId: string) {
    const appId = caller.appId;
    const j = await this.jobs.getJob(appId, jobId);
    if (!j) throw jobNotFound(jobId);
    const cannot = (msg: string) => new TcError('FailedOperation.JobCannnotRollback', msg);
    if (j.status !== JOB.done) throw cannot(`job "${jobId}" is ${['running', 'done', 'already rolled back', 'failed'][j.status]}; only a finished upgrade can be rolled back`);
    if ((await this.jobs.jobsOfGroup(appId, j.group_id)).some((x) => x.status === JOB.reverted)) throw cannot(`group "${j.group_id}" was already rolled back once; a group can be rolled back only once`);
    const g = await this.ctx.repo.reader(appId).getGroup(j.group_id);
    if (!g) throw groupNotFound(j.group_id);
    if (g.face_model_version !== j.to_version) throw cannot(`group "${j.group_id}" no longer uses model ${j.to_version}`);
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      try {
        await this.fill(appId, j.group_id, j.from_version, async () => {});
        if (await this.swap(appId, j.group_id, j.to_version, j.from_version, false, async (w) => { await this.jobs.finishIn(w, jobId, JOB.reverted); })) return {};
      } catch (e) {
        // A concurrent revert or deletion of the group got there first; nothing was switched.
        if (e instanceof TcError) throw e;
        throw cannot(`group "${j.group_id}" cannot be rolled back: ${(e as Error).message}`);
      }
    }
    throw cannot(`faces kept being added to group "${j.group_id}" during the rollback; retry`);
  }
}
