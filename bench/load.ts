// npm run bench -- load [--nodes 1,2] [--levels 2,6,12] [--seconds 8] [--group-faces 100000] [--soak-seconds 0] [--max-queue N]
//
// `facevault serve` nodes on loopback on one PostgreSQL database (its own, fv_bench_load_<n>,
// and one data dir shared by the nodes as a shared object store and master key would be),
// under a realistic mix driven by autocannon (one autocannon instance per action, all at once,
// so each action has its own latency histogram while they compete; with 2 nodes each instance
// spreads its connections over both). SearchFaces runs against a group of --group-faces sealed
// synthetic faces bulk-loaded through the store layer (bench/search-bulk.ts) plus the 13
// labelled people enrolled with CreatePerson. Every request is TC3-signed as it is sent (fresh
// timestamp, CreatePerson a fresh PersonId). For each node count and concurrency level:
// throughput and p50/p99 per action, and how many replies were RequestLimitExceeded.
// --soak-seconds N then runs the mix on the first node at the middle level for N seconds,
// sampling its RSS from its own /metrics every second, and plots it (bench/results/load-soak-rss.png).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import sharp from 'sharp';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { BENCH_DIR, signedCall, signedRequest, startServeChild, table, writeResult } from './lib.ts';
import { bulkLoadGroup } from './search-bulk.ts';
import { TESTDATA, hasTestdata } from '../test/helpers/testdata.ts';

const ROOT = path.resolve(BENCH_DIR, '..');
const SECRET_ID = 'AKIDbenchload00000001';
const SECRET_KEY = 'bench-load-secret-key-0001';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const LEVELS = flag('levels', '2,6,12').split(',').map(Number);
const SECONDS = Number(flag('seconds', '8'));
const NODES = flag('nodes', '1,2').split(',').map(Number);
const GROUP_FACES = Number(flag('group-faces', '100000'));
const PG_ADMIN = flag('pg', 'postgres://postgres@127.0.0.1:5432/test');
const SOAK = Number(flag('soak-seconds', '0'));
const MAX_QUEUE = flag('max-queue', '');

const sign = (host: string, service: string, action: string, params: unknown) => signedRequest(host, SECRET_ID, SECRET_KEY, service, action, params);
const call = (url: string, service: string, action: string, params: unknown) => signedCall(url, SECRET_ID, SECRET_KEY, service, action, params);

// The bench's own database and data dir, kept between runs (the bulk load takes minutes).
const DB_NAME = `fv_bench_load_${GROUP_FACES}`;
const DB_URL = PG_ADMIN.replace(/\/[^/]*$/, `/${DB_NAME}`);
const DATA_DIR = path.join(BENCH_DIR, 'results', `load-pg-${GROUP_FACES}`);
const nodeEnv = () => ({
  FACEVAULT_DATABASE_URL: DB_URL, FACEVAULT_DATA_DIR: DATA_DIR, FACEVAULT_METRICS: 'on', FACEVAULT_FUSION_PUBLISHED_QPS: '100000',
  // The bulk-loaded persons are never matched; an inactivity purge would erase them mid-run.
  FACEVAULT_PERSON_INACTIVE_DAYS: '0', ...(MAX_QUEUE ? { FACEVAULT_MAX_QUEUE: MAX_QUEUE } : {}),
});

async function setupDatabase(): Promise<void> {
  const marker = path.join(DATA_DIR, 'ready.json');
  if (fs.existsSync(marker)) return;
  fs.rmSync(DATA_DIR, { recursive: true, force: true });
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${DB_NAME}"`);
    await c.query(`CREATE DATABASE "${DB_NAME}"`);
  } finally { await c.end(); }
  const app = await createApp(loadConfig({ ...nodeEnv(), FACEVAULT_INFERENCE_THREADS: '1' }, 2));
  try {
    const acct = await app.accounts.createAccount('load', { secretId: SECRET_ID, secretKey: SECRET_KEY });
    const r = await bulkLoadGroup(app, acct.AppId, 'load', GROUP_FACES, { log: (x) => console.log(x) });
    console.log(`setup: ${GROUP_FACES} sealed faces bulk-loaded into PostgreSQL in ${r.seconds.toFixed(0)} s`);
    fs.writeFileSync(marker, JSON.stringify({ appId: acct.AppId, faces: GROUP_FACES }));
  } finally { await app.close(); }
}

const b64 = (...p: string[]) => fs.readFileSync(path.join(TESTDATA, 'faces', ...p)).toString('base64');

async function rss(url: string): Promise<number> {
  const m = await (await fetch(`${url}/metrics`)).text();
  return Number(/^facevault_process_resident_memory_bytes (\d+)/m.exec(m)?.[1] ?? NaN);
}

async function main() {
  if (!hasTestdata) { console.log(`load: test data not found at ${TESTDATA}`); return; }
  await setupDatabase();
  if (process.argv.includes('--setup-only')) return;
  const nodes: Awaited<ReturnType<typeof startServeChild>>[] = [];
  const start = async () => {
    const nd = await startServeChild(nodeEnv());
    // Ready once the index is loaded: the first search waits for it.
    const t = performance.now();
    await call(nd.url, 'iai', 'GetGroupInfo', { GroupId: 'load' });
    const ping = (await sharp({ create: { width: 64, height: 64, channels: 3, background: 'gray' } }).jpeg().toBuffer()).toString('base64');
    await call(nd.url, 'iai', 'SearchFaces', { GroupIds: ['load'], Image: ping }).catch(() => {}); // no face: still syncs the index first
    console.log(`node ${nodes.length + 1} at ${nd.url}: ready in ${nd.readySeconds.toFixed(1)} s, index loaded ${((performance.now() - t) / 1000).toFixed(1)} s later`);
    nodes.push(nd);
    return nd;
  };
  const node1 = await start();
  const host = new URL(node1.url).host;
  try {
    // The data the mix works on: the 13 labelled people in the big group, a published activity with one material.
    const people = fs.readdirSync(path.join(TESTDATA, 'faces/identities')).sort();
    const photo: Record<string, string> = {};
    for (const p of people) {
      const f = fs.readdirSync(path.join(TESTDATA, 'faces/identities', p)).filter((x) => /\.(jpe?g|png)$/i.test(x)).sort();
      photo[p] = b64('identities', p, f[0]);
      await call(node1.url, 'iai', 'CreatePerson', { GroupId: 'load', PersonId: `p-${p}`, PersonName: p, Image: photo[p] }).catch((e: Error) => { if (!/AlreadyExist/.test(e.message)) throw e; });
    }
    const group = await call(node1.url, 'iai', 'GetGroupInfo', { GroupId: 'load' });
    const act = await call(node1.url, 'facefusion', 'CreateActivity', { ActivityName: 'load', Status: 'PUBLISHED' });
    const mat = await call(node1.url, 'facefusion', 'CreateMaterial', { ActivityId: act.ActivityId, MaterialName: 'obama', Image: b64('identities', 'obama', 'obama-720p.jpg') });
    const probe = photo.biden;
    const user = (await sharp(path.join(TESTDATA, 'faces/identities/biden/biden2.jpg')).resize(500).jpeg().toBuffer()).toString('base64');
    let seq = 0;
    const check = await call(node1.url, 'iai', 'SearchFaces', { GroupIds: ['load'], Image: probe, MaxPersonNum: 1 });
    console.log(`group "load": ${check.FaceNum} faces; SearchFaces top-1 for biden: ${check.Results[0]?.Candidates[0]?.PersonId} (group info: ${JSON.stringify(group).slice(0, 80)})`);

    // The mix: share of the connections per action (at least one each).
    const MIX: { name: string; share: number; service: string; params: () => unknown }[] = [
      { name: 'DetectFace', share: 0.25, service: 'iai', params: () => ({ Image: probe, MaxFaceNum: 1 }) },
      { name: 'SearchFaces', share: 0.25, service: 'iai', params: () => ({ GroupIds: ['load'], Image: probe, MaxFaceNum: 1, MaxPersonNum: 5 }) },
      { name: 'CreatePerson', share: 0.1, service: 'iai', params: () => ({ GroupId: 'load', PersonId: `n-${process.pid}-${seq++}`, PersonName: 'n', Image: probe }) },
      { name: 'FuseFace', share: 0.1, service: 'facefusion', params: () => ({ ProjectId: act.ActivityId, ModelId: mat.MaterialId, RspImgType: 'url', MergeInfos: [{ Image: user }] }) },
      { name: 'GetPersonList', share: 0.15, service: 'iai', params: () => ({ GroupId: 'load', Limit: 20 }) },
      { name: 'GetGroupInfo', share: 0.15, service: 'iai', params: () => ({ GroupId: 'load' }) },
    ];

    const run = async (urls: string[], connections: number, seconds: number, onTick?: () => void) => {
      const codes: Record<string, Record<string, number>> = {};
      const runs = MIX.map((m) => {
        codes[m.name] = {};
        // A multiple of the node count, so autocannon spreads an action evenly over the nodes.
        const c = Math.max(1, Math.round((connections * m.share) / urls.length)) * urls.length;
        return new Promise<autocannon.Result>((resolve, reject) => {
          const inst = autocannon({
            url: urls.length === 1 ? urls[0] : urls, connections: c, duration: seconds, timeout: 60,
            requests: [{
              setupRequest: (req: any) => Object.assign(req, sign(host, m.service, m.name, m.params())),
              onResponse: (_status: number, body: string) => {
                const code = /"Error":\{"Code":"([^"]+)"/.exec(body)?.[1] ?? 'OK';
                codes[m.name][code] = (codes[m.name][code] ?? 0) + 1;
              },
            }],
          } as any, (err: Error | null, res: autocannon.Result) => (err ? reject(err) : resolve(res)));
          void inst;
        });
      });
      const tick = onTick ? setInterval(onTick, 1000) : null;
      const res = await Promise.all(runs);
      if (tick) clearInterval(tick);
      return MIX.map((m, i) => {
        const r = res[i];
        const n = Object.values(codes[m.name]).reduce((a, b) => a + b, 0);
        return {
          action: m.name, connections: Math.max(1, Math.round((connections * m.share) / urls.length)) * urls.length, rps: n / seconds,
          ok: codes[m.name].OK ?? 0, limited: codes[m.name].RequestLimitExceeded ?? 0,
          other: Object.entries(codes[m.name]).filter(([k]) => k !== 'OK' && k !== 'RequestLimitExceeded').map(([k, v]) => `${k}:${v}`).join(' ') || '-',
          p50ms: r.latency.p50, p99ms: r.latency.p99,
        };
      });
    };

    const levels: { nodes: number; concurrency: number; totalRps: number; loadAverage: number; rows: Awaited<ReturnType<typeof run>> }[] = [];
    for (const count of NODES) {
      while (nodes.length < count) await start();
      const urls = nodes.slice(0, count).map((x) => x.url);
      for (const level of LEVELS) {
        const rows = await run(urls, level, SECONDS);
        const totalRps = rows.reduce((a, r) => a + r.rps, 0);
        const la = os.loadavg()[0];
        levels.push({ nodes: count, concurrency: level, totalRps, loadAverage: la, rows });
        console.log(`\n${count} node(s), concurrency ${level} (${SECONDS} s, ${os.availableParallelism()} cores, load average ${la.toFixed(1)}): ${totalRps.toFixed(1)} req/s in all`);
        console.log(table(rows));
      }
    }

    let soak: { t: number; rssMb: number }[] = [];
    if (SOAK > 0) {
      const level = LEVELS[Math.floor(LEVELS.length / 2)];
      const t0 = Date.now();
      const sample = () => { void rss(node1.url).then((b) => soak.push({ t: (Date.now() - t0) / 1000, rssMb: b / 2 ** 20 }), () => {}); };
      sample();
      await run([node1.url], level, SOAK, sample);
      sample();
      await new Promise((r) => setTimeout(r, 300));
      soak = soak.sort((a, b) => a.t - b.t);
      const png = path.join(BENCH_DIR, 'results', 'load-soak-rss.png');
      fs.mkdirSync(path.dirname(png), { recursive: true });
      await sharp(Buffer.from(rssSvg(soak, `RSS of one node, ${SOAK} s of the mix at concurrency ${level}`))).png().toFile(png);
      const first = soak.slice(0, Math.max(1, Math.floor(soak.length / 4)));
      const last = soak.slice(-Math.max(1, Math.floor(soak.length / 4)));
      const avg = (v: { rssMb: number }[]) => v.reduce((a, s) => a + s.rssMb, 0) / v.length;
      console.log(`\nsoak: ${soak.length} samples; RSS first quarter ${avg(first).toFixed(0)} MB, last quarter ${avg(last).toFixed(0)} MB, max ${Math.max(...soak.map((s) => s.rssMb)).toFixed(0)} MB -> ${path.relative(ROOT, png)}`);
    }
    console.log(`\n${writeResult(SOAK > 0 ? 'load-soak' : 'load', { seconds: SECONDS, groupFaces: check.FaceNum, cores: os.availableParallelism(), loadAverage: os.loadavg(), levels, soak })}`);
  } finally {
    for (const nd of nodes) await nd.stop();
  }
}

/** A small line chart as SVG (sharp renders it to PNG). */
function rssSvg(points: { t: number; rssMb: number }[], title: string): string {
  const W = 800, H = 360, L = 60, R = 20, T = 40, B = 40;
  const tMax = Math.max(1, ...points.map((p) => p.t));
  const yMax = Math.ceil(Math.max(1, ...points.map((p) => p.rssMb)) / 100) * 100;
  const x = (t: number) => L + (t / tMax) * (W - L - R);
  const y = (v: number) => H - B - (v / yMax) * (H - T - B);
  const ticks = Array.from({ length: 5 }, (_, i) => (yMax / 4) * i);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${title}</text>
${ticks.map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)} MB</text>`).join('\n')}
<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="black"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/>
<text x="${W / 2}" y="${H - 8}" text-anchor="middle">seconds</text><text x="${W - R}" y="${H - B + 16}" text-anchor="end">${tMax.toFixed(0)}</text><text x="${L}" y="${H - B + 16}">0</text>
<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="${points.map((p) => `${x(p.t).toFixed(1)},${y(p.rssMb).toFixed(1)}`).join(' ')}"/>
</svg>`;
}

await main();
