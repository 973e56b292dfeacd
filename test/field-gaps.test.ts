// Issue 14's field gaps, through the official SDK: NeedRotateDetection in the library actions,
// string FaceIds where the SDK types strings, and every field of the SDK's response types present
// in real responses (typed clients dereference them).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, errorCode, type TestServer } from './helpers/server.ts';
import { hasTestdata, testdataSkipReason, td, tdBase64 } from './helpers/testdata.ts';

let t: TestServer;
const OBAMA = () => tdBase64('faces', 'identities', 'obama', 'obama.jpg');
const OBAMA2 = () => tdBase64('faces', 'identities', 'obama', 'obama2.jpg');
const BIDEN = () => tdBase64('faces', 'identities', 'biden', 'biden.jpg');
const turned = async (parts: string[], deg: number) => (await sharp(fs.readFileSync(td(...parts))).rotate(deg).jpeg().toBuffer()).toString('base64');

describe.skipIf(!hasTestdata)(`field gaps${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  beforeAll(async () => { t = await startTestServer(); }, 120_000);
  afterAll(async () => { await t?.stop(); });

  it('NeedRotateDetection=1 enrols, adds, searches and verifies a photo turned by 90° (without it, no face)', async () => {
    const c = t.iai();
    const side = await turned(['faces', 'identities', 'obama', 'obama.jpg'], 90);
    const side2 = await turned(['faces', 'identities', 'obama', 'obama2.jpg'], 90);
    await c.CreateGroup({ GroupId: 'rot', GroupName: 'Rotated' });
    expect(await errorCode(c.CreatePerson({ GroupId: 'rot', PersonId: 'o', PersonName: 'O', Image: side }))).toBe('InvalidParameterValue.NoFaceInPhoto');
    const p = await c.CreatePerson({ GroupId: 'rot', PersonId: 'o', PersonName: 'O', Image: side, NeedRotateDetection: 1 });
    expect(typeof p.FaceId).toBe('string');
    const f = await c.CreateFace({ PersonId: 'o', Images: [side2], NeedRotateDetection: 1 });
    expect(f.RetCode).toEqual([0]);
    await c.CreatePerson({ GroupId: 'rot', PersonId: 'b', PersonName: 'B', Image: BIDEN() });
    for (const action of ['SearchFaces', 'SearchPersons'] as const) {
      expect(await errorCode(c[action]({ GroupIds: ['rot'], Image: side2 }))).toBe('InvalidParameterValue.NoFaceInPhoto');
      expect((await c[action]({ GroupIds: ['rot'], Image: side2, NeedRotateDetection: 1 })).Results[0].Candidates[0].PersonId).toBe('o');
    }
    for (const action of ['SearchFacesReturnsByGroup', 'SearchPersonsReturnsByGroup'] as const) {
      expect((await c[action]({ GroupIds: ['rot'], Image: side2, NeedRotateDetection: 1 })).ResultsReturnsByGroup[0].GroupCandidates[0].Candidates[0].PersonId).toBe('o');
    }
    expect((await c.VerifyFace({ PersonId: 'o', Image: side2, NeedRotateDetection: 1 })).IsMatch).toBe(true);
    expect((await c.VerifyPerson({ PersonId: 'o', Image: side2, NeedRotateDetection: 1 })).IsMatch).toBe(true);
    expect(await errorCode(c.VerifyFace({ PersonId: 'o', Image: side2 }))).toBe('InvalidParameterValue.NoFaceInPhoto');
  }, 120_000);
});
