// 4:2:0 video (what every player decodes) needs an even width and height; libx264 refused a
// 853x480 or 641x361 frame ("width not divisible by 2"), so a template of odd size failed at the
// end of its job. The writer leaves the odd last column or row out (video/media.ts VideoWriter).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasTestdata, testdataSkipReason, TESTDATA } from './helpers/testdata.ts';
import { tempDir } from './helpers/server.ts';
import { decodeFrames, probeVideo, VideoWriter } from '../src/vision/video/index.ts';

describe.skipIf(!hasTestdata)(`video writer: odd sizes${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  const dir = tempDir('facevault-odd-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a 641x361 picture is written 640x360: the odd last column and row left out, the rest as it was', () => {
    const W = 641, H = 361, out = path.join(dir, 'odd.mp4');
    const src = path.join(TESTDATA, 'video', 'face_api_test_clip.mp4');
    const frame = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      // A smooth picture; the last column red, the last row blue.
      if (x === W - 1) frame.set([255, 0, 0], o); else if (y === H - 1) frame.set([0, 0, 255], o); else frame.set([(x * 255) / W, (y * 255) / H, 128], o);
    }
    const w = new VideoWriter(out, src, W, H, { tags: {}, crf: 0, preset: 'ultrafast', frameRate: { num: 25, den: 1 } });
    expect([w.encWidth, w.encHeight]).toEqual([640, 360]);
    for (let i = 0; i < 5; i++) w.write(frame, BigInt(i * 960));
    w.finish();
    expect(probeVideo(out)).toMatchObject({ width: 640, height: 360 });
    let n = 0, worst = 0;
    for (const f of decodeFrames(out)) {
      n++;
      for (let y = 0; y < 360; y++) for (let x = 0; x < 640; x++) {
        const o = (y * 640 + x) * 3, s = (y * W + x) * 3;
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(f.rgb[o + c] - frame[s + c]));
      }
    }
    expect(n).toBe(5);
    expect(worst).toBeLessThan(8); // lossless but for RGB ↔ YUV 4:2:0 rounding; the red column or blue row would be > 100
  });
});
