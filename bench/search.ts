// 1:N search benchmark: `npm run bench -- search [--sizes 100000,1000000] [--queries 300] [--kinds clustered,uniform]`.
// Measures the VectorIndex that serves SearchFaces (src/search/vector-index.ts): build time, query
// latency (one query at a time, this thread), recall@1 against an exact float32 brute force
// (usearch exactSearch), and memory. Figures go to docs/PERFORMANCE.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { VectorIndex } from '../src/search/vector-index.ts';
import { DIM, RESULTS, loadOrMake, type DataSet } from './search-data.ts';

const require = createRequire(import.meta.url);
const usearch = require('usearch');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const sizes = arg('sizes', '100000,1000000').split(',').map(Number);
const kinds = arg('kinds', 'clustered,uniform').split(',') as ('clustered' | 'uniform')[];
const Q = Number(arg('queries', '300'));
const log = (s: string) => console.log(s);

/** Exact top-1 (face index) per query, cached next to the data. */
function groundTruth(kind: string, ds: DataSet): Int32Array {
  const file = path.join(RESULTS, `${kind}-${ds.n}-q${Q}.gt`);
  if (fs.existsSync(file)) return new Int32Array(new Uint8Array(fs.readFileSync(file)).buffer);
  const t = performance.now();
  const gt = new Int32Array(Q);
  const batch = 16;
  for (let j = 0; j < Q; j += batch) {
    const m = Math.min(batch, Q - j);
    // Copy: exactSearch ignores a typed array's byteOffset.
    const qs = ds.queries.slice(j * DIM, (j + m) * DIM);
    const r = usearch.exactSearch(ds.vectors, qs, DIM, 1, 'ip', 2);
    for (let b = 0; b < m; b++) gt[j + b] = Number(r.get(b).keys[0]);
  }
  fs.writeFileSync(file, new Uint8Array(gt.buffer));
  log(`  ground truth (usearch exact f32) for ${Q} queries: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return gt;
}

function pct(a: number[], p: number) { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; }

const rows: string[] = [];
for (const kind of kinds) {
  for (const n of sizes) {
    log(`== ${kind}, ${n} faces`);
    const ds = loadOrMake(kind, n, Q, log);
    const gt = groundTruth(kind, ds);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const idx = new VectorIndex();
    let t = performance.now();
    const v = new Float32Array(DIM);
    for (let i = 0; i < n; i++) {
      v.set(ds.vectors.subarray(i * DIM, (i + 1) * DIM));
      idx.upsert(String(i), String(ds.owner(i)), v);
    }
    const buildS = (performance.now() - t) / 1000;
    const bytes = idx.buffers().reduce((s, b) => s + b.byteLength, 0);
    const rssMb = (process.memoryUsage().rss - rss0) / 1e6;
    // Warm-up, then measure.
    for (let j = 0; j < 10; j++) idx.search(ds.queries.subarray(j * DIM, (j + 1) * DIM), 5);
    const lat: number[] = [], cpu: number[] = [];
    let face1 = 0, person1 = 0;
    for (let j = 0; j < Q; j++) {
      const q = ds.queries.subarray(j * DIM, (j + 1) * DIM);
      // CPU time too: other work shares the 2 cores, and wall time then includes waiting for one.
      const c0 = process.cpuUsage();
      t = performance.now();
      const hits = idx.search(q, 5);
      lat.push(performance.now() - t);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      const top = hits[0];
      if (top && Number(top.id) === gt[j]) face1++;
      if (top && Number(top.owner) === ds.owner(gt[j])) person1++;
    }
    const med = pct(lat, 0.5), p99 = pct(lat, 0.99);
    const line = `| ${kind} | ${n.toLocaleString('en')} | ${med.toFixed(2)} | ${p99.toFixed(2)} | ${pct(cpu, 0.5).toFixed(2)} | ${pct(cpu, 0.99).toFixed(2)} | ${os.loadavg()[0].toFixed(1)} | ${(face1 / Q).toFixed(3)} | ${(person1 / Q).toFixed(3)} | ${buildS.toFixed(1)} | ${(bytes / 1e6).toFixed(0)} | ${rssMb.toFixed(0)} |`;
    log(line);
    rows.push(line);
    idx.clear();
  }
}
log('\n| data | faces | median ms | p99 ms | CPU median ms | CPU p99 ms | load avg | recall@1 (face) | recall@1 (person) | build s | index buffers MB | RSS delta MB |');
log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) log(r);
