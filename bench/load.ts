// npm run bench -- load [--levels 2,8,24] [--seconds 6] [--soak-seconds 0] [--max-queue N]
//
// One `facevault serve` node on loopback under a realistic mix, driven by autocannon (one
// autocannon instance per action, all at once, so each action has its own latency histogram
// while they compete for the same node). Every request is TC3-signed as it is sent (fresh
// timestamp, CreatePerson a fresh PersonId). For each concurrency level: throughput and
// p50/p99 per action, and how many replies were RequestLimitExceeded (the bounded queues).
// --soak-seconds N then runs the mix at the middle level for N seconds, sampling the node's
// RSS from its own /metrics every second, and plots it (bench/results/load-soak-rss.png).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { tc3Authorization } from '../src/api/protocol/tc3-signature.ts';
import { BENCH_DIR, table, writeResult } from './lib.ts';
import { TESTDATA, hasTestdata } from '../test/helpers/testdata.ts';

const ROOT = path.resolve(BENCH_DIR, '..');
const SECRET_ID = 'AKIDbenchload00000001';
const SECRET_KEY = 'bench-load-secret-key-0001';
const VERSION: Record<string, string> = { iai: '2020-03-03', facefusion: '2022-09-27' };

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const LEVELS = flag('levels', '2,8,24').split(',').map(Number);
const SECONDS = Number(flag('seconds', '6'));
const SOAK = Number(flag('soak-seconds', '0'));
const MAX_QUEUE = flag('max-queue', '');

interface Signed { method: 'POST'; path: '/'; headers: Record<string, string>; body: string }

function sign(host: string, service: string, action: string, params: unknown): Signed {
  const body = JSON.stringify(params);
  const timestamp = Math.floor(Date.now() / 1000);
  const contentType = 'application/json; charset=utf-8';
  const authorization = tc3Authorization(SECRET_ID, { secretKey: SECRET_KEY, service, timestamp, contentType, host, body });
  return {
    method: 'POST', path: '/', body,
    headers: { 'content-type': contentType, host, authorization, 'x-tc-action': action, 'x-tc-version': VERSION[service], 'x-tc-timestamp': String(timestamp), 'x-tc-region': 'ap-guangzhou' },
  };
}

async function call(url: string, service: string, action: string, params: unknown): Promise<Record<string, any>> {
  const s = sign(new URL(url).host, service, action, params);
  const r = await fetch(url, { method: 'POST', headers: s.headers, body: s.body });
  const j = (await r.json()) as { Response: Record<string, any> };
  if (j.Response.Error) throw new Error(`${action}: ${j.Response.Error.Code}: ${j.Response.Error.Message}`);
  return j.Response;
}

async function startNode() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fv-bench-load-'));
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/facevault.mjs'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env, FACEVAULT_PORT: '0', FACEVAULT_DATA_DIR: dataDir, FACEVAULT_BOOTSTRAP_SECRET_ID: SECRET_ID, FACEVAULT_BOOTSTRAP_SECRET_KEY: SECRET_KEY,
      FACEVAULT_METRICS: 'on', FACEVAULT_LOG_LEVEL: 'warn', FACEVAULT_FUSION_PUBLISHED_QPS: '100000', ...(MAX_QUEUE ? { FACEVAULT_MAX_QUEUE: MAX_QUEUE } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => { buf += d; const m = /listening on (http:\/\/\S+)/.exec(buf); if (m) resolve(m[1]); });
    child.on('exit', (c) => reject(new Error(`server exited with ${c}`)));
  });
  child.stdout!.resume();
  for (;;) {
    const r = await fetch(`${url}/readyz`).catch(() => null);
    if (r?.status === 200) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return { url, child, async stop() { child.kill('SIGTERM'); await new Promise((r) => child.on('exit', r)); fs.rmSync(dataDir, { recursive: true, force: true }); } };
}

const b64 = (...p: string[]) => fs.readFileSync(path.join(TESTDATA, 'faces', ...p)).toString('base64');

async function rss(url: string): Promise<number> {
  const m = await (await fetch(`${url}/metrics`)).text();
  return Number(/^facevault_process_resident_memory_bytes (\d+)/m.exec(m)?.[1] ?? NaN);
}

async function main() {
  if (!hasTestdata) { console.log(`load: test data not found at ${TESTDATA}`); return; }
  const node = await startNode();
  const host = new URL(node.url).host;
  try {
    // The data the mix works on: a group of the 13 labelled people, a published activity with one material.
    const people = fs.readdirSync(path.join(TESTDATA, 'faces/identities')).sort();
    await call(node.url, 'iai', 'CreateGroup', { GroupId: 'load', GroupName: 'load' });
    const photo: Record<string, string> = {};
    for (const p of people) {
      const f = fs.readdirSync(path.join(TESTDATA, 'faces/identities', p)).filter((x) => /\.(jpe?g|png)$/i.test(x)).sort();
      photo[p] = b64('identities', p, f[0]);
      await call(node.url, 'iai', 'CreatePerson', { GroupId: 'load', PersonId: `p-${p}`, PersonName: p, Image: photo[p] });
    }
    const act = await call(node.url, 'facefusion', 'CreateActivity', { ActivityName: 'load', Status: 'PUBLISHED' });
    const mat = await call(node.url, 'facefusion', 'CreateMaterial', { ActivityId: act.ActivityId, MaterialName: 'obama', Image: b64('identities', 'obama', 'obama-720p.jpg') });
    const probe = photo.biden;
    const user = (await sharp(path.join(TESTDATA, 'faces/identities/biden/biden2.jpg')).resize(500).jpeg().toBuffer()).toString('base64');
    let seq = 0;

    // The mix: share of the connections per action (at least one each).
    const MIX: { name: string; share: number; service: string; params: () => unknown }[] = [
      { name: 'DetectFace', share: 0.25, service: 'iai', params: () => ({ Image: probe, MaxFaceNum: 1 }) },
      { name: 'SearchFaces', share: 0.25, service: 'iai', params: () => ({ GroupIds: ['load'], Image: probe, MaxFaceNum: 1, MaxPersonNum: 5 }) },
      { name: 'CreatePerson', share: 0.1, service: 'iai', params: () => ({ GroupId: 'load', PersonId: `n-${process.pid}-${seq++}`, PersonName: 'n', Image: probe }) },
      { name: 'FuseFace', share: 0.1, service: 'facefusion', params: () => ({ ProjectId: act.ActivityId, ModelId: mat.MaterialId, RspImgType: 'url', MergeInfos: [{ Image: user }] }) },
      { name: 'GetPersonList', share: 0.15, service: 'iai', params: () => ({ GroupId: 'load', Limit: 20 }) },
      { name: 'GetGroupInfo', share: 0.15, service: 'iai', params: () => ({ GroupId: 'load' }) },
    ];

    const run = async (connections: number, seconds: number, onTick?: () => void) => {
      const codes: Record<string, Record<string, number>> = {};
      const runs = MIX.map((m) => {
        codes[m.name] = {};
        const c = Math.max(1, Math.round(connections * m.share));
        return new Promise<autocannon.Result>((resolve, reject) => {
          const inst = autocannon({
            url: node.url, connections: c, duration: seconds, timeout: 60,
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
          action: m.name, connections: Math.max(1, Math.round(connections * m.share)), rps: n / seconds,
          ok: codes[m.name].OK ?? 0, limited: codes[m.name].RequestLimitExceeded ?? 0,
          other: Object.entries(codes[m.name]).filter(([k]) => k !== 'OK' && k !== 'RequestLimitExceeded').map(([k, v]) => `${k}:${v}`).join(' ') || '-',
          p50ms: r.latency.p50, p99ms: r.latency.p99,
        };
      });
    };

    const levels: { concurrency: number; totalRps: number; rows: Awaited<ReturnType<typeof run>> }[] = [];
    for (const level of LEVELS) {
      const rows = await run(level, SECONDS);
      const totalRps = rows.reduce((a, r) => a + r.rps, 0);
      levels.push({ concurrency: level, totalRps, rows });
      console.log(`\nconcurrency ${level} (${SECONDS} s, ${os.availableParallelism()} cores, load average ${os.loadavg()[0].toFixed(1)}): ${totalRps.toFixed(1)} req/s in all`);
      console.log(table(rows));
    }

    let soak: { t: number; rssMb: number }[] = [];
    if (SOAK > 0) {
      const level = LEVELS[Math.floor(LEVELS.length / 2)];
      const t0 = Date.now();
      const sample = () => { void rss(node.url).then((b) => soak.push({ t: (Date.now() - t0) / 1000, rssMb: b / 2 ** 20 }), () => {}); };
      sample();
      await run(level, SOAK, sample);
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
    console.log(`\n${writeResult('load', { seconds: SECONDS, cores: os.availableParallelism(), loadAverage: os.loadavg(), levels, soak })}`);
  } finally {
    await node.stop();
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
