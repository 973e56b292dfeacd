// Face fusion quality and speed. `npm run bench -- fusion [--quick] [--speed | --quality]`
// Quality: for user photo U fused into template T at degrees d (profile = face = d), the
// recogniser's Score (CompareFace scale, same person ≥ 50) of the result against U, against
// another photo of U (U′) and against T; seam = mean gradient magnitude along the mask
// boundary ÷ that of the template in the band around its face. Writes docs/fusion-contact-sheet.png.
// Speed: FuseFace through the official SDK against a real server (1080p template, 1 and 6 faces,
// 1 vs 8 concurrent clients).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { fuseIntoTemplate, targetMesh } from '../src/vision/fusion/fuse.ts';
import { ring } from '../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../src/vision/fusion/raster.ts';
import { cosineToScore } from '../src/vision/calibration.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { TESTDATA } from '../test/helpers/testdata.ts';
import { median, table, writeResult } from './lib.ts';

const quick = process.argv.includes('--quick');
const qualityOnly = process.argv.includes('--quality');
const ID = path.join(TESTDATA, 'faces', 'identities');
// Larger photos (one person each) and a few of the 150-px greyscale crops.
const PEOPLE: Record<string, string[]> = {
  obama: ['obama/obama.jpg', 'obama/obama1.jpg', 'obama/obama2.jpg'],
  biden: ['biden/biden2.jpg', 'biden/biden.jpg'],
  kit: ['kit_harington/john3.jpg', 'kit_harington/john1.jpeg'],
  rose: ['rose_leslie/img1.jpg', 'rose_leslie/img2.jpg'],
  alex: ['alex_lacamoire/img1.jpg', 'alex_lacamoire/img2.jpg'],
  penny: ['penny/penny1.png', 'penny/penny2.png'],
  sheldon: ['sheldon/sheldon1.png', 'sheldon/sheldon2.png'],
  leonard: ['leonard/leonard2.png', 'leonard/leonard3.png'],
};
const DEGREES = [0, 25, 50, 75, 100];

interface Analysed { file: string; img: RgbImage; face: Face; mesh: Float64Array; emb: Float32Array }

const largest = (faces: Face[]) => faces.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));
const cos = (a: Float32Array, b: Float32Array) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

function lum(img: RgbImage, x: number, y: number) {
  const xi = Math.min(img.width - 1, Math.max(0, Math.round(x))), yi = Math.min(img.height - 1, Math.max(0, Math.round(y)));
  const i = (yi * img.width + xi) * 3;
  return 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
}
function grad(img: RgbImage, x: number, y: number) {
  const gx = lum(img, x + 1, y) - lum(img, x - 1, y), gy = lum(img, x, y + 1) - lum(img, x, y - 1);
  return Math.hypot(gx, gy) / 2;
}
/** Mean gradient along a closed polygon, sampled every pixel. */
function gradAlong(img: RgbImage, poly: Float64Array) {
  let s = 0, n = 0;
  for (let i = 0; i < poly.length; i += 2) {
    const j = (i + 2) % poly.length;
    const len = Math.hypot(poly[j] - poly[i], poly[j + 1] - poly[i + 1]);
    for (let t = 0; t < len; t++) { s += grad(img, poly[i] + ((poly[j] - poly[i]) * t) / len, poly[i + 1] + ((poly[j + 1] - poly[i + 1]) * t) / len); n++; }
  }
  return s / Math.max(1, n);
}
/** Mean gradient of the template in the band between two scaled silhouettes (the surroundings of the face edge). */
function gradBand(img: RgbImage, mesh: Float64Array, inner: number, outer: number) {
  const a = fillPolygon(ring(mesh, outer), img.width, img.height), b = fillPolygon(ring(mesh, inner), img.width, img.height);
  let s = 0, n = 0;
  for (let y = 1; y < img.height - 1; y++) for (let x = 1; x < img.width - 1; x++) { const p = y * img.width + x; if (a[p] && !b[p]) { s += grad(img, x, y); n++; } }
  return s / Math.max(1, n);
}

async function main() {
  if (process.argv.includes('--speed')) { writeResult('fusion-speed', { perf: await speed() }); return; }
  const pool = await InferencePool.start({ threads: 2 });
  const analyse = async (file: string): Promise<Analysed | null> => {
    const img = await decodeImage(fs.readFileSync(path.join(ID, file)));
    const r = await pool.analyze(img, { mesh: true, embedding: true });
    if (!r.faces.length) return null;
    const face = largest(r.faces);
    if (!face.mesh || !face.embedding) return null;
    return { file, img, face, mesh: meshArray(face.mesh), emb: face.embedding };
  };
  const embedAt = async (img: RgbImage, box: { x: number; y: number; width: number; height: number }) => {
    const r = await pool.analyze(img, { embedding: true });
    // The face overlapping the template face's box.
    let best: Face | null = null, bestO = 0;
    for (const f of r.faces) {
      const w = Math.min(f.box.x + f.box.width, box.x + box.width) - Math.max(f.box.x, box.x), h = Math.min(f.box.y + f.box.height, box.y + box.height) - Math.max(f.box.y, box.y);
      const o = w > 0 && h > 0 ? w * h : 0;
      if (o > bestO) { best = f; bestO = o; }
    }
    return best?.embedding ?? null;
  };

  const photos = new Map<string, Analysed[]>();
  for (const [person, files] of Object.entries(PEOPLE)) {
    const list: Analysed[] = [];
    for (const f of files) { const a = await analyse(f); if (a) list.push(a); }
    photos.set(person, list);
  }
  // Ordered pairs of different people: template = first photo of T, user = first photo of U, U′ = second of U.
  const people = [...photos.keys()];
  const pairs: { T: Analysed; U: Analysed; U2: Analysed | null }[] = [];
  for (const tp of people) for (const up of people) {
    if (tp === up) continue;
    const T = photos.get(tp)![0], Us = photos.get(up)!;
    pairs.push({ T, U: Us[0], U2: Us[1] ?? null });
  }
  const use = quick ? pairs.slice(0, 12) : pairs;
  const rows: { pair: string; d: number; sU: number; sU2: number | null; sT: number; seam: number; seamSame: number; found: boolean }[] = [];
  const crops = new Map<string, Buffer[]>(); // contact sheet
  const SHEET_PAIRS = new Set(use.filter((_, i) => i % Math.max(1, Math.floor(use.length / 14)) === 0).slice(0, 14).map((p) => `${p.T.file}<-${p.U.file}`));
  for (const { T, U, U2 } of use) {
    const key = `${T.file}<-${U.file}`;
    const cropBox = (() => { const b = T.face.box; const s = Math.max(b.width, b.height) * 1.6; return { left: Math.max(0, Math.round(b.x + b.width / 2 - s / 2)), top: Math.max(0, Math.round(b.y + b.height / 2 - s / 2)), size: Math.round(s) }; })();
    const crop = async (img: RgbImage) => {
      const w = Math.min(cropBox.size, img.width - cropBox.left), h = Math.min(cropBox.size, img.height - cropBox.top);
      return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).extract({ left: cropBox.left, top: cropBox.top, width: w, height: h }).resize(160, 160, { fit: 'contain', background: '#000' }).png().toBuffer();
    };
    if (SHEET_PAIRS.has(key)) {
      const ub = U.face.box, us = Math.max(ub.width, ub.height) * 1.6;
      const l = Math.max(0, Math.round(ub.x + ub.width / 2 - us / 2)), tp = Math.max(0, Math.round(ub.y + ub.height / 2 - us / 2));
      const uc = await sharp(U.img.data, { raw: { width: U.img.width, height: U.img.height, channels: 3 } }).extract({ left: l, top: tp, width: Math.min(Math.round(us), U.img.width - l), height: Math.min(Math.round(us), U.img.height - tp) }).resize(160, 160, { fit: 'contain', background: '#000' }).png().toBuffer();
      crops.set(key, [await crop(T.img), uc]);
    }
    const tBand = gradBand(T.img, T.mesh, 0.85, 1.15);
    for (const d of DEGREES) {
      const patch = fuseIntoTemplate(T.img, [{ templateMesh: T.mesh, user: U.img, userMesh: U.mesh, profile: d / 100, appearance: d / 100 }]);
      const out = Buffer.from(T.img.data);
      for (let y = 0; y < patch.height; y++) out.set(patch.data.subarray(y * patch.width * 3, (y + 1) * patch.width * 3), ((y + patch.y) * T.img.width + patch.x) * 3);
      const R: RgbImage = { width: T.img.width, height: T.img.height, data: out };
      const e = await embedAt(R, T.face.box);
      const P = targetMesh(T.mesh, U.mesh, d / 100);
      const boundary = ring(P, 0.95);
      const seam = gradAlong(R, boundary) / tBand;
      const seamSame = gradAlong(R, boundary) / Math.max(1e-6, gradAlong(T.img, boundary));
      rows.push({
        pair: key, d, found: !!e,
        sU: e ? cosineToScore(cos(e, U.emb)) : 0, sU2: e && U2 ? cosineToScore(cos(e, U2.emb)) : null, sT: e ? cosineToScore(cos(e, T.emb)) : 0,
        seam, seamSame,
      });
      if (SHEET_PAIRS.has(key) && (d === 0 || d === 50 || d === 100)) crops.get(key)!.push(await crop(R));
    }
  }
  await pool.close();

  const byD = DEGREES.map((d) => {
    const r = rows.filter((x) => x.d === d);
    const u2 = r.filter((x) => x.sU2 !== null);
    return {
      degrees: `${d}/${d}`, pairs: r.length, found: r.filter((x) => x.found).length,
      'mean S(R,U)': avg(r.map((x) => x.sU)), 'S(R,U)≥50': `${r.filter((x) => x.sU >= 50).length}/${r.length}`,
      'mean S(R,U′)': avg(u2.map((x) => x.sU2!)), 'S(R,U′)≥50': `${u2.filter((x) => x.sU2! >= 50).length}/${u2.length}`,
      'mean S(R,T)': avg(r.map((x) => x.sT)), 'S(R,T)≥50': `${r.filter((x) => x.sT >= 50).length}/${r.length}`,
      'seam median': median(r.map((x) => x.seam)), 'seam ≤1.5': `${r.filter((x) => x.seam <= 1.5).length}/${r.length}`,
    };
  });
  // Per pair: does S(R,U) fall and S(R,T) rise as the degrees go up?
  const keys = [...new Set(rows.map((r) => r.pair))];
  let monoU = 0, monoT = 0;
  for (const k of keys) {
    const r = rows.filter((x) => x.pair === k).sort((a, b) => a.d - b.d);
    if (r.every((x, i) => i === 0 || x.sU <= r[i - 1].sU + 2)) monoU++;
    if (r.every((x, i) => i === 0 || x.sT >= r[i - 1].sT - 2)) monoT++;
  }
  console.log('\nQuality (Score = CompareFace scale; same person ≥ 50; seam = boundary gradient / template band gradient)');
  console.log(table(byD));
  console.log(`monotone per pair (2-point tolerance): S(R,U) falling ${monoU}/${keys.length}, S(R,T) rising ${monoT}/${keys.length}`);

  // Contact sheet: rows = pairs; columns = T, U, 0/0, 50/50, 100/100.
  const sheetRows = [...crops.values()].filter((c) => c.length === 5);
  const composites = sheetRows.flatMap((c, r) => c.map((input, col) => ({ input, left: col * 164 + 2, top: r * 164 + 2 })));
  const sheetFile = path.resolve('docs/fusion-contact-sheet.png');
  await sharp({ create: { width: 5 * 164, height: sheetRows.length * 164, channels: 3, background: '#202020' } }).composite(composites).png({ compressionLevel: 9 }).toFile(sheetFile);
  console.log(`contact sheet: ${sheetFile} (${sheetRows.length} rows: template, user, 0/0, 50/50, 100/100)`);

  const perf = qualityOnly ? null : await speed();
  writeResult(qualityOnly ? 'fusion-quality' : 'fusion', { quality: byD, monotone: { user: monoU, template: monoT, pairs: keys.length }, rows, perf });
}

const avg = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);

async function speed() {
  const loadStart = os.loadavg()[0];
  const t = await startTestServer({ FACEVAULT_INFERENCE_THREADS: '2' });
  try {
    const cc = t.common('facefusion');
    const act = (await cc.request('CreateActivity', { ActivityName: 'bench', Status: 'PUBLISHED' })).ActivityId;
    const one = (await cc.request('CreateMaterial', { ActivityId: act, Image: fs.readFileSync(path.join(ID, 'obama/obama-1080p.jpg')).toString('base64') })).MaterialId;
    // Six faces: a 1920×1080 collage of six portraits.
    const tiles = ['biden/biden2.jpg', 'kit_harington/john3.jpg', 'rose_leslie/img1.jpg', 'alex_lacamoire/img1.jpg', 'obama/obama.jpg', 'rose_leslie/img2.jpg'];
    const comp = await Promise.all(tiles.map(async (f, i) => ({ input: await sharp(path.join(ID, f)).resize(640, 540, { fit: 'cover', position: 'north' }).toBuffer(), left: (i % 3) * 640, top: Math.floor(i / 3) * 540 })));
    const collage = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#777' } }).composite(comp).jpeg({ quality: 90 }).toBuffer();
    const six = await cc.request('CreateMaterial', { ActivityId: act, Image: collage.toString('base64') });
    const sixFaces = six.Material.MaterialFaceList.length;
    const users = await Promise.all(['biden/biden2.jpg', 'rose_leslie/img1.jpg', 'alex_lacamoire/img1.jpg', 'kit_harington/john3.jpg', 'obama/obama2.jpg'].map(async (f) => (await sharp(path.join(ID, f)).resize({ width: 640, withoutEnlargement: true }).jpeg({ quality: 90 }).toBuffer()).toString('base64')));
    const ff = t.facefusion();
    // Phase timings inside the server (bench only): user detect+mesh in the inference pool, fusion in the worker pool.
    const phases: Record<string, number[]> = {};
    const svc = t.run.app.fusion.service as unknown as { pool: { run: (...a: unknown[]) => Promise<unknown[]> }; finder: { analyze: (...a: unknown[]) => Promise<unknown> } };
    const timed = <F extends (...a: never[]) => Promise<unknown>>(name: string, f: F): F => (async (...a: Parameters<F>) => { const s = performance.now(); try { return await f(...a); } finally { (phases[name] ??= []).push(performance.now() - s); } }) as F;
    const pool = svc.pool, finder = svc.finder;
    const run = timed('fusion workers', pool.run.bind(pool));
    svc.pool = { run: async (...a: unknown[]) => { const r = await run(...a); (phases['patches (parallel groups)'] ??= []).push(r.length); return r; } };
    svc.finder = { analyze: timed('user detect+mesh', finder.analyze.bind(finder)) };
    const phaseRow = (label: string) => { const r = { run: label, ...Object.fromEntries(Object.entries(phases).map(([k, v]) => [`${k} median ms`, median(v)])) }; for (const k of Object.keys(phases)) delete phases[k]; return r; };
    const call = (model: string, n: number, i: number) => ff.FuseFace({ ProjectId: act, ModelId: model, RspImgType: 'base64', FuseProfileDegree: 0, FuseFaceDegree: 0, MergeInfos: Array.from({ length: n }, (_, k) => ({ Image: users[(i + k) % users.length], TemplateFaceID: n > 1 ? String(k) : undefined })) });
    const timeIt = async (fn: () => Promise<unknown>) => { const s = performance.now(); await fn(); return performance.now() - s; };
    for (let i = 0; i < 5; i++) await call(one, 1, i);
    const N = quick ? 10 : 25;
    for (const k of Object.keys(phases)) delete phases[k];
    const single: number[] = [];
    // CPU time of the whole process (server, its worker threads and the SDK client) per request: a
    // load-independent measure of the work; on 2 idle cores a request cannot finish faster than cpu/2
    // when it keeps both busy, or cpu when it runs on one.
    const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
    let c0 = cpu();
    for (let i = 0; i < N; i++) single.push(await timeIt(() => call(one, 1, i)));
    const cpu1 = (cpu() - c0) / N;
    const phase1 = phaseRow('1 face');
    const sixN = Math.min(6, sixFaces);
    for (let i = 0; i < 2; i++) await call(six.MaterialId, sixN, i);
    for (const k of Object.keys(phases)) delete phases[k];
    const sixT: number[] = [];
    c0 = cpu();
    for (let i = 0; i < (quick ? 5 : 10); i++) sixT.push(await timeIt(() => call(six.MaterialId, sixN, i)));
    const cpu6 = (cpu() - c0) / sixT.length;
    const phase6 = phaseRow(`${sixN} faces`);
    // Throughput: 1 client vs 8 concurrent clients, same number of requests.
    const total = quick ? 16 : 40;
    const s1 = performance.now();
    for (let i = 0; i < total; i++) await call(one, 1, i);
    const thr1 = total / ((performance.now() - s1) / 1000);
    const s8 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => { while (next < total) { const i = next++; await call(one, 1, i); } }));
    const thr8 = total / ((performance.now() - s8) / 1000);
    const perf = {
      'FuseFace 1 face 1080p base64 median ms': median(single), 'p90 ms': [...single].sort((a, b) => a - b)[Math.floor(single.length * 0.9)],
      '1 face CPU ms/request': cpu1,
      [`FuseFace ${sixN} faces 1080p median ms`]: median(sixT), [`${sixN} faces CPU ms/request`]: cpu6,
      'throughput 1 client req/s': thr1, 'throughput 8 clients req/s': thr8, 'speed-up': thr8 / thr1,
      'load avg (1 min) at start / end': `${loadStart.toFixed(1)} / ${os.loadavg()[0].toFixed(1)}`,
    };
    console.log('\nSpeed (official SDK over HTTP, warm server, 2 inference threads, 2 fusion threads)');
    console.log(table([perf]));
    console.log(table([phase1, phase6]));
    return { ...perf, phases: [phase1, phase6] };
  } finally {
    await t.stop();
  }
}

await main();
