// The face tracker on synthetic detections: identities stay stable, a short miss is bridged
// (not a new face), a long one ends the track, and the One-Euro smoothing removes jitter
// without lagging behind real motion. Plus `facevault doctor`'s media line.
import { describe, expect, it } from 'vitest';
import { FaceTracker, pointAt, type FrameDetection } from '../src/vision/video/tracker.ts';
import { doctorReport } from '../src/cli/doctor.ts';
import { loadConfig } from '../src/config.ts';

/** A face box at (x, y) with a 468-point "mesh" on a grid inside it, plus optional noise. */
function det(x: number, y: number, size = 100, noise = 0, rnd = Math.random): FrameDetection {
  const mesh = new Float32Array(936);
  for (let i = 0; i < 468; i++) {
    mesh[2 * i] = x + (i % 22) * (size / 22) + (rnd() - 0.5) * 2 * noise;
    mesh[2 * i + 1] = y + Math.floor(i / 22) * (size / 22) + (rnd() - 0.5) * 2 * noise;
  }
  return { box: { x, y, width: size, height: size }, score: 0.9, mesh };
}

describe('face tracker', () => {
  it('keeps two faces apart with stable ids and bridges a 5-frame miss', () => {
    const t = new FaceTracker();
    for (let f = 0; f < 40; f++) {
      const dets = [det(50 + f, 50)];
      if (f < 10 || f >= 15) dets.push(det(400 - f, 60)); // the second face is missed in frames 10..14
      t.step(f, dets.reverse()); // order of detections must not matter
    }
    const tracks = t.finish(25);
    expect(tracks).toHaveLength(2);
    const right = tracks.find((x) => x.points[0].box.x > 300)!;
    expect(right.points).toHaveLength(40);
    expect(right.points.filter((p) => p.bridged).map((p) => p.frame)).toEqual([10, 11, 12, 13, 14]);
    // The bridged box lies between its neighbours.
    expect(pointAt(right, 12)!.box.x).toBeCloseTo(400 - 12, 0);
  });

  it('a miss longer than maxMiss starts a new face', () => {
    const t = new FaceTracker({ maxMiss: 3 });
    for (let f = 0; f < 30; f++) t.step(f, f >= 10 && f < 20 ? [] : [det(100, 100)]);
    expect(t.finish(25)).toHaveLength(2);
  });

  it('smoothing removes most of the jitter of a still face and follows a moving one', () => {
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const still = new FaceTracker();
    for (let f = 0; f < 50; f++) still.step(f, [det(100, 100, 100, 2, rnd)]);
    const sTrack = still.finish(25)[0];
    // Frame-to-frame motion of a point that should not move, before (noise ±2 px) and after.
    let after = 0;
    for (let f = 1; f < 50; f++) after += Math.abs(sTrack.points[f].mesh![0] - sTrack.points[f - 1].mesh![0]);
    after /= 49;
    expect(after).toBeLessThan(0.5); // raw noise moves ≈ 1.3 px a frame on average
    const moving = new FaceTracker();
    for (let f = 0; f < 50; f++) moving.step(f, [det(100 + 4 * f, 100)]);
    const m = moving.finish(25)[0];
    // No lag: mid-clip the smoothed point is within 1 px of the true one.
    expect(Math.abs(m.points[25].mesh![0] - (100 + 4 * 25))).toBeLessThan(1);
  });
});

describe('facevault doctor', () => {
  it('names the media library and its FFmpeg version', () => {
    const r = doctorReport(loadConfig({ FACEVAULT_DATA_DIR: '/nonexistent/facevault' }, 2));
    expect(r.media).toMatchObject({ library: 'node-av', version: expect.stringMatching(/^\d+\.\d+\.\d+$/), ffmpeg: expect.stringMatching(/^\d+\.\d+/) });
    expect(r.database).toMatch(/^SQLite .*facevault\.sqlite/);
  });
});
