// Detector cost: passes of the 320x240 model and time per detect(), this tree's detector against
// a baseline revision's, interleaved in one run (timings on a shared machine mean little alone;
// pass counts are exact).
//   npm run bench -- detector-cost [--baseline <git rev>] [--reps 3]
// stuart5 and amy1 are 150-px crops whose face fills the frame (the zoomed-out pass runs there).
// Modes: the one-face fast path (single, MinFaceSize 34), every face at 34 (DetectFace with
// MaxFaceNum > 1) and at 20.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FaceAnalyzer } from '../src/vision/face-analyzer.ts';
import { FaceDetector, type DetectOptions } from '../src/vision/detector.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { TESTDATA, hasTestdata } from '../test/helpers/testdata.ts';
import { BENCH_DIR, median, table, writeResult } from './lib.ts';

const argv = process.argv.slice(2);
const arg = (name: string, def: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : def);
const BASELINE = arg('--baseline', 'HEAD');
const REPS = Number(arg('--reps', '3'));
const PHOTOS = ['identities/stuart/stuart5.png', 'identities/amy/amy1.png', 'identities/obama/obama-480p.jpg', 'identities/obama/obama-1080p.jpg', 'crowds/person-nicole.jpg', 'groups/bbt1.jpg', 'crowds/group-1.jpg'];
const MODES: [string, DetectOptions][] = [['single, 34', { single: true, minFaceSize: 34 }], ['all, 34', { minFaceSize: 34 }], ['all, 20', { minFaceSize: 20 }]];

if (!hasTestdata) { console.log(`detector-cost: test data not found at ${TESTDATA}`); process.exit(0); }
const root = path.resolve(BENCH_DIR, '..');
const src = execFileSync('git', ['show', `${BASELINE}:src/vision/detector.ts`], { cwd: root, encoding: 'utf8' });
const tmp = path.join(BENCH_DIR, 'results', 'detector-baseline.ts');
fs.mkdirSync(path.dirname(tmp), { recursive: true });
fs.writeFileSync(tmp, src.replaceAll("from './", "from '../../src/vision/"));
const Baseline = (await import(pathToFileURL(tmp).href)).FaceDetector as typeof FaceDetector;

type Counted = FaceDetector & { passes: number };
const an = await FaceAnalyzer.load({ tasks: [] });
async function counted(C: typeof FaceDetector): Promise<Counted> {
  const d = (await C.load(an.set.models.detect, an.set.path('detect'))) as Counted;
  const run = d.detectRect.bind(d);
  d.passes = 0;
  d.detectRect = (...a: Parameters<FaceDetector['detectRect']>) => { d.passes++; return run(...a); };
  return d;
}
const dets = { baseline: await counted(Baseline), current: await counted(FaceDetector) };
const rows: Record<string, unknown>[] = [];
for (const f of PHOTOS) {
  const img = await decodeImage(fs.readFileSync(path.join(TESTDATA, 'faces', f)));
  for (const [mode, opts] of MODES) {
    const r: Record<string, { passes: number; faces: number; ms: number[] }> = {};
    for (let i = 0; i < REPS; i++) {
      for (const [name, d] of Object.entries(dets)) {
        d.passes = 0;
        const t0 = performance.now();
        const out = await d.detect(img, opts);
        (r[name] ??= { passes: d.passes, faces: out.length, ms: [] }).ms.push(performance.now() - t0);
      }
    }
    const b = r.baseline, c = r.current;
    rows.push({ photo: `${f} ${img.width}x${img.height}`, mode, passes: `${b.passes} / ${c.passes}`, median_ms: `${Math.round(median(b.ms))} / ${Math.round(median(c.ms))}`, time_ratio: (median(c.ms) / median(b.ms)).toFixed(2), faces: `${b.faces} / ${c.faces}` });
  }
}
console.log(`detector cost: baseline ${BASELINE} / this tree, ${REPS} interleaved runs each\n`);
console.log(table(rows));
console.log('\n' + writeResult('detector-cost', { baseline: BASELINE, rows }));
