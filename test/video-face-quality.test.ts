// The fused faces are encoded finer than the rest of the frame (libx264 regions of interest over
// the fused patches, FACE_QOFFSET): at crf 20 alone the encoder blurred the fused face enough to
// cost identity on the Hamilton clip (docs/PERFORMANCE.md, "2026-12-02 afternoon: video
// identity"). Checked on real frames: the writer's regions get a higher PSNR and the rest of the
// frame does not change; through fuseVideo (real fusion of a real user photo), the patch region of
// the result is closer to the lossless result with the offset than without it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason, td } from './helpers/testdata.ts';
import { HAMILTON } from './helpers/video-clip.ts';
import { tempDir } from './helpers/server.ts';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { FusionPool } from '../src/vision/fusion/pool.ts';
import { decodeFrames, fuseVideo, probeVideo, VideoWriter, type Track } from '../src/vision/video/index.ts';
import { FACE_QOFFSET } from '../src/vision/video/pipeline.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';
import type { Box, Face, RgbImage } from '../src/vision/types.ts';

const FIRST = 100, COUNT = 8;

describe.skipIf(!hasTestdata)(`video: fused faces encoded finer${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  const dir = tempDir('facevault-face-quality-');
  const frames: { rgb: Buffer; pts: bigint }[] = [];
  let inference: InferencePool;
  let face: Face;
  beforeAll(async () => {
    for (const f of decodeFrames(HAMILTON)) {
      if (f.index < FIRST) continue;
      if (f.index >= FIRST + COUNT) break;
      frames.push({ rgb: Buffer.from(f.rgb), pts: f.pts - (frames[0]?.pts ?? f.pts) });
    }
    inference = await InferencePool.start({ threads: 1 });
    const first: RgbImage = { width: 640, height: 360, data: frames[0].rgb };
    face = (await inference.analyze(first, { mesh: true, meshIris: false })).faces.reduce((a, b) => (b.box.width > a.box.width ? b : a));
  }, 120_000);
  afterAll(async () => { await inference?.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  /** PSNR (dB) of `file` against `ref` frames, inside `box` and outside it. */
  function psnr(file: string, ref: Buffer[], box: Box): { inside: number; outside: number } {
    let si = 0, ni = 0, so = 0, no = 0, k = 0;
    for (const d of decodeFrames(file)) {
      const r = ref[k++];
      for (let y = 0; y < d.height; y++) for (let x = 0; x < d.width; x++) {
        const inside = x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height;
        for (let c = 0; c < 3; c++) {
          const i = (y * d.width + x) * 3 + c, e = d.rgb[i] - r[i];
          if (inside) { si += e * e; ni++; } else { so += e * e; no++; }
        }
      }
    }
    expect(k).toBe(ref.length);
    const db = (s: number, n: number) => 10 * Math.log10((255 * 255 * n) / s);
    return { inside: db(si, ni), outside: db(so, no) };
  }

  it('the writer encodes its regions finer and leaves the rest of the frame as it was', () => {
    const enc = (q: number) => {
      const out = path.join(dir, `writer${q}.mp4`);
      const w = new VideoWriter(out, HAMILTON, 640, 360, { tags: {}, regionQOffset: q, maxAudioSec: 0 });
      for (const f of frames) w.write(f.rgb, f.pts, [face.box]);
      w.finish();
      return psnr(out, frames.map((f) => f.rgb), face.box);
    };
    const plain = enc(0), finer = enc(FACE_QOFFSET);
    console.log('PSNR face / rest, dB: plain', plain.inside.toFixed(2), plain.outside.toFixed(2), 'with the offset', finer.inside.toFixed(2), finer.outside.toFixed(2));
    expect(finer.inside).toBeGreaterThan(plain.inside + 2);
    expect(Math.abs(finer.outside - plain.outside)).toBeLessThan(0.5);
  });

  it('fuseVideo encodes the fused patch finer by default', async () => {
    const clip = path.join(dir, 'clip.mp4');
    const w = new VideoWriter(clip, HAMILTON, 640, 360, { tags: {}, crf: 0, maxAudioSec: 0 });
    for (const f of frames) w.write(f.rgb, f.pts);
    w.finish();
    const user = await decodeImage(fs.readFileSync(td('faces', 'identities', 'obama', 'obama.jpg')));
    const uFace = (await inference.analyze(user, { mesh: true, meshIris: false })).faces.reduce((a, b) => (b.box.width > a.box.width ? b : a));
    const mesh = Float32Array.from(meshArray(face.mesh!));
    const track: Track = { id: 0, bestBox: face.box, bestFrame: 0, embedding: null, points: frames.map((_, frame) => ({ frame, box: face.box, mesh, bridged: false })) };
    const run = async (name: string, o: { crf?: number; faceQOffset?: number }) => {
      const out = path.join(dir, `${name}.mp4`);
      const pool = new FusionPool(0);
      try {
        const r = await fuseVideo({ source: clip, output: out, info: probeVideo(clip), tracks: [track], faces: [{ trackId: 0, user: { width: user.width, height: user.height, data: user.data }, userMesh: meshArray(uFace.mesh!), profile: 0, appearance: 0 }], pool, mark: { kind: 'none' }, tags: {}, ...o });
        expect(r.fusedFrames).toBe(COUNT);
      } finally { await pool.close(); }
      return out;
    };
    // The fused frames as the engine made them (lossless), the reference for both encodes.
    const ref = [...decodeFrames(await run('lossless', { crf: 0 }))].map((f) => Buffer.from(f.rgb));
    const plain = psnr(await run('plain', { faceQOffset: 0 }), ref, face.box), byDefault = psnr(await run('default', {}), ref, face.box);
    console.log('fused face PSNR vs lossless, dB: without the offset', plain.inside.toFixed(2), 'default', byDefault.inside.toFixed(2));
    expect(byDefault.inside).toBeGreaterThan(plain.inside + 2);
  }, 180_000);
});
