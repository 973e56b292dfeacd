// 1:N identification on the shared test photos: `npm run bench -- accuracy-search`.
// Enrols the first photo of each identity except the held-out ones into one index, searches
// with every other photo, and reports top-1 identification (enrolled persons) and false matches
// at Score >= 50/60 (held-out persons, who must match nobody). Figures: docs/MODELS.md.
import fs from 'node:fs';
import path from 'node:path';
import { visionFaceSource } from '../src/services/library/face-source.ts';
import { VisionEngine } from '../src/services/media/vision-engine.ts';
import { VectorIndex } from '../src/search/vector-index.ts';
import { cosineToScore } from '../src/vision/calibration.ts';

const root = process.env.FACEVAULT_TESTDATA ?? path.resolve(import.meta.dirname, '../../shared/testdata');
const dir = path.join(root, 'faces', 'identities');
const HELD_OUT = new Set(['alex_lacamoire', 'rose_leslie', 'stuart']);
const vision = new VisionEngine({ threads: 2 }, { allowList: [] });
const src = visionFaceSource(vision);
const caller = { appId: 0, uin: '', subUin: '' };

async function embed(file: string) {
  const r = await src.faces(caller, { Image: fs.readFileSync(file).toString('base64') }, { maxFaces: 1, modelVersion: '3.0' });
  return r.faces[0]?.embedding;
}

const idx = new VectorIndex();
const probes: { who: string; file: string; enrolled: boolean }[] = [];
for (const who of fs.readdirSync(dir).sort()) {
  const files = fs.readdirSync(path.join(dir, who)).sort();
  if (HELD_OUT.has(who)) { for (const f of files) probes.push({ who, file: path.join(dir, who, f), enrolled: false }); continue; }
  const e = await embed(path.join(dir, who, files[0]));
  if (!e) { console.log(`no face in ${who}/${files[0]}; not enrolled`); continue; }
  idx.upsert(`${who}/${files[0]}`, who, e);
  for (const f of files.slice(1)) probes.push({ who, file: path.join(dir, who, f), enrolled: true });
}
let top1 = 0, enrolled = 0, noFace = 0, fm50 = 0, fm60 = 0, strangers = 0;
const misses: string[] = [];
for (const p of probes) {
  const e = await embed(p.file);
  if (!e) { noFace++; continue; }
  const hit = idx.search(e, 1)[0];
  const score = cosineToScore(hit.score);
  if (p.enrolled) {
    enrolled++;
    if (hit.owner === p.who) top1++; else misses.push(`${path.basename(p.file)} -> ${hit.owner} (${score.toFixed(1)})`);
  } else {
    strangers++;
    if (score >= 50) fm50++;
    if (score >= 60) fm60++;
  }
}
console.log(`enrolled persons: ${idx.size}; probes: ${enrolled} of enrolled persons, ${strangers} of held-out persons, ${noFace} without a detected face`);
console.log(`top-1 identification: ${top1}/${enrolled} = ${(top1 / enrolled).toFixed(3)}${misses.length ? `; misses: ${misses.join(', ')}` : ''}`);
console.log(`held-out probes matching someone at Score >= 50: ${fm50}/${strangers}; >= 60: ${fm60}/${strangers}`);
await vision.close();
