// enrichPick: the optional tasks run on the one face a caller will use (fusion meshes only the
// user's chosen face), and that face is the one face-pick.ts picks from the full detection.
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FaceAnalyzer } from '../src/vision/face-analyzer.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { largestFace, pickFace } from '../src/vision/face-pick.ts';
import type { RgbImage } from '../src/vision/types.ts';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';

describe.skipIf(!hasTestdata)(`enrichPick (${hasTestdata ? 'group photo' : testdataSkipReason})`, () => {
  let analyzer: FaceAnalyzer;
  let img: RgbImage;
  beforeAll(async () => {
    analyzer = await FaceAnalyzer.load();
    img = await decodeImage(fs.readFileSync(td('faces', 'groups', 'bbt1.jpg')));
  }, 120_000);

  it('meshes only the largest face when no rectangle is given, the same face as a full analysis picks', async () => {
    const all = await analyzer.analyze(img, { mesh: true });
    expect(all.faces.length).toBeGreaterThan(1);
    expect(all.faces.every((f) => f.mesh)).toBe(true);
    const one = await analyzer.analyze(img, { mesh: true, enrichPick: {} });
    expect(one.faces.map((f) => f.box)).toEqual(all.faces.map((f) => f.box));
    const meshed = one.faces.filter((f) => f.mesh);
    expect(meshed).toHaveLength(1);
    expect(meshed[0].box).toEqual(largestFace(all.faces)!.box);
    expect(meshed[0].mesh).toEqual(largestFace(all.faces)!.mesh);
  }, 60_000);

  it('meshes the face a rectangle points at, without iris points when asked, the 468 unchanged', async () => {
    const all = await analyzer.analyze(img, { mesh: true });
    const target = [...all.faces].sort((a, b) => a.box.width * a.box.height - b.box.width * b.box.height)[0]; // the smallest
    const rect = { x: target.box.x - 4, y: target.box.y - 4, width: target.box.width + 8, height: target.box.height + 8 };
    expect(pickFace(all.faces, { rect })).toBe(target);
    const r = await analyzer.analyze(img, { mesh: true, meshIris: false, enrichPick: { rect } });
    const meshed = r.faces.filter((f) => f.mesh);
    expect(meshed).toHaveLength(1);
    expect(meshed[0].box).toEqual(target.box);
    expect(target.mesh).toHaveLength(478);
    expect(meshed[0].mesh).toHaveLength(468);
    expect(meshed[0].mesh).toEqual(target.mesh!.slice(0, 468));
  }, 60_000);

  it('meshes nothing when the rectangle points at no face', async () => {
    const r = await analyzer.analyze(img, { mesh: true, enrichPick: { rect: { x: 0, y: 0, width: 5, height: 5 } } });
    expect(r.faces.length).toBeGreaterThan(0);
    expect(r.faces.some((f) => f.mesh)).toBe(false);
  }, 60_000);
});
