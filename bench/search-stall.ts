// Does a search load stall the event loop? `npm run bench -- search-stall [--n 1000000] [--seconds 30] [--connections 4] [--modes 0,1] [--profile]`
// Uses the sealed group of `npm run bench -- search-load --n <n>` (bench/results/load-<n>/).
// For each --modes entry, in one run: FACEVAULT_SEARCH_THREADS (0 = scans on the event loop, 1 =
// one search worker), optionally /FACEVAULT_SQLITE_FLUSH (`1/event-loop,1/thread-pool`: SQLite's
// commit flushes inside the commit on the event loop, as before, or on the thread pool): a `facevault serve` child on that data; first the time from spawn to the first
// answered SearchFaces (restart: index rebuilt from the sealed rows); then autocannon drives
// SearchFaces (a 300-px photo, MaxPersonNum 5) at --connections while this process probes
// /healthz every 25 ms on its own connection; latency p50/p99 of both, and of /healthz alone
// before the load (the baseline on this shared machine).
// --profile: each node runs with --cpu-prof; after the run, the main thread's samples of the
// search-load window are cut into busy stretches (consecutive samples outside "(idle)": the
// event loop held), and the longest stretches are listed with the functions they spent their
// time in: what a /healthz probe waited for.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { RESULTS } from './search-data.ts';
import { percentile, signedCall, signedRequest, startServeChild, table, writeResult } from './lib.ts';
import { TESTDATA, hasTestdata } from '../test/helpers/testdata.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const n = Number(arg('n', '1000000'));
const SECONDS = Number(arg('seconds', '30'));
const CONNECTIONS = Number(arg('connections', '4'));
// A mode: FACEVAULT_SEARCH_THREADS, optionally /FACEVAULT_SQLITE_FLUSH (e.g. 1/event-loop,1/thread-pool).
const MODES = arg('modes', '0,1').split(',').map((m) => ({ key: m, threads: Number(m.split('/')[0]), flush: m.split('/')[1] ?? 'thread-pool' }));
const PROFILE = process.argv.includes('--profile');
const PROFILE_DIR = path.join(RESULTS, `search-stall-prof-${n}`);
if (PROFILE) fs.rmSync(PROFILE_DIR, { recursive: true, force: true });
const dir = path.join(RESULTS, `load-${n}`);
if (!hasTestdata) { console.log(`search-stall: test data not found at ${TESTDATA}`); process.exit(0); }
if (!fs.existsSync(path.join(dir, 'ready.json'))) { console.log(`search-stall: run \`npm run bench -- search-load --n ${n} --setup-only\` first`); process.exit(2); }
const { appId } = JSON.parse(fs.readFileSync(path.join(dir, 'ready.json'), 'utf8')) as { appId: number };

// A key for the loaded AppId (the setup keeps none).
const admin = await createApp(loadConfig({ FACEVAULT_DATA_DIR: dir, FACEVAULT_INFERENCE_THREADS: '1', FACEVAULT_SEARCH_THREADS: '0', FACEVAULT_PERSON_INACTIVE_DAYS: '0' }, 2));
const key = await admin.accounts.createKey(appId);
await admin.close();
const image = (await sharp(path.join(TESTDATA, 'faces/identities/biden/biden2.jpg')).resize(300).jpeg().toBuffer()).toString('base64');
const params = { GroupIds: ['G'], Image: image, MaxFaceNum: 1, MaxPersonNum: 5 };

async function probe(url: string, until: () => boolean): Promise<number[]> {
  const lat: number[] = [];
  while (!until()) {
    const t = performance.now();
    const r = await fetch(`${url}/healthz`);
    await r.arrayBuffer();
    lat.push(performance.now() - t);
    await new Promise((res) => setTimeout(res, 25));
  }
  return lat;
}

const rows: Record<string, unknown>[] = [];
// Wall-clock windows of each mode's search load (for --profile).
const windows = new Map<string, { from: number; to: number }>();
// Every mode's node is started (and rebuilds its index) at once, then the modes are measured one
// after the other while the other node idles: a rebuild of millions of faces takes many minutes
// on this shared machine, so loading them in parallel is what fits a run.
const nodes = await Promise.all(MODES.map(async (mode) => {
  const { threads } = mode;
  const nodeArgs = PROFILE ? ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', path.join(PROFILE_DIR, mode.key.replace('/', '-'))] : [];
  const node = await startServeChild({ FACEVAULT_METRICS: 'on', FACEVAULT_PERSON_INACTIVE_DAYS: '0', FACEVAULT_DATA_DIR: dir, FACEVAULT_SEARCH_THREADS: String(threads), FACEVAULT_SQLITE_FLUSH: mode.flush, FACEVAULT_INFERENCE_THREADS: '2' }, { nodeArgs });
  const t = performance.now();
  // The first search waits for the index rebuild, which can outlast fetch's 300 s header timeout.
  let first: Record<string, any> | null = null;
  while (!first) first = await signedCall(node.url, key.SecretId, key.SecretKey, 'iai', 'SearchFaces', params).catch((e: Error) => { if (!/fetch failed/.test(e.message)) throw e; return null; });
  return { mode, node, first, firstSearch: (performance.now() - t) / 1000 };
}));
try {
  for (const { mode, node, first, firstSearch } of nodes) {
    const { threads } = mode;
    const faceNum = first.FaceNum as number;
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    const rssMb = Number(/^facevault_process_resident_memory_bytes (\d+)/m.exec(metrics)?.[1] ?? NaN) / 2 ** 20;
    for (let i = 0; i < 3; i++) await signedCall(node.url, key.SecretId, key.SecretKey, 'iai', 'SearchFaces', params);
    let stop = Date.now() + 10_000;
    const idle = await probe(node.url, () => Date.now() > stop);
    const host = new URL(node.url).host;
    let errors = 0;
    const load = new Promise<autocannon.Result>((resolve, reject) => {
      autocannon({
        url: node.url, connections: CONNECTIONS, duration: SECONDS, timeout: 60,
        requests: [{
          setupRequest: (req: any) => Object.assign(req, signedRequest(host, key.SecretId, key.SecretKey, 'iai', 'SearchFaces', params)),
          onResponse: (_s: number, body: string) => { if (body.includes('"Error"')) errors++; },
        }],
      } as any, (err: Error | null, res: autocannon.Result) => (err ? reject(err) : resolve(res)));
    });
    stop = Date.now() + SECONDS * 1000 - 500;
    const busy = await probe(node.url, () => Date.now() > stop);
    const res = await load;
    windows.set(mode.key, { from: Date.now() - SECONDS * 1000, to: Date.now() });
    rows.push({
      'search threads': threads, 'SQLite flush': mode.flush, faces: faceNum, 'spawn to first answer s': +(node.readySeconds + firstSearch).toFixed(1), 'node RSS MB': Math.round(rssMb),
      'SearchFaces req/s': +(res.requests.average).toFixed(2), 'SearchFaces p50 ms': res.latency.p50, 'SearchFaces p99 ms': res.latency.p99, errors,
      'healthz idle p50/p99 ms': `${percentile(idle, 50).toFixed(1)} / ${percentile(idle, 99).toFixed(1)}`,
      'healthz under load p50 ms': +percentile(busy, 50).toFixed(1), 'healthz under load p99 ms': +percentile(busy, 99).toFixed(1), 'healthz max ms': +Math.max(...busy).toFixed(1), probes: busy.length,
      'load avg': +os.loadavg()[0].toFixed(1),
    });
    console.log(table(rows.slice(-1)));
  }
} finally {
  for (const x of nodes) await x.node.stop();
}
if (PROFILE) for (const { key } of MODES) { const w = windows.get(key); if (w) stalls(key, w); }

interface ProfNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

/** The main thread's busy stretches during the load window, longest first, with where their time went. */
function stalls(mode: string, w: { from: number; to: number }) {
  const d = path.join(PROFILE_DIR, mode.replace('/', '-'));
  // The main thread's profile is the one of thread 0 (workers write their own).
  const file = fs.readdirSync(d).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f)).map((f) => path.join(d, f))[0];
  if (!file) { console.log(`no main-thread profile in ${d}`); return; }
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  // The profile's clock is the process's monotonic one: align its end with the node's exit
  // (the file's mtime) to find the load window in it.
  const endWall = fs.statSync(file).mtimeMs;
  const t0 = p.endTime - (endWall - w.from) * 1000, t1 = p.endTime - (endWall - w.to) * 1000;
  const label = (id: number) => { const f = byId.get(id)!.callFrame; return `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${f.lineNumber + 1}`; };
  const frames = (id: number) => { const out: string[] = []; for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) out.push(label(x)); return out; };
  type Stretch = { start: number; ms: number; self: Map<string, number>; stacks: Map<string, number> };
  const out: Stretch[] = [];
  let cur: Stretch | null = null;
  let t = p.startTime;
  let busyTotal = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    if (t < t0 || t > t1) { cur = null; continue; }
    const name = byId.get(p.samples[i])!.callFrame.functionName;
    if (name === '(idle)') { if (cur) out.push(cur); cur = null; continue; }
    cur ??= { start: (t - t0) / 1e6, ms: 0, self: new Map(), stacks: new Map() };
    cur.ms += dt;
    busyTotal += dt;
    const f = frames(p.samples[i]);
    cur.self.set(f[0], (cur.self.get(f[0]) ?? 0) + dt);
    // The first frame of this code base's (or a library's) below the leaf, for the "why".
    const own = f.find((x) => /^\S+ (src|node_modules)\//.test(x)) ?? f[0];
    cur.stacks.set(own, (cur.stacks.get(own) ?? 0) + dt);
  }
  if (cur) out.push(cur);
  out.sort((a, b) => b.ms - a.ms);
  const spanMs = (t1 - t0) / 1000;
  console.log(`\nmode ${mode}: main thread busy ${busyTotal.toFixed(0)} ms of ${spanMs.toFixed(0)} ms in the load window; ${out.filter((x) => x.ms > 20).length} busy stretches > 20 ms, ${out.filter((x) => x.ms > 10).length} > 10 ms (${path.relative(process.cwd(), file)})`);
  const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([x, v]) => `${v.toFixed(1)} ${x}`).join('; ');
  for (const x of out.slice(0, 12)) console.log(`  ${x.ms.toFixed(1)} ms at +${x.start.toFixed(2)} s: self ${top(x.self, 3)} | in ${top(x.stacks, 3)}`);
  // Over all stretches > 10 ms: where their time went.
  const all = new Map<string, number>(), allSelf = new Map<string, number>();
  for (const x of out.filter((y) => y.ms > 10)) { for (const [k, v] of x.stacks) all.set(k, (all.get(k) ?? 0) + v); for (const [k, v] of x.self) allSelf.set(k, (allSelf.get(k) ?? 0) + v); }
  console.log(`  in stretches > 10 ms, by first own frame: ${top(all, 10)}`);
  console.log(`  in stretches > 10 ms, by leaf: ${top(allSelf, 10)}`);
}
console.log(`\n${n.toLocaleString('en')} faces, ${CONNECTIONS} SearchFaces connections, ${SECONDS} s per mode, ${os.availableParallelism()} cores`);
console.log(table(rows));
console.log(writeResult(`search-stall-${n}`, { n, seconds: SECONDS, connections: CONNECTIONS, rows }));
