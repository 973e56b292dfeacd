// Operator anti-spoofing model (FACEVAULT_LIVENESS_MODEL): a MiniFASNet-shaped ONNX model built
// by the test (test/helpers/tiny-onnx.ts: logits = 0.1 x mean of R, G, B planes -> spoof-print,
// live, spoof-replay) is loaded from a manifest directory and answers by the colour of the crop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AntiSpoofConfigError, AntiSpoofModel } from '../src/vision/attributes/anti-spoof.ts';
import { FaceAnalyzer } from '../src/vision/face-analyzer.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import type { RgbImage } from '../src/vision/types.ts';
import { meanLinearOnnx } from './helpers/tiny-onnx.ts';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fv-antispoof-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function modelDir(manifest: Record<string, unknown>, model = meanLinearOnnx()): string {
  const dir = fs.mkdtempSync(path.join(root, 'm-'));
  fs.writeFileSync(path.join(dir, 'model.onnx'), model);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

function solid(r: number, g: number, b: number, w = 200, h = 200): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set([r, g, b], i * 3);
  return { width: w, height: h, data } as RgbImage;
}

describe('operator anti-spoofing model', () => {
  const box = { x: 80, y: 80, width: 40, height: 40 };

  it('scores P(live) from the logits: green crop live, red or blue crop spoof', async () => {
    const m = AntiSpoofModel.fromDir(modelDir({ file: 'model.onnx' }));
    expect(await m.score(solid(0, 200, 0), box)).toBeGreaterThan(0.99);
    expect(await m.score(solid(200, 0, 0), box)).toBeLessThan(0.01);
    expect(await m.score(solid(0, 0, 200), box)).toBeLessThan(0.01);
    // Grey: all logits equal, P(live) = 1/3.
    expect(await m.score(solid(90, 90, 90), box)).toBeCloseTo(1 / 3, 3);
  });

  it('honours channels and liveIndex from the manifest', async () => {
    // Read as RGB, the planes come R, G, B: W's "class 0" row now takes the B plane.
    const rgb = AntiSpoofModel.fromDir(modelDir({ channels: 'RGB', liveIndex: 0 }));
    expect(await rgb.score(solid(0, 0, 200), box)).toBeGreaterThan(0.99);
    expect(await rgb.score(solid(200, 0, 0), box)).toBeLessThan(0.01);
  });

  it('refuses a broken manifest with a message naming the problem', () => {
    expect(() => AntiSpoofModel.fromDir(modelDir({ file: 'absent.onnx' }))).toThrow(/absent\.onnx is missing/);
    expect(() => AntiSpoofModel.fromDir(modelDir({ size: 3 }))).toThrow(AntiSpoofConfigError);
    expect(() => AntiSpoofModel.fromDir(path.join(root, 'nowhere'))).toThrow(AntiSpoofConfigError);
  });

  it.skipIf(!hasTestdata)('runs inside FaceAnalyzer on the detected face when liveness is asked for ' + (hasTestdata ? '' : testdataSkipReason), async () => {
    const dir = modelDir({});
    const an = await FaceAnalyzer.load({ tasks: [], livenessModelDir: dir });
    const img = await decodeImage(fs.readFileSync(td('faces/expressions/happy.jpg')));
    const r = await an.analyze(img, { liveness: true, maxFaces: 1, singleFace: true });
    const p = r.faces[0].attributes?.antiSpoofLive;
    expect(p).toBeGreaterThan(0);
    // The same value the model gives for that face's box directly (same crop, same model).
    expect(p).toBeCloseTo(await AntiSpoofModel.fromDir(dir).score(img, r.faces[0].box), 6);
    const none = await an.analyze(img, { maxFaces: 1, singleFace: true });
    expect(none.faces[0].attributes?.antiSpoofLive).toBeUndefined();
  }, 60_000);
});
