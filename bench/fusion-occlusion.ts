// The template-occlusion mask alone (src/vision/fusion/occlusion.ts templateOccluders), on the
// fusion-quality panel's templates: how much of the inner face it takes on clean templates (a
// false alarm costs the user's face there) and how much of a pasted occluder it finds.
// `npm run bench -- fusion-occlusion [--dump DIR] [--only NAME]`. The mask is decided on the
// template with its own mesh (the engine decides it on the template warped onto the fused mesh,
// which at degree 0 has the user's shape: near enough to compare masks).
// Uses the fusion-quality panel's analysis cache (run that bench once first).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../src/vision/image-decode.ts';
import { templateOccluders } from '../src/vision/fusion/occlusion.ts';
import { bounds, faceSize, ring } from '../src/vision/fusion/geometry.ts';
import { fillPolygon } from '../src/vision/fusion/raster.ts';
import type { RgbImage } from '../src/vision/types.ts';
import { TESTDATA } from '../test/helpers/testdata.ts';
import { pasteOccluder, type OccluderKind } from '../test/helpers/occluders.ts';
import { median, percentile, table } from './lib.ts';

const FACES = path.join(TESTDATA, 'faces');
const YALE = ['subject01', 'subject02', 'subject05', 'subject07', 'subject10', 'subject14'];
const CACHE = path.join(os.tmpdir(), 'facevault-fusion-quality-panel.json');
type Cached = { mesh: number[] } | null;
const argValue = (name: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : undefined; };

export interface MaskScore { share: number; recall?: number; outside?: number }

/** The mask on one template (its own mesh) and its scores against the pasted occluder, if any. */
export function scoreMask(img: RgbImage, mesh: Float64Array, occluder?: Float32Array): { score: MaskScore; mask: Float32Array; win: { x0: number; y0: number; w: number; h: number } } {
  const b = bounds(ring(mesh, 1.3));
  const x0 = Math.max(0, Math.floor(b.x0)), y0 = Math.max(0, Math.floor(b.y0));
  const w = Math.min(img.width, Math.ceil(b.x1)) - x0, h = Math.min(img.height, Math.ceil(b.y1)) - y0;
  const T = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w * 3; x++) T[y * w * 3 + x] = img.data[((y + y0) * img.width + x0) * 3 + x];
  const local = new Float64Array(mesh.subarray(0, 936));
  for (let i = 0; i < local.length; i += 2) { local[i] -= x0; local[i + 1] -= y0; }
  const regionPoly = ring(local, 1.03);
  const region = fillPolygon(regionPoly, w, h), skin = fillPolygon(ring(local, 0.85), w, h);
  const mask = templateOccluders(T, w, h, local, region, skin, faceSize(local), bounds(regionPoly));
  let n = 0, on = 0, nOcc = 0, onOcc = 0, nOut = 0, onOut = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const q = y * w + x;
    if (!skin[q]) continue;
    const m = mask[q] > 0.5 ? 1 : 0;
    n++; on += m;
    if (occluder) {
      const o = occluder[(y + y0) * img.width + x + x0];
      if (o > 0.5) { nOcc++; onOcc += m; } else if (o === 0) { nOut++; onOut += m; }
    }
  }
  const score: MaskScore = { share: on / Math.max(1, n) };
  if (occluder) { score.recall = onOcc / Math.max(1, nOcc); score.outside = onOut / Math.max(1, nOut); }
  return { score, mask, win: { x0, y0, w, h } };
}

async function main() {
  if (!fs.existsSync(CACHE)) throw new Error(`no panel analyses at ${CACHE}: run \`npm run bench -- fusion-quality --quick --only x\` first`);
  const cache = JSON.parse(fs.readFileSync(CACHE, 'utf8')) as Record<string, Cached>;
  const dump = argValue('--dump'), only = argValue('--only');
  if (dump) fs.mkdirSync(dump, { recursive: true });
  const rels: string[] = [];
  for (const person of fs.readdirSync(path.join(FACES, 'identities')).sort()) for (const f of fs.readdirSync(path.join(FACES, 'identities', person)).sort()) if (!/obama-(240|480|720|1080)p|obama_small/.test(f)) rels.push(`identities/${person}/${f}`);
  for (const f of fs.readdirSync(path.join(FACES, 'crowds')).filter((x) => x.startsWith('person-')).sort()) rels.push(`crowds/${f}`);
  for (const s of YALE) for (const v of ['normal', 'centerlight', 'leftlight', 'glasses']) { const f = `yale/${s}/${s}.${v}.jpg`; if (fs.existsSync(path.join(FACES, f))) rels.push(f); }
  const bases = ['identities/obama/obama.jpg', 'identities/biden/biden2.jpg', 'identities/rose_leslie/img1.jpg', 'identities/alex_lacamoire/img1.jpg', 'identities/kit_harington/john3.jpg', 'crowds/person-lexi.jpg'];
  const rows: { name: string; kind: string; share: number; recall?: number; outside?: number }[] = [];
  const run = async (name: string, kind: string, img: RgbImage, occluder?: Float32Array) => {
    if (only && !name.includes(only)) return;
    const c = cache[`${name}|${img.width}x${img.height}`];
    if (!c) return;
    const { score, mask, win } = scoreMask(img, Float64Array.from(c.mesh), occluder);
    rows.push({ name, kind, ...score });
    if (dump) await dumpMask(dump, name, img, mask, win);
  };
  for (const rel of rels) {
    const img = await decodeImage(fs.readFileSync(path.join(FACES, rel)));
    await run(rel, 'clean', img);
    if (!bases.includes(rel)) continue;
    const c = cache[`${rel}|${img.width}x${img.height}`];
    if (!c) continue;
    for (const kind of ['hand', 'glasses-bar', 'microphone', 'hair'] as OccluderKind[]) {
      const o = pasteOccluder(img, Float64Array.from(c.mesh), kind);
      await run(`${rel}@${kind}`, kind, o.img, o.mask);
    }
  }
  const f = (v: number | undefined) => (v === undefined ? '-' : (100 * v).toFixed(1));
  const clean = rows.filter((r) => r.kind === 'clean');
  const summary = [{ kind: 'clean', n: clean.length, 'share % median / p90 / max': `${f(median(clean.map((r) => r.share)))} / ${f(percentile(clean.map((r) => r.share), 90))} / ${f(Math.max(...clean.map((r) => r.share)))}`, 'recall % median / min': '-', 'outside % median / max': '-' }];
  for (const kind of ['hand', 'glasses-bar', 'microphone', 'hair']) {
    const rs = rows.filter((r) => r.kind === kind);
    if (!rs.length) continue;
    summary.push({ kind, n: rs.length, 'share % median / p90 / max': `${f(median(rs.map((r) => r.share)))} / ${f(percentile(rs.map((r) => r.share), 90))} / ${f(Math.max(...rs.map((r) => r.share)))}`, 'recall % median / min': `${f(median(rs.map((r) => r.recall!)))} / ${f(Math.min(...rs.map((r) => r.recall!)))}`, 'outside % median / max': `${f(median(rs.map((r) => r.outside!)))} / ${f(Math.max(...rs.map((r) => r.outside!)))}` });
  }
  console.log('Template occlusion mask (share of the inner face = ring 0.85 with mask > 0.5; recall = share of the pasted occluder inside it found; outside = share of the rest masked)');
  console.log(table(summary));
  const worst = [...clean].sort((a, b) => b.share - a.share).slice(0, 12);
  console.log('\nclean templates with the largest mask share');
  console.log(table(worst.map((r) => ({ template: r.name, 'share %': f(r.share) }))));
  console.log('\noccluded templates');
  console.log(table(rows.filter((r) => r.kind !== 'clean').map((r) => ({ template: r.name, 'share %': f(r.share), 'recall %': f(r.recall), 'outside %': f(r.outside) }))));
}

async function dumpMask(dir: string, name: string, img: RgbImage, mask: Float32Array, win: { x0: number; y0: number; w: number; h: number }) {
  const out = Buffer.alloc(win.w * win.h * 3 * 2);
  const W2 = win.w * 2;
  for (let y = 0; y < win.h; y++) for (let x = 0; x < win.w; x++) {
    const s = ((y + win.y0) * img.width + x + win.x0) * 3, m = mask[y * win.w + x];
    for (let c = 0; c < 3; c++) {
      out[(y * W2 + x) * 3 + c] = img.data[s + c];
      const tint = c === 0 ? 255 : 0;
      out[(y * W2 + win.w + x) * 3 + c] = Math.round(img.data[s + c] * (1 - 0.6 * m) + tint * 0.6 * m);
    }
  }
  await sharp(out, { raw: { width: W2, height: win.h, channels: 3 } }).resize({ height: 300 }).png().toFile(path.join(dir, `${name.replace(/[^\w.@-]+/g, '_')}.png`));
}

await main();
