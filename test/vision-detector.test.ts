// Detector precision and recall regressions (issue 11, bench/detector.ts for the full
// measurement): a single-person photo gives exactly one face at full size and upscaled to 4000 px,
// a group photo finds at least as many faces at MinFaceSize 20 as at 34 (20 reaches further, never
// less), and at MinFaceSize 34 a face just above 34 px is found (the finest tile level).
import fs from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { FaceAnalyzer } from '../src/vision/face-analyzer.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import type { Box, RgbImage } from '../src/vision/types.ts';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';
import truth from '../bench/detector-truth.json' with { type: 'json' };

async function load(file: string, longEdge?: number, scale?: number): Promise<RgbImage> {
  const img = await decodeImage(fs.readFileSync(td(file)));
  if (!longEdge && !scale) return img;
  const k = scale ?? longEdge! / Math.max(img.width, img.height);
  const width = Math.round(img.width * k), height = Math.round(img.height * k);
  const { data } = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).resize(width, height, { kernel: 'lanczos3' }).raw().toBuffer({ resolveWithObject: true });
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) } as RgbImage;
}

if (!hasTestdata) describe('detector precision and recall', () => it.skip(testdataSkipReason, () => {}));

// Chosen for size (the largest photos after the linda portrait above) and variety, not for how
// they fared; bench/detector.ts --all covers every single-person photo.
const PORTRAITS_4000 = ['faces/crowds/person-nicole.jpg', 'faces/identities/alex_lacamoire/img2.jpg', 'faces/identities/biden/biden.jpg'];

describe.skipIf(!hasTestdata)('detector precision', () => {
  let an: FaceAnalyzer;
  beforeAll(async () => { an = await FaceAnalyzer.load({ tasks: [] }); }, 60_000);

  // person-linda.jpg: the lace top got a 0.999 box at the finest tile (before the coarse second
  // look: a real face is still found when the window is 8 face widths; a texture is not).
  it('a portrait yields exactly one face at full size (MinFaceSize 20) and at 4000 px (34)', async () => {
    const full = await an.analyze(await load('faces/crowds/person-linda.jpg'), { minFaceSize: 20 });
    expect(full.faces.length).toBe(1);
    const big = await an.analyze(await load('faces/crowds/person-linda.jpg', 4000), { minFaceSize: 34 });
    expect(big.faces.length).toBe(1);
    // The one face is the face (the head, top quarter of the photo), not the shirt.
    expect(big.faces[0].box.y + big.faces[0].box.height / 2).toBeLessThan(big.height * 0.25);
  }, 120_000);

  it('a group photo: the counted faces at 34, no fewer at 20, no false box on the hands (bbt1)', async () => {
    const img = await load('faces/groups/bbt1.jpg');
    const at34 = await an.analyze(img, { minFaceSize: 34 });
    const at20 = await an.analyze(img, { minFaceSize: 20 });
    expect(at34.faces.length).toBe(4);
    expect(at20.faces.length).toBeGreaterThanOrEqual(at34.faces.length);
    expect(at20.faces.length).toBe(4);
  }, 120_000);

  // crowds/group-1 shrunk to 0.405 and 0.45 of its size: 8 faces of 36-45 px (truth widths by
  // eye, bench/detector-truth.json). With the finest tile putting a 34 px face at 16 px of the
  // detector's input, 5 of the 8 were found; the finer level (24 px) finds all 8. Every box
  // returned must be a counted face (or the optional one).
  it('MinFaceSize 34 finds faces just above 34 px (a group photo shrunk so faces are 36-45 px)', async () => {
    const t = (truth.photos as Record<string, { faces: { x: number; y: number; w: number }[]; optional?: { x: number; y: number; w: number }[] }>)['crowds/group-1.jpg'];
    let wanted = 0, found = 0;
    for (const k of [0.405, 0.45]) {
      const r = await an.analyze(await load('faces/crowds/group-1.jpg', undefined, k), { minFaceSize: 34 });
      const near = (b: Box, f: { x: number; y: number; w: number }) =>
        Math.hypot(b.x + b.width / 2 - f.x * k, b.y + b.height / 2 - f.y * k) <= (f.w * k) / 2;
      for (const f of t.faces.filter((f) => f.w * k >= 36 && f.w * k <= 45)) {
        wanted++;
        if (r.faces.some((d) => near(d.box, f))) found++;
      }
      for (const d of r.faces) expect([...t.faces, ...(t.optional ?? [])].some((f) => near(d.box, f))).toBe(true);
      for (const d of r.faces) expect(d.box.width).toBeGreaterThanOrEqual(34);
    }
    expect(wanted).toBe(8);
    expect(found).toBe(8);
  }, 240_000);

  // Large single-person photos upscaled to 4000 px long edge: the fine tiles blow textures (hair,
  // lace, a shirt's print, hands) up to face size, and each must still give exactly one face.
  it.each(PORTRAITS_4000)('no false box on %s upscaled to 4000 px (MinFaceSize 20 and 34)', async (file) => {
    const img = await load(file, 4000);
    for (const minFaceSize of [20, 34]) {
      const r = await an.analyze(img, { minFaceSize });
      expect(r.faces.length, `${file} at MinFaceSize ${minFaceSize}`).toBe(1);
    }
  }, 600_000);

  // A face that fills the frame (a tight crop: an ID photo, a 150-px template, a fused result) is
  // larger than what the whole-frame pass finds, and the coarse second look sees only a cut-off
  // face in zero padding. Each identity's first photo cropped to 0.75 of its face box: before the
  // zoomed-out pass, 16-20 of 58 such crops (0.7) gave a face; every one must, on both paths.
  it('a face that fills the frame is found (crops of 0.75 of the face box), one-face and every-face paths', async () => {
    const people = fs.readdirSync(td('faces/identities')).sort();
    let n = 0;
    for (const person of people) {
      const first = fs.readdirSync(td(`faces/identities/${person}`)).filter((f) => !/obama-|small/.test(f)).sort()[0];
      const img = await load(`faces/identities/${person}/${first}`);
      const d = (await an.analyze(img, { singleFace: true })).faces[0];
      expect(d, `${person}/${first} at full size`).toBeDefined();
      const s = Math.max(d.box.width, d.box.height) * 0.75, cx = d.box.x + d.box.width / 2, cy = d.box.y + d.box.height / 2;
      const x0 = Math.max(0, Math.round(cx - s / 2)), y0 = Math.max(0, Math.round(cy - s / 2));
      const width = Math.min(img.width, Math.round(cx + s / 2)) - x0, height = Math.min(img.height, Math.round(cy + s / 2)) - y0;
      const { data } = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } }).extract({ left: x0, top: y0, width, height }).raw().toBuffer({ resolveWithObject: true });
      const crop = { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) } as RgbImage;
      for (const singleFace of [true, false]) {
        const r = await an.analyze(crop, { singleFace });
        expect(r.faces.length, `${person}/${first} cropped to ${width}x${height}, singleFace ${singleFace}`).toBe(1);
        expect(r.faces[0].box.width).toBeGreaterThan(0.75 * width);
      }
      n++;
    }
    expect(n).toBe(people.length);
  }, 240_000);
});

// The zoomed-out pass runs on every frame without a sure face: degenerate frames (1 px, a thin
// strip either way, flat or noise) must give no face and no error on both paths.
describe('detector on degenerate frames', () => {
  it('1×1, 2×600, 600×2, flat and noise: no face, no throw', async () => {
    const { FaceDetector } = await import('../src/vision/detector.ts');
    const { DEFAULT_MODEL_VERSION, loadModelSets } = await import('../src/vision/model-set.ts');
    const set = loadModelSets().get(DEFAULT_MODEL_VERSION)!;
    const det = await FaceDetector.load(set.models.detect, set.path('detect'));
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    for (const [width, height] of [[1, 1], [2, 600], [600, 2], [300, 300]]) {
      for (const fill of ['flat', 'noise'] as const) {
        const data = new Uint8Array(width * height * 3);
        for (let i = 0; i < data.length; i++) data[i] = fill === 'flat' ? 128 : rnd();
        for (const single of [true, false]) expect(await det.detect({ width, height, data } as RgbImage, { single })).toEqual([]);
      }
    }
  }, 60_000);
});
