// Kept enrolment images (KeepEnrolmentImages, a facevault extension on CreateGroup) and group
// model upgrades, through the official SDK. The second model set here ("3.1") is the default
// set's ONNX files registered under another version name: the test proves the mechanics
// (features re-computed from the kept images, versions switched, search after, revert), not a
// better model.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, tempDir, type TestServer } from './helpers/server.ts';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';
import { loadModelSets } from '../src/vision/model-set.ts';
import { ModelUpgradesRepo } from '../src/store/library/model-upgrades-repo.ts';

if (!hasTestdata) console.log(testdataSkipReason);
if (!PG_URL) console.log(pgSkipReason);
const backends: { name: string; env: Record<string, string>; opts: () => { pgSchema?: string } }[] = [
  { name: 'sqlite', env: {}, opts: () => ({}) },
  ...(PG_URL ? [{ name: 'postgres', env: { FACEVAULT_DATABASE_URL: PG_URL }, opts: () => ({ pgSchema: freshPgSchema() }) }] : []),
];
const file = (who: string, f: string) => td('faces', 'identities', who, f);
const b64 = (who: string, f: string) => fs.readFileSync(file(who, f)).toString('base64');

/** A model-set directory registering the default set's files under version "3.1". */
function secondModelSet(): string {
  const base = loadModelSets().get('3.0')!;
  const dir = tempDir('facevault-set31-');
  for (const m of Object.values(base.models)) fs.symlinkSync(path.join(base.dir, m.file), path.join(dir, m.file));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '3.1', description: 'test: the 3.0 files under another name', models: base.models }));
  return dir;
}

for (const b of backends) describe.skipIf(!hasTestdata)(`kept enrolment images and model upgrades (${b.name})`, () => {
  let t: TestServer;
  let c: any;
  let setDir = '';
  const blobRows = () => t.run.app.db.kysely.selectFrom('blobs').selectAll().where('data_class', '=', 'enrolment_image').execute();

  beforeAll(async () => {
    setDir = secondModelSet();
    t = await startTestServer({ ...b.env, FACEVAULT_MODEL_SETS: setDir }, b.opts());
    c = t.iai();
  }, 180_000);
  afterAll(async () => {
    await t?.stop();
    if (setDir) fs.rmSync(setDir, { recursive: true, force: true });
  });

  it('keeps no image by default', async () => {
    await c.CreateGroup({ GroupId: 'plain', GroupName: 'Plain' });
    await c.CreatePerson({ GroupId: 'plain', PersonId: 'p-obama', PersonName: 'Obama', Image: b64('obama', 'obama.jpg') });
    expect(await blobRows()).toHaveLength(0);
    expect(await t.run.app.blobs.list('library/')).toHaveLength(0);
  }, 60_000);

  it('keeps sealed images when the group opts in, and deletes them with face, person and group', async () => {
    expect(await errorCode(c.CreateGroup({ GroupId: 'bad', GroupName: 'Bad', KeepEnrolmentImages: 2 }))).toBe('InvalidParameterValue');
    await c.CreateGroup({ GroupId: 'kept', GroupName: 'Kept', KeepEnrolmentImages: 1 });
    const p = await c.CreatePerson({ GroupId: 'kept', PersonId: 'k-biden', PersonName: 'Biden', Image: b64('biden', 'biden.jpg') });
    const f = await c.CreateFace({ PersonId: 'k-biden', Images: [b64('biden', 'biden2.jpg')], FaceMatchThreshold: 0 });
    expect(f.SucFaceNum).toBe(1);
    const rows = await blobRows();
    expect(rows.map((r) => r.owner_ref).sort()).toEqual([p.FaceId, f.SucFaceIds[0]].sort());
    const jpeg = fs.readFileSync(file('biden', 'biden.jpg'));
    for (const r of rows) {
      const stored = (await t.run.app.blobs.get(r.key))!;
      // Not the JPEG, nor any 64-byte run of it.
      expect(stored.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))).toBe(false);
      expect(stored.includes(jpeg.subarray(1000, 1064))).toBe(false);
    }
    // Opens under the AppId's data key with the face's aad: it is the original image.
    const lib = t.run.app.library;
    const key = await lib.crypto.dataKey(Number(t.creds.AppId));
    const first = rows.find((r) => r.owner_ref === p.FaceId)!;
    expect(lib.crypto.openImage(key, Number(t.creds.AppId), p.FaceId, (await t.run.app.blobs.get(first.key))!).equals(jpeg)).toBe(true);

    await c.DeleteFace({ PersonId: 'k-biden', FaceIds: [f.SucFaceIds[0]] });
    expect((await blobRows()).map((r) => r.owner_ref)).toEqual([p.FaceId]);
    expect(await t.run.app.blobs.list('library/')).toEqual([first.key]);
    await c.DeletePerson({ PersonId: 'k-biden' });
    expect(await blobRows()).toHaveLength(0);
    expect(await t.run.app.blobs.list('library/')).toHaveLength(0);

    await c.CreatePerson({ GroupId: 'kept', PersonId: 'k-obama', PersonName: 'Obama', Image: b64('obama', 'obama.jpg') });
    await c.CreatePerson({ GroupId: 'kept', PersonId: 'k-biden2', PersonName: 'Biden', Image: b64('biden', 'biden.jpg') });
    expect(await blobRows()).toHaveLength(2);
    await c.DeletePersonFromGroup({ GroupId: 'kept', PersonId: 'k-biden2' });
    expect(await blobRows()).toHaveLength(1);
    await c.DeleteGroup({ GroupId: 'kept' });
    expect(await blobRows()).toHaveLength(0);
    expect(await t.run.app.blobs.list('library/')).toHaveLength(0);
  }, 120_000);

  it('leaves no image behind when the face row is refused', async () => {
    await c.CreateGroup({ GroupId: 'kept2', GroupName: 'Kept 2', KeepEnrolmentImages: 1 });
    // Two enrolments of one PersonId at once: both pass the early check while their faces are
    // computed, and the second transaction refuses the duplicate after its image was stored.
    const r = await Promise.allSettled([
      c.CreatePerson({ GroupId: 'kept2', PersonId: 'dup', PersonName: 'Dup', Image: b64('obama', 'obama.jpg') }),
      c.CreatePerson({ GroupId: 'kept2', PersonId: 'dup', PersonName: 'Dup', Image: b64('obama', 'obama1.jpg') }),
    ]);
    expect(r.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    const rows = await blobRows();
    expect(rows).toHaveLength(1);
    expect(await t.run.app.blobs.list('library/')).toEqual([rows[0].key]);
    await c.DeleteGroup({ GroupId: 'kept2' });
  }, 60_000);
  const featureRows = (personIds: string[]) => t.run.app.db.kysely.selectFrom('faces').select(['face_id', 'feature']).where('person_id', 'in', personIds).orderBy('face_id').execute();
  const altRows = () => t.run.app.db.kysely.selectFrom('face_alt_features').selectAll().execute();
  const appId = () => Number(t.creds.AppId);

  it('refuses upgrades it cannot do, with the reason', async () => {
    // 'plain' (from the first test) kept no images.
    const e = await c.UpgradeGroupFaceModelVersion({ GroupId: 'plain', FaceModelVersion: '3.1' }).catch((x: any) => x);
    expect(e.code).toBe('FailedOperation.GroupCannotUpgrade');
    expect(e.message).toMatch(/re-enrol/);
    expect(await errorCode(c.UpgradeGroupFaceModelVersion({ GroupId: 'plain', FaceModelVersion: '9.9' }))).toBe('InvalidParameterValue.FaceModelVersionIllegal');
    expect(await errorCode(c.UpgradeGroupFaceModelVersion({ GroupId: 'nope', FaceModelVersion: '3.1' }))).toBe('InvalidParameterValue.GroupIdNotExist');
    await c.CreateGroup({ GroupId: 'new', GroupName: 'New', FaceModelVersion: '3.1', KeepEnrolmentImages: 1 });
    const down = await c.UpgradeGroupFaceModelVersion({ GroupId: 'new', FaceModelVersion: '3.0' }).catch((x: any) => x);
    expect(down.code).toBe('FailedOperation.GroupCannotUpgrade');
    expect(down.message).toMatch(/downgrade/);
    expect(await errorCode(c.GetUpgradeGroupFaceModelVersionResult({ JobId: 'nope' }))).toBe('FailedOperation.UpgradeJobIdNotExist');
    expect(await errorCode(c.RevertGroupFaceModelVersion({ JobId: 'nope' }))).toBe('FailedOperation.UpgradeJobIdNotExist');
    expect(await altRows()).toHaveLength(0);
  }, 60_000);

  it('upgrades a group from its kept images, searches on the new version, reverts once', async () => {
    await c.CreateGroup({ GroupId: 'up', GroupName: 'Up', KeepEnrolmentImages: 1 });
    await c.CreatePerson({ GroupId: 'up', PersonId: 'u-obama', PersonName: 'Obama', Image: b64('obama', 'obama.jpg') });
    await c.CreateFace({ PersonId: 'u-obama', Images: [b64('obama', 'obama1.jpg')] });
    await c.CreatePerson({ GroupId: 'up', PersonId: 'u-biden', PersonName: 'Biden', Image: b64('biden', 'biden.jpg') });
    const before = await featureRows(['u-obama', 'u-biden']);
    expect(before).toHaveLength(3);

    const { JobId } = await c.UpgradeGroupFaceModelVersion({ GroupId: 'up', FaceModelVersion: '3.1' });
    expect(typeof JobId).toBe('string');
    await t.run.app.library.upgrades.settled(appId(), JobId);
    const r = await c.GetUpgradeGroupFaceModelVersionResult({ JobId });
    expect(r).toMatchObject({ Status: 1, Progress: 100, FromFaceModelVersion: '3.0', ToFaceModelVersion: '3.1', GroupId: 'up', EndTimestamp: 0 });
    expect(r.StartTime).toBeGreaterThan(0);
    const list = await c.GetUpgradeGroupFaceModelVersionJobList({ Limit: 10 });
    expect(list.JobNum).toBe(1);
    expect(list.JobInfos[0]).toMatchObject({ JobId, GroupId: 'up', FromFaceModelVersion: '3.0', ToFaceModelVersion: '3.1', Status: 1 });

    expect((await c.GetGroupInfo({ GroupId: 'up' })).FaceModelVersion).toBe('3.1');
    expect((await c.GetPersonGroupInfo({ PersonId: 'u-obama' })).FaceModelVersion).toBe('3.1');
    // The "3.1" set ran (its own workers) and every face now serves a newly sealed feature;
    // the 3.0 features are kept aside for a revert.
    expect(((t.run.app.vision as any).extraPools as Map<string, unknown>).has('3.1')).toBe(true);
    const after = await featureRows(['u-obama', 'u-biden']);
    for (let i = 0; i < 3; i++) expect(after[i].feature.equals(before[i].feature)).toBe(false);
    const alt = await altRows();
    expect(alt.map((a) => a.model_version)).toEqual(['3.0', '3.0', '3.0']);
    for (const b of before) expect(alt.find((a) => a.face_id === b.face_id)!.feature.equals(b.feature)).toBe(true);

    const s = await c.SearchFaces({ GroupIds: ['up'], Image: b64('obama', 'obama2.jpg') });
    expect(s.FaceModelVersion).toBe('3.1');
    expect(s.Results[0].Candidates[0].PersonId).toBe('u-obama');
    expect(await errorCode(c.SearchFaces({ GroupIds: ['up', 'plain'], Image: b64('obama', 'obama2.jpg') }))).toBe('FailedOperation.AcrossVersionsError');
    expect(await errorCode(c.UpgradeGroupFaceModelVersion({ GroupId: 'up', FaceModelVersion: '3.1' }))).toBe('FailedOperation.GroupCannotUpgrade');

    // A face added after the upgrade gets a 3.0 feature from its kept image on revert.
    // (No same-person threshold here: this checks the revert, not the calibration's Score 60.)
    expect((await c.CreateFace({ PersonId: 'u-biden', Images: [b64('biden', 'biden2.jpg')], FaceMatchThreshold: 0 })).SucFaceNum).toBe(1);
    await c.RevertGroupFaceModelVersion({ JobId });
    expect((await c.GetUpgradeGroupFaceModelVersionResult({ JobId })).Status).toBe(2);
    expect((await c.GetGroupInfo({ GroupId: 'up' })).FaceModelVersion).toBe('3.0');
    expect((await c.GetPersonGroupInfo({ PersonId: 'u-biden' })).FaceModelVersion).toBe('3.0');
    const reverted = await featureRows(['u-obama', 'u-biden']);
    expect(reverted).toHaveLength(4);
    for (const b of before) expect(reverted.find((x) => x.face_id === b.face_id)!.feature.equals(b.feature)).toBe(true);
    expect(await altRows()).toHaveLength(0);
    const s2 = await c.SearchPersons({ GroupIds: ['up'], Image: b64('biden', 'biden2.jpg') });
    expect(s2.Results[0].Candidates[0].PersonId).toBe('u-biden');
    expect(await errorCode(c.RevertGroupFaceModelVersion({ JobId }))).toBe('FailedOperation.JobCannnotRollback');
  }, 240_000);

  it('resumes a job left running by a previous process, and deleting persons drops their kept features', async () => {
    await c.CreateGroup({ GroupId: 'up2', GroupName: 'Up 2', KeepEnrolmentImages: 1 });
    await c.CreatePerson({ GroupId: 'up2', PersonId: 'r-obama', PersonName: 'Obama', Image: b64('obama', 'obama.jpg') });
    // A job row as a crashed process leaves it: running, nothing done yet.
    await new ModelUpgradesRepo(t.run.app.db).insertJob({ app_id: appId(), job_id: 'resumed', group_id: 'up2', from_version: '3.0', to_version: '3.1', status: 0, progress: 0, error: null, start_time: 1, end_time: 0 });
    await t.run.app.library.upgrades.resume();
    await t.run.app.library.upgrades.settled(appId(), 'resumed');
    expect((await c.GetUpgradeGroupFaceModelVersionResult({ JobId: 'resumed' })).Status).toBe(1);
    expect((await c.GetGroupInfo({ GroupId: 'up2' })).FaceModelVersion).toBe('3.1');
    expect(await altRows()).toHaveLength(1);
    await c.DeleteGroup({ GroupId: 'up2' });
    expect(await altRows()).toHaveLength(0);
    expect(await blobRows()).toHaveLength((await featureRows(['u-obama', 'u-biden'])).length);
  }, 120_000);
  it('the inactivity purge removes the kept images of the persons it deletes', async () => {
    const app = t.run.app;
    await c.CreateGroup({ GroupId: 'kept3', GroupName: 'Kept 3', KeepEnrolmentImages: 1 });
    const p = await c.CreatePerson({ GroupId: 'kept3', PersonId: 'idle', PersonName: 'Idle', Image: b64('obama', 'obama.jpg') });
    const key = (await blobRows()).find((r) => r.owner_ref === p.FaceId)!.key;
    await app.db.kysely.updateTable('persons').set({ last_used_at: 0 }).where('person_id', '=', 'idle').execute();
    await app.privacy.repo.savePolicy({ app_id: appId(), require_consent: 0, min_age: null, inactive_person_days: 1, updated_at: app.clock.now(), updated_by: 'test' });
    expect((await app.privacy.purgeRetiredPersons()).get(appId())).toBe(1);
    expect((await blobRows()).some((r) => r.owner_ref === p.FaceId)).toBe(false);
    expect(await app.blobs.exists(key)).toBe(false);
  }, 60_000);
  it('refuses groups holding persons of other groups or faces without a kept image', async () => {
    await c.CreateGroup({ GroupId: 'mix', GroupName: 'Mix', KeepEnrolmentImages: 1 });
    await c.CopyPerson({ PersonId: 'p-obama', GroupIds: ['mix'] }); // enrolled in 'plain', which keeps no images
    const shared = await c.UpgradeGroupFaceModelVersion({ GroupId: 'mix', FaceModelVersion: '3.1' }).catch((x: any) => x);
    expect(shared.code).toBe('FailedOperation.GroupCannotUpgrade');
    expect(shared.message).toMatch(/also in group "plain"/);
    await c.DeletePersonFromGroup({ GroupId: 'plain', PersonId: 'p-obama' });
    const bare = await c.UpgradeGroupFaceModelVersion({ GroupId: 'mix', FaceModelVersion: '3.1' }).catch((x: any) => x);
    expect(bare.code).toBe('FailedOperation.GroupCannotUpgrade');
    expect(bare.message).toMatch(/no kept enrolment image.*re-enrol/);
    expect((await c.GetGroupInfo({ GroupId: 'mix' })).FaceModelVersion).toBe('3.0');
  }, 60_000);
});
