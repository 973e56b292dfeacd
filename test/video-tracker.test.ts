// The face tracker on synthetic detections: identities stay stable, a short miss is bridged
// (not a new face), a long one ends the track, and the One-Euro smoothing removes jitter
// without lagging behind real motion. Plus `facevault doctor`'s media line.
import { describe, expect, it } from 'vitest';
import { FaceTracker, pointAt, type FrameDetection } from '../src/vision/video/tracker.ts';
import { ShotCutDetector } from '../src/vision/video/shot-cut.ts';
import { fusedFrames } from '../src/vision/video/face-usable.ts';
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

/** A unit embedding pointing mostly along axis `k` (a person). */
function emb(k: number, n = 8): Float32Array {
  const e = new Float32Array(n).fill(0.1);
  e[k] = 1;
  let s = 0; for (const v of e) s += v * v;
  return e.map((v) => v / Math.sqrt(s));
}

describe('face tracker at shot cuts', () => {
  it('a face at the same place after a cut is someone else unless the embeddings match; nothing is bridged across the cut', () => {
    const t = new FaceTracker();
    // Shot 1 (0..19): A at (100,100). Shot 2 (20..39): B at the same place. Shot 3 (40..59): A again, elsewhere.
    for (let f = 0; f < 60; f++) {
      const who = f < 20 ? 0 : f < 40 ? 1 : 0;
      const d = det(f < 40 ? 100 : 300, 100);
      if (f % 10 === 0) d.embedding = emb(who);
      // A 3-frame miss right before the second cut: within maxMiss, yet not bridged across the cut.
      t.step(f, f >= 37 && f < 40 ? [] : [d], f === 20 || f === 40);
    }
    const tracks = t.finish(25);
    expect(tracks).toHaveLength(2);
    const a = tracks.find((x) => x.points[0].frame === 0)!, b = tracks.find((x) => x.points[0].frame === 20)!;
    expect(a.points.map((p) => p.frame)).toEqual([...Array(20).keys(), ...Array.from({ length: 20 }, (_, i) => 40 + i)]);
    expect(b.points.map((p) => p.frame)).toEqual(Array.from({ length: 17 }, (_, i) => 20 + i));
    expect(a.points.some((p) => p.bridged) || b.points.some((p) => p.bridged)).toBe(false);
    expect(pointAt(a, 45)!.box.x).toBe(300);
    expect(pointAt(a, 30)).toBeUndefined();
  });

  it('without a cut the same detections continue one track (the cut is what splits them); a face never embedded is not re-identified', () => {
    const t = new FaceTracker();
    for (let f = 0; f < 40; f++) t.step(f, [det(100, 100)]);
    expect(t.finish(25)).toHaveLength(1);
    const u = new FaceTracker();
    for (let f = 0; f < 40; f++) { const d = det(100, 100); if (f >= 20 && f % 10 === 0) d.embedding = emb(0); u.step(f, [d], f === 20); }
    expect(u.finish(25)).toHaveLength(2);
  });

  it('shot cuts by histogram: a scene change is a cut, motion and slow light changes are not', () => {
    const W = 64, H = 48;
    const frame = (fn: (x: number, y: number) => [number, number, number]) => {
      const b = new Uint8Array(W * H * 3);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) b.set(fn(x, y), (y * W + x) * 3);
      return b;
    };
    const d = new ShotCutDetector();
    const out: boolean[] = [];
    // A bright square moving over a dark background, the light dimming slowly, then a cut to a green scene.
    for (let f = 0; f < 30; f++) out.push(d.push(frame((x, y) => (x >= f && x < f + 16 && y > 10 && y < 26 ? [220 - f, 200 - f, 180 - f] : [30, 30 + (f >> 2), 40])), W, H));
    for (let f = 0; f < 10; f++) out.push(d.push(frame((x) => [20, 140 + (x >> 3), 60]), W, H));
    expect(out.map((c, i) => (c ? i : -1)).filter((i) => i >= 0)).toEqual([30]);
  });
});

describe('which frames are fused', () => {
  // 'F' a usable face (100 px), 's' too small (20 px), '-' no mesh; a gap in the frame numbers after '|'.
  const track = (pattern: string) => {
    const points: { frame: number; box: { x: number; y: number; width: number; height: number }; mesh: Float32Array | null }[] = [];
    let frame = 0;
    for (const c of pattern) {
      if (c === '|') { frame += 10; continue; }
      const d = det(100, 100, c === 's' ? 20 : 100);
      // A frontal face for the head-turn rule: the nose tip (1) half-way between the cheeks (234, 454).
      d.mesh![2] = d.box.x + d.box.width / 2; d.mesh![468] = d.box.x; d.mesh![908] = d.box.x + d.box.width;
      points.push({ frame, box: d.box, mesh: c === '-' ? null : d.mesh });
      frame++;
    }
    return points;
  };
  const fused = (pattern: string) => { const pts = track(pattern); const set = fusedFrames(pts, 34); return pts.map((p) => (set.has(p.frame) ? 'F' : '.')).join(''); };

  it('fills a gap of ≤ 2 frames inside a fused stretch and drops stretches shorter than 3 frames', () => {
    expect(fused('FFFFsFFFF')).toBe('FFFFFFFFF');
    expect(fused('FFFFssFFFF')).toBe('FFFFFFFFFF');
    expect(fused('FFFFsssFFFF')).toBe('FFFF...FFFF');
    expect(fused('ssFFsssFsss')).toBe('...........');
    expect(fused('sssFFFsss')).toBe('...FFF...');
    // No mesh: nothing to fuse with, the gap stays.
    expect(fused('FFFF-FFFF')).toBe('FFFF.FFFF');
    // Frames apart (a track continued after a shot cut) are never joined into one stretch.
    expect(fused('FFF|sFF')).toBe('FFF...');
    // A track shorter than 3 frames keeps its fused frames (a 2-frame clip).
    expect(fused('FF')).toBe('FF');
  });
});

describe('facevault doctor', () => {
  it('names the media library and its FFmpeg version', () => {
    const r = doctorReport(loadConfig({ FACEVAULT_DATA_DIR: '/nonexistent/facevault' }, 2));
    expect(r.media).toMatchObject({ library: 'node-av', version: expect.stringMatching(/^\d+\.\d+\.\d+$/), ffmpeg: expect.stringMatching(/^\d+\.\d+/) });
    expect(r.database).toMatch(/^SQLite .*facevault\.sqlite/);
  });
});
