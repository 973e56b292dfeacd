// The video pipeline's per-shot colour and per-region degree, end to end (decode → fuse → encode)
// on a clip made from one real frame of the Hamilton clip: two shots, the second much darker (a
// cut), and within each shot the exposure flickering by a few per cent. The fused face keeps one
// tone within a shot (its colour is matched once, at the shot's first fused frame) and changes at
// the cut; fused frame by frame (colour 'frame') it flickers with the exposure.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { HAMILTON } from './helpers/video-clip.ts';
import { tempDir } from './helpers/server.ts';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { FusionPool } from '../src/vision/fusion/pool.ts';
import { ring } from '../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../src/vision/fusion/raster.ts';
import { ShotCutDetector } from '../src/vision/video/shot-cut.ts';
import { decodeFrames, fuseVideo, probeVideo, VideoWriter, type Track } from '../src/vision/video/index.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';

// Exposure per frame: shot 1 (frames 0–3) around 1.5, shot 2 (4–7) around 0.95 (the template's face
// then stays within the colour transfer's ratio bounds for this user's brighter photo).
const EXPOSURE = [1.5, 1.56, 1.44, 1.54, 0.95, 0.99, 0.92, 0.98];

describe.skipIf(!hasTestdata)(`video per-shot colour${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  const dir = tempDir('facevault-shot-colour-');
  const clip = path.join(dir, 'clip.mp4');
  let inference: InferencePool;
  let mesh: Float64Array, face: Face, user: RgbImage, userMesh: Float64Array;
  beforeAll(async () => {
    inference = await InferencePool.start({ threads: 1 });
    let frame: RgbImage | undefined;
    for (const f of decodeFrames(HAMILTON)) if (f.index === 100) { frame = { width: f.width, height: f.height, data: Buffer.from(f.rgb) }; break; }
    const largest = (fs: Face[]) => fs.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
    face = largest((await inference.analyze(frame!, { mesh: true, meshIris: false })).faces);
    mesh = meshArray(face.mesh!);
    user = await decodeImage(fs.readFileSync(td('faces', 'identities', 'obama', 'obama.jpg')));
    userMesh = meshArray(largest((await inference.analyze(user, { mesh: true, meshIris: false })).faces).mesh!);
    const info = probeVideo(HAMILTON);
    const w = new VideoWriter(clip, HAMILTON, frame!.width, frame!.height, { tags: {}, maxAudioSec: EXPOSURE.length / info.fps, preset: 'ultrafast' });
    // pts in the source's time base, one source frame apart.
    const src = decodeFrames(HAMILTON);
    const dt = -src.next().value!.pts + src.next().value!.pts;
    src.return(undefined);
    let pts = 0n;
    for (const e of EXPOSURE) { w.write(Buffer.from(frame!.data.map((v) => Math.min(255, Math.round(v * e)))), pts); pts += dt; }
    w.finish();
  }, 120_000);
  afterAll(async () => { await inference?.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  function innerLum(file: string): number[] {
    const lum: number[] = [];
    let inner: Float32Array | undefined;
    for (const f of decodeFrames(file)) {
      inner ??= fillPolygon(ring(mesh, 0.55), f.width, f.height);
      let s = 0, n = 0;
      for (let p = 0; p < inner.length; p++) if (inner[p]) { s += 0.299 * f.rgb[p * 3] + 0.587 * f.rgb[p * 3 + 1] + 0.114 * f.rgb[p * 3 + 2]; n++; }
      lum.push(s / n);
    }
    return lum;
  }
  async function fused(colour: 'shot' | 'frame'): Promise<number[]> {
    const track: Track = {
      id: 0, bestBox: face.box, bestFrame: 0, embedding: null,
      points: EXPOSURE.map((_, frame) => ({ frame, box: face.box, mesh: Float32Array.from(mesh), bridged: false })),
    };
    const out = path.join(dir, `${colour}.mp4`);
    const pool = new FusionPool(0);
    const r = await fuseVideo({ source: clip, output: out, info: probeVideo(clip), tracks: [track], faces: [{ trackId: 0, user: { width: user.width, height: user.height, data: user.data }, userMesh, profile: 0, appearance: 0 }], pool, mark: { kind: 'none' }, tags: {}, colour, crf: 0 });
    await pool.close();
    expect(r.fusedFrames).toBe(EXPOSURE.length);
    // Mean luminance of the inner face of each result frame (encoded losslessly: at the default
    // quality the encoder itself flattens a few grey levels of flicker on a still picture).
    return innerLum(out);
  }
  const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

  it('colour is matched once per shot: constant within a shot, changed at the cut; per frame it flickers', async () => {
    // The premise: the clip has one cut, at frame 4.
    const cuts = new ShotCutDetector();
    expect([...decodeFrames(clip)].map((f) => cuts.push(f.rgb, f.width, f.height))).toEqual(EXPOSURE.map((_, i) => i === 4));
    const shot = await fused('shot'), frame = await fused('frame');
    console.log('inner-face luminance: template, colour per shot, colour per frame:', innerLum(clip).map((v) => v.toFixed(1)).join(' '), '/', shot.map((v) => v.toFixed(1)).join(' '), '/', frame.map((v) => v.toFixed(1)).join(' '));
    for (const [a, b] of [[0, 4], [4, 8]]) {
      // Per frame, the face follows the ± 4 % exposure (several grey levels) ...
      expect(spread(frame.slice(a, b))).toBeGreaterThan(0.04 * mean(frame.slice(a, b)));
      // ... matched per shot it holds within a fraction of that (the encoder's noise).
      expect(spread(shot.slice(a, b))).toBeLessThan(0.3 * spread(frame.slice(a, b)));
    }
    // At the cut the face takes the new shot's tone.
    expect(mean(shot.slice(4))).toBeLessThan(0.8 * mean(shot.slice(0, 4)));
  }, 120_000);
});
