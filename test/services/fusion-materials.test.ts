// FusionMaterials: activities and materials are found only under the AppId that owns them. Real
// fusion repository on SQLite and a local object store; a fake face finder (one face with a
// synthetic mesh) instead of the models.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../src/domain/call.ts';
import { FusionMaterials } from '../../src/services/fusion/fusion-materials.ts';
import type { FaceFinder } from '../../src/services/fusion/fusion-vision.ts';
import { FusionRepo } from '../../src/store/fusion/fusion-repo.ts';
import { decodeImage } from '../../src/vision/image-decode.ts';
import { MESH_POINTS } from '../../src/vision/fusion/geometry.ts';
import { code, openFixture, type Fixture } from './fixture.ts';

/** One 120x120 face in the middle of the image; the mesh is a circle of MESH_POINTS points. */
const finder: FaceFinder = {
  async analyze(input) {
    const image = await decodeImage(input as Uint8Array);
    const mesh = Array.from({ length: MESH_POINTS }, (_, i) => ({ x: 200 + 55 * Math.cos((2 * Math.PI * i) / MESH_POINTS), y: 200 + 55 * Math.sin((2 * Math.PI * i) / MESH_POINTS) }));
    const kps = [{ x: 180, y: 185 }, { x: 220, y: 185 }, { x: 200, y: 205 }, { x: 185, y: 225 }, { x: 215, y: 225 }];
    return { width: image.width, height: image.height, format: image.format, image, faces: [{ box: { x: 140, y: 140, width: 120, height: 120 }, score: 0.99, kps, mesh }] };
  },
};

describe('FusionMaterials keeps tenants apart', () => {
  let fx: Fixture;
  let M: FusionMaterials;
  let A: Caller, B: Caller;
  let activityId: string, materialId: string;

  beforeAll(async () => {
    fx = await openFixture();
    M = new FusionMaterials(new FusionRepo(fx.db), fx.blobs, fx.clock, finder, { draftQps: 5, publishedQps: 50, materialMaxSide: 4096, cacheBytes: 0 });
    A = await fx.tenant(11);
    B = await fx.tenant(22);
    const png = await sharp({ create: { width: 400, height: 400, channels: 3, background: { r: 200, g: 150, b: 120 } } }).png().toBuffer();
    activityId = (await M.createActivity(A, { name: 'A activity', published: true, profileDegree: 0, faceDegree: 0 })).activity_id;
    materialId = (await M.createMaterial(A, activityId, 'A material', png)).row.material_id;
  });
  afterAll(async () => fx?.close());

  it('the owner finds its activity and material (and can load the material for fusion)', async () => {
    expect((await M.activity(A, activityId)).name).toBe('A activity');
    expect((await M.listMaterials(A, activityId, materialId, 0, 10)).rows.map((r) => r.material_id)).toEqual([materialId]);
    const loaded = await M.load(A, activityId, materialId);
    expect(loaded.faces).toHaveLength(1);
    expect(loaded.image.width).toBe(400);
  });

  it('another AppId finds neither the activity nor the material, and cannot change or delete them', async () => {
    expect(await code(M.activity(B, activityId))).toBe('InvalidParameterValue.ActivityIdNotFound');
    expect((await M.listActivities(B, 0, 100)).total).toBe(0);
    expect(await code(M.listMaterials(B, activityId, null, 0, 10))).toBe('InvalidParameterValue.ActivityIdNotFound');
    expect(await code(M.load(B, activityId, materialId))).toBe('FailedOperation.FuseMaterialNotExist');
    expect(await code(M.modifyActivity(B, activityId, { name: 'taken' }))).toBe('InvalidParameterValue.ActivityIdNotFound');
    expect(await code(M.deleteMaterial(B, materialId))).toBe('InvalidParameterValue.MaterialIdNotFound');
    expect(await code(M.deleteActivity(B, activityId))).toBe('InvalidParameterValue.ActivityIdNotFound');
    // B's own activity cannot take A's material either.
    const own = (await M.createActivity(B, { name: 'B activity', published: false, profileDegree: 0, faceDegree: 0 })).activity_id;
    expect(await code(M.load(B, own, materialId))).toBe('FailedOperation.FuseMaterialNotExist');
    // Nothing of A changed.
    expect((await M.activity(A, activityId)).name).toBe('A activity');
    expect((await M.listMaterials(A, activityId, null, 0, 10)).total).toBe(1);
    expect(await fx.blobs.exists(`fusion/11/materials/${materialId}.png`)).toBe(true);
  });

  it('the owner deletes its activity with the material and its object', async () => {
    await M.deleteActivity(A, activityId);
    expect(await code(M.activity(A, activityId))).toBe('InvalidParameterValue.ActivityIdNotFound');
    expect(await fx.blobs.exists(`fusion/11/materials/${materialId}.png`)).toBe(false);
  });
});
