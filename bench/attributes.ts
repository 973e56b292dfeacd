// Gender and age candidates on every photo with a gender label (bench/attributes-labels.json:
// the 13 identities, the 15 Yale subjects, the 6 single-person crowd photos).
//   npm run bench -- attributes        (FACEVAULT_TESTDATA=../shared/testdata)
// Candidates, each with its own package's preprocessing, all on our detector's main face:
//   faceplugin  fr_gender / fr_age (SSR-Net, faceplugin-face-recognition-js@0.0.1; attributes/age-gender.ts)
//   faceres     @vladmandic/human@3.3.6 models/faceres.json (HSE-FaceRes; attributes/faceres.ts)
// Human's npm package ships no other age/gender model (gear, ssrnet-* are in the separate
// human-models repository), and face-api.js is not installed.
// Gender: correct at P(male) ≥ 0.5 (men, women), Wilson 95% interval, ROC AUC.
// Age: no photo has a known date, so there is no age truth. Reported instead: the spread of
// estimates within one person (SD, range). Yale's 11 photos of a subject were taken in one
// session, so their spread is model noise (under lighting/expression change); the identities'
// spread also holds real age differences between photos. And: estimates under 18 (everyone
// labelled here is an adult, by looking).
import fs from 'node:fs';
import { FaceAnalyzer } from '../src/vision/face-analyzer.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { createSession } from '../src/vision/ort.ts';
import { runSsr, ssrInput } from '../src/vision/attributes/age-gender.ts';
import { FaceResModel } from '../src/vision/attributes/faceres.ts';
import type { Face, RgbImage } from '../src/vision/types.ts';
import { hasTestdata, td, testdataSkipReason } from '../test/helpers/testdata.ts';
import { genderFigures, labelledPhotos, type LabelledPhoto } from '../test/helpers/gender-labels.ts';
import { median, table, writeResult } from './lib.ts';

if (!hasTestdata) {
  console.error(testdataSkipReason);
  process.exit(2);
}

type Candidate = { name: string; run: (img: RgbImage, face: Face) => Promise<{ male: number; age: number }> };

const an = await FaceAnalyzer.load();
const gender = await createSession(an.set.path('gender')), age = await createSession(an.set.path('age'));
const faceres = new FaceResModel();
await faceres.prepare();
const candidates: Candidate[] = [
  {
    name: 'faceplugin', run: async (img, face) => {
      const input = ssrInput(img, face.box);
      return { male: await runSsr(gender, input), age: (await runSsr(age, input)) * 101 };
    },
  },
  { name: 'faceres', run: (img, face) => faceres.predict(img, face) },
];

interface Row extends LabelledPhoto { faceWidth: number; out: Record<string, { male: number; age: number; ms: number }> }
const rows: Row[] = [];
const missed: string[] = [];
const photos = labelledPhotos();
for (const p of photos) {
  const img = await decodeImage(fs.readFileSync(td(p.file)));
  const r = await an.analyze(img, { singleFace: true });
  // the person of the photo: the largest face (portraits may hold small background faces)
  const face = [...r.faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0];
  if (!face) { missed.push(p.file); continue; }
  const out: Row['out'] = {};
  for (const c of candidates) {
    const t = performance.now();
    const v = await c.run(img, face);
    out[c.name] = { ...v, ms: performance.now() - t };
  }
  rows.push({ ...p, faceWidth: Math.round(face.box.width), out });
}

const sd = (v: number[]) => { const m = v.reduce((s, x) => s + x, 0) / v.length; return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)); };
const pops = ['identities', 'yale', 'portraits', 'all'] as const;
const summary: Record<string, unknown> = {};
const gRows: Record<string, unknown>[] = [], aRows: Record<string, unknown>[] = [];
for (const c of candidates) {
  const per: Record<string, unknown> = {};
  for (const pop of pops) {
    const sel = rows.filter((r) => (pop === 'all' || r.population === pop) && r.sex);
    const g = genderFigures(sel.map((r) => ({ sex: r.sex!, male: r.out[c.name].male })));
    per[pop] = g;
    gRows.push({
      model: c.name, set: pop, correct: `${g.correct}/${g.n}`, acc: g.accuracy, 'ci95': `${(g.ci95[0] * 100).toFixed(0)}–${(g.ci95[1] * 100).toFixed(0)}%`,
      men: `${g.menCorrect}/${g.men}`, women: `${g.womenCorrect}/${g.women}`, auc: g.auc,
    });
  }
  const age: Record<string, unknown> = {};
  for (const pop of ['identities', 'yale'] as const) {
    const byPerson = new Map<string, number[]>();
    for (const r of rows.filter((x) => x.population === pop)) byPerson.set(r.person, [...(byPerson.get(r.person) ?? []), r.out[c.name].age]);
    const multi = [...byPerson.entries()].filter(([, v]) => v.length >= 2);
    const sds = multi.map(([, v]) => sd(v)), ranges = multi.map(([, v]) => Math.max(...v) - Math.min(...v));
    age[pop] = {
      persons: multi.length, medianSd: median(sds), maxSd: Math.max(...sds), medianRange: median(ranges), maxRange: Math.max(...ranges),
      perPerson: Object.fromEntries(multi.map(([k, v]) => [k, { n: v.length, min: Math.min(...v), max: Math.max(...v), sd: sd(v) }])),
    };
    aRows.push({ model: c.name, set: pop, persons: multi.length, 'median SD': median(sds), 'max SD': Math.max(...sds), 'median range': median(ranges), 'max range': Math.max(...ranges) });
  }
  // The same photo at four resolutions (obama-240p..1080p): spread = model noise from scale alone.
  const res = rows.filter((r) => /obama-\d+p/.test(r.file)).map((r) => r.out[c.name].age);
  const all = rows.map((r) => r.out[c.name].age);
  const under18 = all.filter((a) => a < 18).length;
  aRows.push({ model: c.name, set: 'obama-240..1080p', persons: 1, 'median SD': res.length > 1 ? sd(res) : NaN, 'max SD': NaN, 'median range': Math.max(...res) - Math.min(...res), 'max range': NaN });
  const ms = rows.map((r) => r.out[c.name].ms);
  summary[c.name] = { gender: per, age: { ...age, resolutions: res, under18, of: all.length, min: Math.min(...all), max: Math.max(...all) }, medianMs: median(ms) };
}

console.log(`\n${rows.length} photos with a face (${missed.length} without: ${missed.join(', ') || 'none'}); gender-labelled: ${rows.filter((r) => r.sex).length}\n`);
console.log('Gender, correct at P(male) >= 0.5 (Wilson 95% interval), ROC AUC\n' + table(gRows));
console.log('\nAge consistency: spread of estimates within one person, years\n' + table(aRows));
for (const c of candidates) {
  const s = summary[c.name] as { age: { under18: number; of: number; min: number; max: number }; medianMs: number };
  console.log(`${c.name}: age estimates ${s.age.min.toFixed(0)}–${s.age.max.toFixed(0)}, under 18 on ${s.age.under18}/${s.age.of} adult photos; median ${s.medianMs.toFixed(1)} ms/face`);
}
const wrong = (name: string) => rows.filter((r) => r.sex && (r.out[name].male >= 0.5 ? 'M' : 'F') !== r.sex).map((r) => `${r.file.replace(/^faces\//, '')} ${r.out[name].male.toFixed(2)}`);
for (const c of candidates) console.log(`\n${c.name} wrong (${wrong(c.name).length}): ${wrong(c.name).join(', ')}`);
const file = writeResult('attributes', {
  summary, missed,
  photos: rows.map((r) => ({ file: r.file, person: r.person, sex: r.sex, faceWidth: r.faceWidth, ...Object.fromEntries(Object.entries(r.out).map(([k, v]) => [k, { male: +v.male.toFixed(4), age: +v.age.toFixed(1) }])) })),
});
console.log(`\nwrote ${file}`);
