// Where the time of one in-process fusion goes (1080p template, one face), and the cost of the
// output encode variants. `npm run bench -- fusion-stages [--vs ../h8-mainref/src/vision/fusion/fuse.ts]`
// (--vs: another checkout's engine timed interleaved with this one, same inputs, ratio printed).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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
  return { img, mesh: meshArray(face.mesh!), meshZ: face.meshZ?.slice(0, 468) };
};
const T = await load('obama/obama-1080p.jpg');
const users = await Promise.all(['biden/biden2.jpg', 'rose_leslie/img1.jpg', 'alex_lacamoire/img1.jpg'].map((f) => load(f, 640)));
await pool.close();

const N = Number(process.env.N ?? 30);
const vsAt = process.argv.indexOf('--vs');
const other = vsAt >= 0 ? ((await import(pathToFileURL(path.resolve(process.argv[vsAt + 1])).href)) as { fuseIntoTemplate: typeof fuseIntoTemplate }).fuseIntoTemplate : null;
const engines: [string, typeof fuseIntoTemplate][] = [['this', fuseIntoTemplate], ...(other ? [['vs', other] as [string, typeof fuseIntoTemplate]] : [])];
const stages: Record<string, Record<string, number[]>> = {};
for (let i = 0; i < N + 5; i++) {
  const u = users[i % users.length];
  // Interleaved, so load on the machine hits both engines alike.
  for (const [name, fuse] of engines) {
    const times: Record<string, number> = {};
    const s = performance.now();
    fuse(T.img, [{ templateMesh: T.mesh, templateMeshZ: T.meshZ, user: u.img, userMesh: u.mesh, userMeshZ: u.meshZ, profile: 0, appearance: 0 }], times);
    times.total = performance.now() - s;
    if (i >= 5) for (const [k, v] of Object.entries(times)) ((stages[name] ??= {})[k] ??= []).push(v);
  }
}
const rows = engines.map(([name]) => ({ engine: name, ...Object.fromEntries(Object.entries(stages[name]).map(([k, v]) => [k, median(v)])) }));
const fuseRow = rows[0];
console.log('fuseIntoTemplate stages, median ms (1080p, one face, users 640 px)');
console.log(table(rows));
// On a loaded machine the minimum is the least disturbed figure; both are printed.
console.log(table(engines.map(([name]) => ({ engine: name, ...Object.fromEntries(Object.entries(stages[name]).map(([k, v]) => [`${k} min`, Math.min(...v)])) }))));
if (other) console.log(`total ratio this / vs: median ${(median(stages.this.total) / median(stages.vs.total)).toFixed(2)}, min ${(Math.min(...stages.this.total) / Math.min(...stages.vs.total)).toFixed(2)}`);

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
