// Does a search load stall the event loop? `npm run bench -- search-stall [--n 1000000] [--seconds 30] [--connections 4]`
// Uses the sealed group of `npm run bench -- search-load --n <n>` (bench/results/load-<n>/).
// For FACEVAULT_SEARCH_THREADS=0 (scans on the event loop, as before) and =1 (one search worker),
// in one run: a `facevault serve` child on that data; first the time from spawn to the first
// answered SearchFaces (restart: index rebuilt from the sealed rows); then autocannon drives
// SearchFaces (a 300-px photo, MaxPersonNum 5) at --connections while this process probes
// /healthz every 25 ms on its own connection; latency p50/p99 of both, and of /healthz alone
// before the load (the baseline on this shared machine).
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
const MODES = arg('modes', '0,1').split(',').map(Number);
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
// Every mode's node is started (and rebuilds its index) at once, then the modes are measured one
// after the other while the other node idles: a rebuild of millions of faces takes many minutes
// on this shared machine, so loading them in parallel is what fits a run.
const nodes = await Promise.all(MODES.map(async (threads) => {
  const node = await startServeChild({ FACEVAULT_METRICS: 'on', FACEVAULT_PERSON_INACTIVE_DAYS: '0', FACEVAULT_DATA_DIR: dir, FACEVAULT_SEARCH_THREADS: String(threads), FACEVAULT_INFERENCE_THREADS: '2' });
  const t = performance.now();
  // The first search waits for the index rebuild, which can outlast fetch's 300 s header timeout.
  let first: Record<string, any> | null = null;
  while (!first) first = await signedCall(node.url, key.SecretId, key.SecretKey, 'iai', 'SearchFaces', params).catch((e: Error) => { if (!/fetch failed/.test(e.message)) throw e; return null; });
  return { threads, node, first, firstSearch: (performance.now() - t) / 1000 };
}));
try {
  for (const { threads, node, first, firstSearch } of nodes) {
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
    rows.push({
      'search threads': threads, faces: faceNum, 'spawn to first answer s': +(node.readySeconds + firstSearch).toFixed(1), 'node RSS MB': Math.round(rssMb),
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
console.log(`\n${n.toLocaleString('en')} faces, ${CONNECTIONS} SearchFaces connections, ${SECONDS} s per mode, ${os.availableParallelism()} cores`);
console.log(table(rows));
console.log(writeResult(`search-stall-${n}`, { n, seconds: SECONDS, connections: CONNECTIONS, rows }));
