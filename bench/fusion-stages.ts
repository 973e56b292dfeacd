// Where the time of one in-process fusion goes (1080p template, one face), and the cost of the
// output encode variants. `npm run bench -- fusion-stages`
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { fuseIntoTemplate } from '../src/vision/fusion/fuse.ts';
import { meshArray } from '../src/services/fusion/fusion-materials.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';
import { TESTDATA } from '../test/helpers/testdata.ts';
import { median, table, writeResult } from './lib.ts';

const ID = path.join(TESTDATA, 'faces', 'identities');
const largest = (faces: Face[]) => faces.reduce((a, b) => (b.box.width * b.box.height > a.box.width * a.box.height ? b : a));

const pool = await InferencePool.start({ threads: 1 });
const load = async (f: string, width?: number) => {
  let bytes = fs.readFileSync(path.join(ID, f));
  if (width) bytes = await sharp(bytes).resize({ width }).jpeg({ quality: 90 }).toBuffer();
  const img = await decodeImage(bytes);
  const face = largest((await pool.analyze(img, { mesh: true })).faces);
  return { img, mesh: meshArray(face.mesh!) };
};
const T = await load('obama/obama-1080p.jpg');
const users = await Promise.all(['biden/biden2.jpg', 'rose_leslie/img1.jpg', 'alex_lacamoire/img1.jpg'].map((f) => load(f, 640)));
await pool.close();

const N = Number(process.env.N ?? 30);
const stages: Record<string, number[]> = {};
for (let i = 0; i < N + 5; i++) {
  const u = users[i % users.length];
  const times: Record<string, number> = {};
  const s = performance.now();
  fuseIntoTemplate(T.img, [{ templateMesh: T.mesh, user: u.img, userMesh: u.mesh, profile: 0, appearance: 0 }], times);
  times.total = performance.now() - s;
  if (i >= 5) for (const [k, v] of Object.entries(times)) (stages[k] ??= []).push(v);
}
const fuseRow = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, median(v)]));
console.log('fuseIntoTemplate stages, median ms (1080p, one face, users 640 px)');
console.log(table([fuseRow]));

const frame: RgbImage = T.img;
const enc: Record<string, number[]> = {};
const bytes: Record<string, number> = {};
const variants: Record<string, (s: Sharp) => Sharp> = {
  'jpeg q90 (sharp default: optimised Huffman)': (s) => s.jpeg({ quality: 90 }),
  'jpeg q90 no Huffman optimisation': (s) => s.jpeg({ quality: 90, optimiseCoding: false }),
  'jpeg q85 no Huffman optimisation': (s) => s.jpeg({ quality: 85, optimiseCoding: false }),
};
for (let i = 0; i < 15; i++) {
  for (const [k, f] of Object.entries(variants)) {
    const s = performance.now();
    bytes[k] = (await f(sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })).toBuffer()).length;
    (enc[k] ??= []).push(performance.now() - s);
  }
}
const encRow = Object.entries(enc).map(([k, v]) => ({ encode: k, 'median ms': median(v), bytes: bytes[k] }));
console.log(table(encRow));
console.log(`load average: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
writeResult('fusion-stages', { fuse: fuseRow, encode: encRow });
