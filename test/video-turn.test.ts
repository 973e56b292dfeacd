// A phone's portrait video is stored as landscape frames with a display matrix saying how to turn
// them. The frames are decoded turned as they are shown (video/turn.ts): the probe reports the
// shown size, the tracker finds the upright face and the result is written upright. Before, the
// frames were used as stored: the face lay on its side, and the result played sideways.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { HAMILTON } from './helpers/video-clip.ts';
import { tempDir } from './helpers/server.ts';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { FusionPool } from '../src/vision/fusion/pool.ts';
import { decodeFrames, fuseVideo, probeVideo, trackVideo, VideoWriter } from '../src/vision/video/index.ts';
import { matrixOfTurn, turnOfMatrix, turnRgb } from '../src/vision/video/turn.ts';
import { frameDetector } from '../src/services/video/video-vision.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';

describe('turning frames by the display matrix', () => {
  const w = 5, h = 3, img = Uint8Array.from({ length: w * h * 3 }, (_, i) => i);
  const px = (t: { rgb: Uint8Array; width: number }, x: number, y: number) => Array.from(t.rgb.subarray((y * t.width + x) * 3, (y * t.width + x) * 3 + 3));

  it('turns clockwise: the top-left pixel goes to the top right; four turns are none', () => {
    const t = turnRgb(img, w, h, 90);
    expect([t.width, t.height]).toEqual([3, 5]);
    expect(px(t, 2, 0)).toEqual(px({ rgb: img, width: w }, 0, 0));
    expect(px(t, 0, 0)).toEqual(px({ rgb: img, width: w }, 0, 2)); // the bottom-left comes to the top-left
    let r: { rgb: Buffer; width: number; height: number } = { rgb: Buffer.from(img), width: w, height: h };
    for (let k = 0; k < 4; k++) r = turnRgb(r.rgb, r.width, r.height, 90);
    expect(Array.from(r.rgb)).toEqual(Array.from(img));
    const a = turnRgb(img, w, h, 270), b = turnRgb(a.rgb, a.width, a.height, 90);
    expect(Array.from(b.rgb)).toEqual(Array.from(img));
    const c = turnRgb(img, w, h, 180);
    expect(px(c, 0, 0)).toEqual(px({ rgb: img, width: w }, w - 1, h - 1));
  });

  it('reads the turn of a display matrix as FFmpeg\'s tools do; a mirror or an odd angle is none', () => {
    for (const d of [0, 90, 180, 270]) expect(turnOfMatrix(matrixOfTurn(d))).toBe(d);
    expect(turnOfMatrix(null)).toBe(0);
    expect(turnOfMatrix(matrixOfTurn(30))).toBe(0);
    const mirror = matrixOfTurn(0);
    mirror.writeInt32LE(-65536, 0);
    expect(turnOfMatrix(mirror)).toBe(0);
  });
});

const FIRST = 100, COUNT = 12;

describe.skipIf(!hasTestdata)(`video: a phone's portrait video (display matrix)${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  const dir = tempDir('facevault-turn-');
  const clip = path.join(dir, 'phone.mp4');
  const upright: Buffer[] = [];
  let inference: InferencePool;
  beforeAll(async () => {
    inference = await InferencePool.start({ threads: 1 });
    // Stored turned a quarter counter-clockwise (360x640), with a matrix saying "turn 90° clockwise to show".
    const w = new VideoWriter(clip, HAMILTON, 360, 640, { tags: {}, crf: 0, maxAudioSec: 0, preset: 'ultrafast', displayTurn: 90 });
    let pts0: bigint | null = null;
    for (const f of decodeFrames(HAMILTON)) {
      if (f.index < FIRST) continue;
      if (f.index >= FIRST + COUNT) break;
      pts0 ??= f.pts;
      upright.push(Buffer.from(f.rgb));
      w.write(turnRgb(f.rgb, f.width, f.height, 270).rgb, f.pts - pts0);
    }
    w.finish();
  }, 120_000);
  afterAll(async () => { await inference?.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  it('the probe gives the shown size and the frames come upright', () => {
    expect(probeVideo(clip)).toMatchObject({ width: 640, height: 360, turn: 90 });
    let k = 0, diff = 0;
    for (const f of decodeFrames(clip)) {
      expect([f.width, f.height]).toEqual([640, 360]);
      for (let i = 0; i < f.rgb.length; i += 7) diff += Math.abs(f.rgb[i] - upright[k][i]);
      k++;
    }
    expect(k).toBe(COUNT);
    expect(diff / ((COUNT * 640 * 360 * 3) / 7)).toBeLessThan(2); // lossless but for RGB ↔ YUV rounding
  });

  it('the face is tracked upright and fused; the result is upright, as the video is shown', async () => {
    const info = probeVideo(clip);
    const tr = await trackVideo(clip, info, frameDetector(inference));
    const tracks = tr.tracks.filter((t) => t.points.some((p) => p.mesh));
    expect(tracks.length).toBeGreaterThan(0);
    const main = tracks.reduce((a, b) => (b.points.length > a.points.length ? b : a));
    // Upright: the face box is taller than wide at most, and where the upright clip has it.
    const box = main.points[0].box;
    expect(box.x + box.width).toBeLessThanOrEqual(640);
    expect(box.y + box.height).toBeLessThanOrEqual(360 + 1);
    const user = await decodeImage(fs.readFileSync(td('faces', 'identities', 'obama', 'obama.jpg')));
    const uFace = (await inference.analyze(user, { mesh: true, meshIris: false })).faces.reduce((a, b) => (b.box.width > a.box.width ? b : a));
    const out = path.join(dir, 'out.mp4');
    const pool = new FusionPool(0);
    try {
      const r = await fuseVideo({ source: clip, output: out, info, tracks, picture: tr.picture, faces: [{ trackId: main.id, user: { width: user.width, height: user.height, data: user.data }, userMesh: meshArray(uFace.mesh!), profile: 0, appearance: 0 }], pool, mark: { kind: 'none' }, tags: {} });
      expect(r.fusedFrames).toBeGreaterThan(COUNT / 2);
    } finally { await pool.close(); }
    const o = probeVideo(out);
    expect(o).toMatchObject({ width: 640, height: 360, turn: 0 });
    // The face changed in place and the rest did not (upright coordinates).
    const f = [...decodeFrames(out)][COUNT >> 1], u = upright[COUNT >> 1], b = main.points[COUNT >> 1].box;
    let inFace = 0, nIn = 0, rest = 0, nRest = 0;
    for (let y = 0; y < 360; y += 2) for (let x = 0; x < 640; x += 2) {
      const i = (y * 640 + x) * 3, d = Math.abs(f.rgb[i] - u[i]) + Math.abs(f.rgb[i + 1] - u[i + 1]) + Math.abs(f.rgb[i + 2] - u[i + 2]);
      const inside = x > b.x + b.width * 0.25 && x < b.x + b.width * 0.75 && y > b.y + b.height * 0.3 && y < b.y + b.height * 0.8;
      const far = x < b.x - b.width || x > b.x + 2 * b.width;
      if (inside) { inFace += d; nIn++; } else if (far) { rest += d; nRest++; }
    }
    expect(inFace / nIn).toBeGreaterThan(4 * (rest / nRest) + 5);
  }, 300_000);
});
