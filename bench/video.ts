// Video face fusion quality and speed. `npm run bench -- video [--quick]`
// For each clip in testdata/video and each user (photo U fused, another photo U′ of the same
// person for the identity check): the tracking pass (timed apart), then fusion from the cached
// tracks. Checked on the result: frame count (±1), duration and audio kept; on frames with a
// fused face, CompareFace Score of the result's face vs U′ (≥ 50 wanted) and vs the template's
// own face in the same frame (< 40 wanted); jitter = mean |Δ result landmarks − Δ template
// landmarks| between consecutive frames, in % of the face size (what the swap adds to the
// template's own motion). Speed at 720p and 1080p uses the same tracks scaled (cached tracks).
// Also per fused frame a ceiling: the template's own face there against its own frontal close-ups
// (what the recogniser gives the real person), and U′ ≥ 50 over the frames whose ceiling is ≥ 50.
// Writes docs/video-strip.png (every 10th frame: template above, result below).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { VisionEngine } from '../src/services/media/vision-engine.ts';
import { frameDetector, userFace, VIDEO_FUSE_DEGREES } from '../src/services/video/video-vision.ts';
import { FusionPool } from '../src/vision/fusion/pool.ts';
import { VIDEO_REGIONS } from '../src/vision/video/pipeline.ts';
import { cosineToScore } from '../src/vision/calibration.ts';
import { decodeFrames, decodeTrackFile, encodeTracks, frontalness, yawOf2d, fusedFrames, fuseVideo, iou, pointAt, probeVideo, trackVideo, VideoWriter, type Track } from '../src/vision/video/index.ts';
import type { Face } from '../src/vision/types.ts';
import { TESTDATA } from '../test/helpers/testdata.ts';
import { BENCH_DIR, table, writeResult } from './lib.ts';

const quick = process.argv.includes('--quick');
const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
// --reuse-tracks: tracks from an earlier run (bench/results/), for quality work on the fusion
// only (the tracking pass is then not timed). --dump DIR: every frame failing a bar, as PNG
// (template | result, the face window) named with its scores. --users a,b: only these users.
const reuseTracks = process.argv.includes('--reuse-tracks');
const dumpDir = arg('--dump');
const pairsArg = arg('--pairs');
// --crf N: the result's encoder quality (default the pipeline's).
const crfArg = arg('--crf');
// --face-q Q: the encoder's quantiser offset over the fused faces (default the pipeline's FACE_QOFFSET; 0 = none).
const faceQArg = arg('--face-q');
// --smooth MINCUTOFF,BETA: a fresh tracking pass with these One-Euro parameters (default 1.0,0.3), cached apart.
const smoothArg = arg('--smooth')?.split(',').map(Number);
// --dump-frames A-B: also dump these frames whatever their scores (with --dump).
const dumpRange = arg('--dump-frames')?.split('-').map(Number);
const onlyUsers = arg('--users')?.split(',');
// --per-frame-border: each frame's border found on that frame alone (fusion/frame-border.ts), not the clip's bars found by the tracking pass.
const perFrameBorder = process.argv.includes('--per-frame-border');
// --quality-only: no 720p/1080p speed runs.
const qualityOnly = process.argv.includes('--quality-only');
// Engine choices to compare against the defaults: --profile P (VIDEO_FUSE_DEGREES' profile),
// --regions off|MOUTH,EYES (the per-region degree; default VIDEO_REGIONS), --colour frame|shot.
const profileArg = arg('--profile'), regionsArg = arg('--regions'), colourArg = arg('--colour') as 'frame' | 'shot' | undefined;
// --ghost off: the per-region degree without the template's pixels in the mouth and eye openings.
const ghostArg = arg('--ghost');
// --swap: the users' two photos exchanged (U′ fused, U the identity check). --tuning JSON: engine passes (FusionTuning).
// --detail D: the pasted face's detail gain.
const swap = process.argv.includes('--swap');
const tuningArg = arg('--tuning') ? JSON.parse(arg('--tuning')!) : undefined, detailArg = arg('--detail');
const DEGREES = { ...VIDEO_FUSE_DEGREES, ...(profileArg ? { profile: Number(profileArg) } : {}) };
const REGIONS0 = regionsArg === undefined ? undefined : regionsArg === 'off' ? null : (([m, e]) => ({ mouth: Number(m), eyes: Number(e ?? m) }))(regionsArg.split(','));
const REGIONS = ghostArg === 'off' && REGIONS0 !== null ? { ...(REGIONS0 ?? VIDEO_REGIONS), ghost: false } : REGIONS0;
const STRIP = !perFrameBorder && !onlyUsers && !pairsArg && !crfArg && !faceQArg && !smoothArg && !profileArg && !regionsArg && !colourArg && ghostArg === undefined && !swap && !tuningArg && !detailArg;
const ID = path.join(TESTDATA, 'faces', 'identities');
const ALL_USERS: Record<string, [string, string]> = {
  obama: ['obama/obama.jpg', 'obama/obama2.jpg'],
  kit: ['kit_harington/john3.jpg', 'kit_harington/john1.jpeg'],
  ...(quick ? {} : { biden: ['biden/biden2.jpg', 'biden/biden.jpg'] as [string, string] }),
};
// --pairs 'name:U,U′;…' (paths under testdata/faces/identities): other users instead (held-out checks).
const PAIRS: Record<string, [string, string]> | undefined = pairsArg ? Object.fromEntries(pairsArg.split(';').map((x) => { const [n, p] = x.split(':'); return [n, p.split(',') as [string, string]]; })) : undefined;
// The speed runs always fuse obama (the quality runs only the users asked for).
const USERS = PAIRS ?? Object.fromEntries(Object.entries(ALL_USERS).filter(([u]) => !onlyUsers || onlyUsers.includes(u)));
if (dumpDir) fs.mkdirSync(dumpDir, { recursive: true });
const CLIPS = fs.readdirSync(path.join(TESTDATA, 'video')).filter((f) => f.endsWith('.mp4')).sort();
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'facevault-bench-video-'));
const THREADS = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);

const vision = VisionEngine.fromConfig({ inferenceThreads: THREADS, modelSetDirs: [], urlAllowList: [], imageTaskTimeoutMs: 120_000 });
await vision.warm();
const finder = { analyze: vision.analyze.bind(vision) };
const cos = (a: Float32Array, b: Float32Array) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
const score = (a: Float32Array, b: Float32Array) => cosineToScore(cos(a, b));

async function facesOf(rgb: Buffer, w: number, h: number): Promise<Face[]> {
  return (await vision.analyze({ width: w, height: h, data: rgb }, { embedding: true, mesh: true, meshIris: false, minFaceSize: 20 })).faces;
}
const nearest = (faces: Face[], box: Track['points'][number]['box']) => faces.map((f) => ({ f, o: iou(f.box, box) })).filter((x) => x.o > 0.3).sort((a, b) => b.o - a.o)[0]?.f;
const mainTrack = (tracks: Track[]) => tracks.reduce((a, b) => (weight(b) > weight(a) ? b : a));
const weight = (t: Track) => t.points.filter((p) => !p.bridged && p.mesh).reduce((s, p) => s + p.box.width * p.box.height, 0);

const rows: Record<string, unknown>[] = [];
/** Wilson score interval (95 %) of a proportion k/n. Consecutive frames are not independent samples, so the true interval is wider. */
function wilson(k: number, n: number): string {
  if (!n) return '-';
  const z = 1.96, p = k / n, d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d, r = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return `${(100 * Math.max(0, c - r)).toFixed(1)}–${(100 * Math.min(1, c + r)).toFixed(1)} %`;
}
const speed: Record<string, unknown>[] = [];
const scores: Record<string, unknown> = {};
const load = () => os.loadavg()[0].toFixed(1);

for (const clip of CLIPS) {
  const src = path.join(TESTDATA, 'video', clip);
  const info = probeVideo(src);
  const pool = new FusionPool(THREADS);
  const cached = path.join(BENCH_DIR, 'results', `video-tracks-${clip}${smoothArg ? `-smooth${smoothArg.join('_')}` : ''}.bin`);
  const tr = reuseTracks && fs.existsSync(cached)
    ? { ...decodeTrackFile(fs.readFileSync(cached)), frames: info.frames, ms: NaN }
    : await trackVideo(src, info, frameDetector(finder), smoothArg ? { minCutoff: smoothArg[0], beta: smoothArg[1] } : {});
  if (!reuseTracks) { fs.mkdirSync(path.dirname(cached), { recursive: true }); fs.writeFileSync(cached, encodeTracks(tr.tracks, tr.picture)); }
  const tracks = tr.tracks.filter((t) => t.points.some((p) => p.mesh));
  console.log(`${clip}: ${info.width}x${info.height} ${info.fps.toFixed(2)} fps ${info.frames} frames, tracking ${(tr.ms / 1000).toFixed(1)} s (${(tr.frames / (tr.ms / 1000)).toFixed(1)} fps, load ${load()}), ${tracks.length} tracks with a mesh, picture ${tr.picture ? `${tr.picture.x0},${tr.picture.y0}–${tr.picture.x1},${tr.picture.y1}` : 'per frame'}`);
  if (!tracks.length) {
    // Nothing to swap: the pipeline must still pass every frame through untouched, with duration and audio.
    const out = path.join(TMP, `${clip}-pass.mp4`);
    const r = await fuseVideo({ source: src, output: out, info, tracks: [], faces: [], pool, mark: { kind: 'none' }, tags: { aigc: '1' } });
    const o = probeVideo(out);
    rows.push({ clip, user: '-', frames: `${o.frames}/${info.frames}`, duration: `${o.durationSec.toFixed(2)}/${info.durationSec.toFixed(2)}`, audio: `${o.audio?.channels ?? 0}/${info.audio?.channels ?? 0}`, fusedFaceFrames: 0, 'U′≥50': '-', 'U′ 95% CI': '-', 'T<40': '-', 'T 95% CI': '-', allTrackedFrames: 0, 'U′≥50 all': '-', 'T<40 all': '-', 'jitter %': '-', note: `no face ≥ 20 px found by the detector (faces ≈ 20–25 px, under the 34 px template minimum the pipeline fuses from, as FuseFace): ${r.passedFrames} frames passed through` });
    await pool.close();
    continue;
  }
  const main = mainTrack(tracks);
  // The template's own face per frame, analysed once for all users (in the ceiling's pass below).
  const templateFaces = new Map<number, Face | undefined>();
  // The ceiling per frame: the singer's own face in that frame against his own frontal close-up
  // frames of the same clip (yaw < 8°, box at least the track's median, ≥ 10 frames away), mean
  // Score. What the recogniser gives the real person there; a same-clip comparison, so it is kinder
  // to him than a different photo U′ is to the user. Frames where even he scores < 50 (the wide
  // shot's 36–41 px faces, the most turned frames) cannot be expected to pass for a swap.
  const ceiling = new Map<number, number>();
  {
    const pts: { f: number; yaw: number; w: number }[] = [];
    for (const fa of decodeFrames(src)) {
      const p = pointAt(main, fa.index);
      if (!p || p.bridged || !p.mesh) continue;
      templateFaces.set(fa.index, nearest(await facesOf(fa.rgb, fa.width, fa.height), p.box));
      pts.push({ f: fa.index, yaw: yawOf2d(p.mesh), w: p.box.width });
    }
    const ws = pts.map((x) => x.w).sort((a, b) => a - b), wMed = ws[ws.length >> 1] ?? 0;
    const ref = pts.filter((x) => x.yaw < 8 && x.w >= wMed && templateFaces.get(x.f)?.embedding);
    for (const x of pts) {
      const e = templateFaces.get(x.f)?.embedding;
      const o = ref.filter((q) => Math.abs(q.f - x.f) >= 10);
      if (e && o.length) ceiling.set(x.f, o.reduce((a, q) => a + score(e, templateFaces.get(q.f)!.embedding!), 0) / o.length);
    }
    // The ceiling by head turn (boxes ≥ 60 px) and for small faces (< 48 px).
    const bins: [string, (x: { yaw: number; w: number }) => boolean][] = [['0–8°', (x) => x.w >= 60 && x.yaw < 8], ['8–15°', (x) => x.w >= 60 && x.yaw >= 8 && x.yaw < 15], ['15–20°', (x) => x.w >= 60 && x.yaw >= 15 && x.yaw < 20], ['20–25°', (x) => x.w >= 60 && x.yaw >= 20 && x.yaw < 25], ['25–40°', (x) => x.w >= 60 && x.yaw >= 25 && x.yaw < 40], ['box < 48 px', (x) => x.w < 48]];
    console.log(`\n${clip}: the template's own face against its frontal close-ups (${ref.length} of them), by head turn\n` + table(bins.map(([name, f]) => {
      const v = pts.filter((x) => f(x) && ceiling.has(x.f)).map((x) => ceiling.get(x.f)!).sort((a, b) => a - b);
      return { frames: name, n: v.length, median: v.length ? +v[v.length >> 1].toFixed(1) : '-', '≥ 50': v.length ? `${Math.round((100 * v.filter((x) => x >= 50).length) / v.length)} %` : '-' };
    })));
  }
  let strip = false;
  for (const [user, pair] of Object.entries(USERS)) {
    const [uFile, u2File] = swap ? [pair[1], pair[0]] : pair;
    const u = await userFace(finder, fs.readFileSync(path.join(ID, uFile)), uFile);
    const u2 = (await userFace(finder, fs.readFileSync(path.join(ID, u2File)), u2File)).embedding!;
    const out = path.join(TMP, `${clip}-${user}.mp4`);
    const r = await fuseVideo({ source: src, output: out, info, tracks, picture: perFrameBorder ? null : tr.picture, faces: [{ trackId: main.id, user: u.user, userMesh: u.userMesh, ...DEGREES, regions: REGIONS, tuning: tuningArg, ...(detailArg ? { detail: Number(detailArg) } : {}) }], pool, mark: { kind: 'label' }, tags: { aigc: '1' }, colour: colourArg, ...(crfArg ? { crf: Number(crfArg) } : {}), ...(faceQArg ? { faceQOffset: Number(faceQArg) } : {}) });
    speed.push({ clip, user, size: `${info.width}x${info.height}`, frames: r.frames, 'wall s': +(r.ms / 1000).toFixed(2), 'fps': +(r.frames / (r.ms / 1000)).toFixed(1), 'realtime x': +((info.durationSec) / (r.ms / 1000)).toFixed(2), load: load() });
    const o = probeVideo(out);
    // Identity per fused frame (every 2nd frame in --quick).
    const step = quick ? 3 : 1;
    const A = decodeFrames(src), B = decodeFrames(out);
    // Counted: frames the pipeline fuses (the tracked face usable: ≥ 34 px, not turned past MAX_VIDEO_YAW, no one-frame flicker).
    // Also reported, the older count over every frame where the track has a mesh, which includes
    // frames passed through untouched (there the result is the template, so "template gone" fails).
    let n = 0, okU = 0, okT = 0, nAll = 0, okUAll = 0, okTAll = 0;
    const fusedSet = fusedFrames(main.points, 34);
    const jit: number[] = [];
    // Per fused frame: the Score vs U′ and the face's size (the wide shot's faces are 36–41 px).
    const perFrame: { frame: number; u: number; t: number; face: number; ceiling: number | null }[] = [];
    let prev: { r: Float64Array; t: Float64Array } | null = null;
    const thumbs: { t: Buffer; r: Buffer }[] = [];
    for (;;) {
      const a = A.next(), b = B.next();
      if (a.done || b.done) break;
      const fa = a.value, fb = b.value;
      if (!strip && STRIP && fa.index % 10 === 0) {
        const th = (x: Buffer) => sharp(x, { raw: { width: fa.width, height: fa.height, channels: 3 } }).resize(192).png().toBuffer();
        thumbs.push({ t: await th(fa.rgb), r: await th(fb.rgb) });
      }
      const p = pointAt(main, fa.index);
      if (!p || p.bridged || !p.mesh || fa.index % step) { prev = null; continue; }
      // The template's own face was analysed in the ceiling's pass, for every such frame.
      const [ft, fr] = [templateFaces.get(fa.index), nearest(await facesOf(fb.rgb, fb.width, fb.height), p.box)];
      if (!ft?.embedding || !fr?.embedding) { prev = null; continue; }
      const sU = score(fr.embedding, u2), sT = score(fr.embedding, ft.embedding);
      nAll++;
      if (sU >= 50) okUAll++;
      if (sT < 40) okTAll++;
      const fusedHere = fusedSet.has(fa.index);
      if (fusedHere) {
        n++;
        perFrame.push({ frame: fa.index, u: +sU.toFixed(1), t: +sT.toFixed(1), face: Math.round(Math.max(p.box.width, p.box.height)), ceiling: ceiling.has(fa.index) ? +ceiling.get(fa.index)!.toFixed(1) : null });
        if (sU >= 50) okU++;
        if (sT < 40) okT++;
      }
      if (dumpDir && (sU < 50 || sT >= 40 || (dumpRange && fa.index >= dumpRange[0] && fa.index <= dumpRange[1]))) {
        const bx = p.box, pad = 0.4 * Math.max(bx.width, bx.height);
        const r = { left: Math.max(0, Math.floor(bx.x - pad)), top: Math.max(0, Math.floor(bx.y - pad)) };
        const ex = { ...r, width: Math.min(fa.width - r.left, Math.ceil(bx.width + 2 * pad)), height: Math.min(fa.height - r.top, Math.ceil(bx.height + 2 * pad)) };
        const crop = (x: Buffer) => sharp(x, { raw: { width: fa.width, height: fa.height, channels: 3 } }).extract(ex).resize({ height: 256 }).png().toBuffer();
        const [ct, cr] = [await crop(fa.rgb), await crop(fb.rgb)];
        const w2 = (await sharp(ct).metadata()).width!;
        await sharp({ create: { width: 2 * w2, height: 256, channels: 3, background: '#000' } }).composite([{ input: ct, left: 0, top: 0 }, { input: cr, left: w2, top: 0 }]).png()
          .toFile(path.join(dumpDir, `${user}-f${String(fa.index).padStart(3, '0')}-U${sU.toFixed(0)}-T${sT.toFixed(0)}-face${Math.round(bx.width)}-front${frontalness(p.mesh).toFixed(2)}-yaw${yawOf2d(p.mesh).toFixed(0)}.png`));
      }
      if (fr.mesh && ft.mesh && step === 1) {
        const rr = Float64Array.from(fr.mesh.slice(0, 468).flatMap((q) => [q.x, q.y])), tt = Float64Array.from(ft.mesh.slice(0, 468).flatMap((q) => [q.x, q.y]));
        if (prev && fusedHere) {
          let s = 0;
          for (let k = 0; k < rr.length; k++) s += Math.abs((rr[k] - prev.r[k]) - (tt[k] - prev.t[k]));
          jit.push((100 * s) / rr.length / Math.max(p.box.width, p.box.height));
        }
        prev = { r: rr, t: tt };
      } else prev = null;
    }
    rows.push({
      clip, user, frames: `${o.frames}/${info.frames}`, duration: `${o.durationSec.toFixed(2)}/${info.durationSec.toFixed(2)}`, audio: `${o.audio?.channels ?? 0}/${info.audio?.channels ?? 0}`,
      fusedFaceFrames: n, 'U′≥50': n ? +(okU / n).toFixed(3) : '-', 'U′ 95% CI': wilson(okU, n), 'T<40': n ? +(okT / n).toFixed(3) : '-', 'T 95% CI': wilson(okT, n),
      allTrackedFrames: nAll, 'U′≥50 all': nAll ? +(okUAll / nAll).toFixed(3) : '-', 'T<40 all': nAll ? +(okTAll / nAll).toFixed(3) : '-', 'jitter %': jit.length ? +(jit.reduce((x, y) => x + y, 0) / jit.length).toFixed(2) : '-',
      'mean U′': perFrame.length ? +(perFrame.reduce((a, x) => a + x.u, 0) / perFrame.length).toFixed(1) : '-',
      'ceiling≥50': `${perFrame.filter((x) => (ceiling.get(x.frame) ?? 0) >= 50).length}/${perFrame.length}`,
      'U′≥50 where ceiling≥50': (() => { const c = perFrame.filter((x) => (ceiling.get(x.frame) ?? 0) >= 50); return c.length ? `${+(c.filter((x) => x.u >= 50).length / c.length).toFixed(3)} (${wilson(c.filter((x) => x.u >= 50).length, c.length)})` : '-'; })(),
      'U′≥50 face<48px': (() => { const sm = perFrame.filter((x) => x.face < 48); return sm.length ? `${sm.filter((x) => x.u >= 50).length}/${sm.length}` : '-'; })(),
      note: `fused ${r.fusedFrames}, passed through ${r.passedFrames}`, 'result kB': Math.round(fs.statSync(out).size / 1024),
    });
    scores[`${clip} ${user}`] = perFrame;
    if (!strip && thumbs.length) {
      strip = true;
      const cols = 7, tw = 192, thh = Math.round((192 * info.height) / info.width);
      const groups = Math.ceil(thumbs.length / cols);
      const comps = thumbs.flatMap((x, i) => [{ input: x.t, left: (i % cols) * tw, top: Math.floor(i / cols) * 2 * thh }, { input: x.r, left: (i % cols) * tw, top: Math.floor(i / cols) * 2 * thh + thh }]);
      const png = await sharp({ create: { width: cols * tw, height: groups * 2 * thh, channels: 3, background: '#000' } }).composite(comps).png().toBuffer();
      fs.writeFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'docs', 'video-strip.png'), png);
      console.log(`docs/video-strip.png: ${clip} with ${user}, every 10th frame (rows: template, result)`);
    }
  }
  // Speed at 720p and 1080p: the clip upscaled, the cached tracks scaled with it (no new tracking pass).
  if (!quick && !qualityOnly) {
    for (const [W, H] of [[1280, 720], [1920, 1080]]) {
      const up = path.join(TMP, `${clip}-${H}p.mp4`);
      const w = new VideoWriter(up, src, W, H, { tags: {}, preset: 'ultrafast' });
      for (const f of decodeFrames(src)) w.write(await sharp(f.rgb, { raw: { width: f.width, height: f.height, channels: 3 } }).resize(W, H, { fit: 'fill' }).raw().toBuffer(), f.pts);
      w.finish();
      const k = W / info.width;
      const scaled = tracks.map((t) => ({ ...t, points: t.points.map((p) => ({ ...p, box: { x: p.box.x * k, y: p.box.y * k, width: p.box.width * k, height: p.box.height * k }, mesh: p.mesh ? p.mesh.map((v) => v * k) : null })) }));
      const u = await userFace(finder, fs.readFileSync(path.join(ID, ALL_USERS.obama[0])), 'obama');
      const upInfo = probeVideo(up);
      const r = await fuseVideo({ source: up, output: path.join(TMP, `${clip}-${H}p-out.mp4`), info: upInfo, tracks: scaled, picture: tr.picture && { x0: tr.picture.x0 * k, y0: tr.picture.y0 * k, x1: tr.picture.x1 * k, y1: tr.picture.y1 * k }, faces: [{ trackId: main.id, user: u.user, userMesh: u.userMesh, ...VIDEO_FUSE_DEGREES }], pool, mark: { kind: 'label' }, tags: { aigc: '1' } });
      speed.push({ clip, user: 'obama', size: `${W}x${H}`, frames: r.frames, 'wall s': +(r.ms / 1000).toFixed(2), fps: +(r.frames / (r.ms / 1000)).toFixed(1), 'realtime x': +(upInfo.durationSec / (r.ms / 1000)).toFixed(2), load: load() });
    }
  }
  speed.push({ clip, user: '(tracking pass)', size: `${info.width}x${info.height}`, frames: tr.frames, 'wall s': +(tr.ms / 1000).toFixed(2), fps: +(tr.frames / (tr.ms / 1000)).toFixed(1), 'realtime x': +(info.durationSec / (tr.ms / 1000)).toFixed(2), load: load() });
  await pool.close();
}

console.log('\nQuality\n' + table(rows));
console.log('\nSpeed (cached tracks, one face; 2-core machine shared with other work: see load)\n' + table(speed));
console.log(`\n${writeResult('video', { threads: THREADS, config: { degrees: DEGREES, regions: REGIONS === undefined ? 'VIDEO_REGIONS' : REGIONS, colour: colourArg ?? 'shot', ghost: ghostArg ?? 'on', swap, tuning: tuningArg ?? 'default', detail: detailArg ?? 0, crf: crfArg ?? 'default', faceQ: faceQArg ?? 'default' }, quality: rows, speed, scores })}`);
await vision.close();
fs.rmSync(TMP, { recursive: true, force: true });
