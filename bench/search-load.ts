// Start-up load of the search index from the database: `npm run bench -- search-load [--n 1000000]`.
// Setup (once, cached under bench/results/load-<n>/): a SQLite database with one AppId, one group
// and n faces (n/5 persons with combined features), every feature sealed as in production, from
// the clustered synthetic set of bench/search-data.ts. Measurement (a fresh child process, so RSS is
// clean): createApp() -> LibraryModule.loaded, i.e. read every sealed row, decrypt, encode into the
// index; wall time, CPU time, peak and settled RSS; then one search to check the index answers.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { DIM, RESULTS } from './search-data.ts';
import { bulkLoadGroup } from './search-bulk.ts';
import { percentile } from './lib.ts';
import { SearchPool } from '../src/search/search-pool.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const n = Number(arg('n', '1000000'));
const dir = path.join(RESULTS, `load-${n}`);
// No inactivity purge: the bench's persons are never matched (a sweep would erase them).
const env = { FACEVAULT_DATA_DIR: dir, FACEVAULT_INFERENCE_THREADS: '1', FACEVAULT_PERSON_INACTIVE_DAYS: '0' };
const log = (s: string) => console.log(s);
const QUERIES = 300;

async function setup(): Promise<void> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const app = await createApp(loadConfig(env, 2));
  const acct = await app.accounts.createAccount('load-bench');
  const appId = acct.AppId;
  const r = await bulkLoadGroup(app, appId, 'G', n, { queries: QUERIES, log });
  await app.close();
  // The query vectors (float32, never stored anywhere else) for the search timings below.
  const qs = new Float32Array(r.queries.length * DIM);
  r.queries.forEach((q, i) => qs.set(q, i * DIM));
  fs.writeFileSync(path.join(dir, 'queries.f32'), new Uint8Array(qs.buffer));
  fs.writeFileSync(path.join(dir, 'ready.json'), JSON.stringify({ appId, n, queryOwners: r.queryOwners }));
  log(`\n  setup: ${n} sealed faces written in ${r.seconds.toFixed(0)} s`);
}

/**
 * The setup's query vectors; for a database whose setup was cut short (it keeps them to the end),
 * the same kind of query made from the data: a fresh sample at cosine ~0.7 around the combined
 * feature of persons spread over the group.
 */
async function queriesFor(app: App, appId: number, persons: number): Promise<{ queryOwners: string[]; qs: Float32Array }> {
  const ready = JSON.parse(fs.readFileSync(path.join(dir, 'ready.json'), 'utf8')) as { queryOwners?: string[] };
  if (ready.queryOwners) return { queryOwners: ready.queryOwners, qs: new Float32Array(new Uint8Array(fs.readFileSync(path.join(dir, 'queries.f32'))).buffer) };
  const key = await app.library.crypto.dataKey(appId);
  const r = app.library.repo.reader(appId);
  const queryOwners: string[] = [];
  const qs = new Float32Array(QUERIES * DIM);
  let seed = 99;
  const gauss = () => { seed = (seed * 1103515245 + 12345) >>> 0; const u = (seed + 0.5) / 4294967296; seed = (seed * 1103515245 + 12345) >>> 0; const v = (seed + 0.5) / 4294967296; return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v); };
  for (let i = 0; i < QUERIES; i++) {
    const pid = `p${Math.floor((i * persons) / QUERIES)}`;
    const row = (await r.getPerson(pid))!;
    const c = app.library.crypto.openPerson(key, appId, pid, row.combined_feature!);
    const noise = new Float32Array(DIM);
    let nn = 0, cn = 0;
    for (let d = 0; d < DIM; d++) { noise[d] = gauss(); nn += noise[d] ** 2; cn += c[d] ** 2; }
    let qn = 0;
    const q = qs.subarray(i * DIM, (i + 1) * DIM);
    for (let d = 0; d < DIM; d++) { q[d] = 0.7 * c[d] / Math.sqrt(cn) + 0.714 * noise[d] / Math.sqrt(nn); qn += q[d] ** 2; }
    for (let d = 0; d < DIM; d++) q[d] /= Math.sqrt(qn);
    queryOwners.push(pid);
  }
  return { queryOwners, qs };
}

async function measure(): Promise<void> {
  const { appId } = JSON.parse(fs.readFileSync(path.join(dir, 'ready.json'), 'utf8')) as { appId: number };
  // Baseline: the app's own module graph and stores, on an empty data dir.
  const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facevault-load-'));
  await (await createApp(loadConfig({ ...env, FACEVAULT_DATA_DIR: emptyDir }, 2))).close();
  fs.rmSync(emptyDir, { recursive: true, force: true });
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  const c0 = process.cpuUsage();
  const t = performance.now();
  const app = await createApp(loadConfig(env, 2));
  await app.library.loaded;
  const wall = (performance.now() - t) / 1000;
  const c = process.cpuUsage(c0);
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  global.gc?.();
  const settled = process.memoryUsage().rss;
  const g = app.library.index.group(appId, 'G')!;
  const q = new Float32Array(DIM);
  q[0] = 1;
  const hits = g.faces.search(q, 1);
  // Search timings over the loaded index, k = 5, one query at a time: on the event loop, then
  // with the scans in one search worker (the production path), interleaved query by query.
  const { queryOwners, qs } = await queriesFor(app, appId, g.persons.size);
  const pool = new SearchPool(1);
  const onLoop: number[] = [], inWorker: number[] = [];
  let right = 0;
  for (let i = 0; i < queryOwners.length; i++) {
    const v = qs.subarray(i * DIM, (i + 1) * DIM);
    let t0 = performance.now();
    const a = g.faces.search(v, 5);
    onLoop.push(performance.now() - t0);
    t0 = performance.now();
    const b = await g.faces.searchAsync(v, 5, pool);
    inWorker.push(performance.now() - t0);
    if (a[0]?.owner === queryOwners[i] && b[0]?.owner === queryOwners[i]) right++;
  }
  await pool.close();
  log(`| ${Number((await app.db.kysely.selectFrom('faces').select((e) => e.fn.countAll().as('c')).executeTakeFirstOrThrow()).c).toLocaleString('en')} | ${g.faces.size.toLocaleString('en')} | ${g.persons.size.toLocaleString('en')} | ${wall.toFixed(1)} | ${((c.user + c.system) / 1e6).toFixed(1)} | ${((peak - rss0) / 1e6).toFixed(0)} | ${((settled - rss0) / 1e6).toFixed(0)} | ${os.loadavg()[0].toFixed(1)} |`);
  const mu = process.memoryUsage();
  const bufMB = [...g.faces.buffers(), ...g.persons.buffers()].reduce((t, b) => t + b.byteLength, 0) / 1e6;
  log(`  settled: index buffers ${bufMB.toFixed(0)} MB, JS heap used ${(mu.heapUsed / 1e6).toFixed(0)} MB, ArrayBuffers ${(mu.arrayBuffers / 1e6).toFixed(0)} MB, RSS ${(mu.rss / 1e6).toFixed(0)} MB`);
  log(`  search (${queryOwners.length} queries, k = 5, load avg ${os.loadavg()[0].toFixed(1)}): on the event loop p50 ${percentile(onLoop, 50).toFixed(2)} ms, p99 ${percentile(onLoop, 99).toFixed(2)} ms; scans in a worker p50 ${percentile(inWorker, 50).toFixed(2)} ms, p99 ${percentile(inWorker, 99).toFixed(2)} ms; top-1 person right (both) ${right}/${queryOwners.length}`);
  if (!hits.length) throw new Error('the loaded index returned nothing');
  await app.close();
}

if (process.argv.includes('--measure')) {
  await measure();
} else {
  if (!fs.existsSync(path.join(dir, 'ready.json'))) await setup();
  if (process.argv.includes('--setup-only')) process.exit(0);
  log('| faces in db | faces indexed | persons indexed | load s (wall) | load s (CPU, all threads) | peak RSS delta MB | settled RSS delta MB | load avg |');
  log('|---|---|---|---|---|---|---|---|');
  const tsx = path.resolve(import.meta.dirname, '../node_modules/tsx/dist/cli.mjs');
  const r = spawnSync(process.execPath, ['--expose-gc', tsx, import.meta.filename, '--n', String(n), '--measure'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
