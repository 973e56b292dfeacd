// DetectFace over HTTP against a real `facevault serve` process (official SDK client):
// cold start to ready, single-face 640x480 JPEG latency with 1 client, throughput with 8;
// CompareFace of two large photos over HTTP against the bare models in this process (decode,
// one whole-frame detection, landmarks, align, embed, both images one after the other), and
// the ratio of the two medians.
//   npm run bench -- vision [--requests 60] [--cold-starts 5] [--cold-only]
// Cold start is repeated (median reported): on a shared machine one start says little.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { TESTDATA, hasTestdata } from '../test/helpers/testdata.ts';
import { FaceAnalyzer } from '../src/vision/face-analyzer.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { cosine } from '../src/vision/embedder.ts';
import { BENCH_DIR, median, percentile, table, writeResult } from './lib.ts';

const require = createRequire(import.meta.url);
const { iai } = require('tencentcloud-sdk-nodejs/tencentcloud/services/iai');

const ROOT = path.resolve(BENCH_DIR, '..');
const argv = process.argv.slice(2);
const numArg = (name: string, def: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) || def : def);
const REQUESTS = numArg('--requests', 60);
const COLD_STARTS = numArg('--cold-starts', 5);
const COLD_ONLY = argv.includes('--cold-only');
const SECRET_ID = 'AKIDbenchvision000001';
const SECRET_KEY = 'bench-vision-secret-key-0001';

async function startServer(threads: number) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fv-bench-vision-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/facevault.mjs'), 'serve'], {
    cwd: ROOT,
    env: { ...process.env, FACEVAULT_PORT: '0', FACEVAULT_DATA_DIR: dataDir, FACEVAULT_INFERENCE_THREADS: String(threads), FACEVAULT_BOOTSTRAP_SECRET_ID: SECRET_ID, FACEVAULT_BOOTSTRAP_SECRET_KEY: SECRET_KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    let found = false;
    // The server's stdout carries a JSON line per request: after the URL, drain it without
    // keeping it (re-scanning a growing buffer would cost this process CPU the server needs).
    child.stdout!.on('data', (d) => {
      if (found) return;
      buf += d;
      const m = /listening on (http:\/\/\S+)/.exec(buf);
      if (m) { found = true; buf = ''; resolve(m[1]); }
    });
    child.on('exit', (c) => reject(new Error(`server exited with ${c}: ${buf}`)));
  });
  const listening = performance.now() - t0;
  // /readyz answers 200 only once every default model is loaded in every worker.
  for (;;) {
    const r = await fetch(`${url}/readyz`).catch(() => null);
    const models = r ? ((await r.json()) as { checks: { models: string } }).checks.models : '';
    if (r?.status === 200) {
      if (models !== 'ok') throw new Error(`/readyz 200 with models "${models}"`);
      break;
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  const ready = performance.now() - t0;
  return {
    url, listening, ready,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function main() {
  if (!hasTestdata) {
    console.log(`vision: test data not found at ${TESTDATA}`);
    return;
  }
  // Single-face 640x480 JPEG (q90) cut from a 480p portrait.
  const jpeg = await sharp(path.join(TESTDATA, 'faces/identities/obama/obama-480p.jpg')).resize(640, 480, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
  const image = jpeg.toString('base64');
  const threads = os.availableParallelism();
  const cold: { listening: number; ready: number }[] = [];
  const loadBefore = os.loadavg()[0];
  for (let i = 0; i < COLD_STARTS; i++) {
    const s = await startServer(threads);
    cold.push({ listening: s.listening, ready: s.ready });
    await s.stop();
  }
  const coldRow = {
    starts: cold.length,
    'listening median ms': Math.round(median(cold.map((c) => c.listening))),
    'ready median ms': Math.round(median(cold.map((c) => c.ready))),
    'ready min ms': Math.round(Math.min(...cold.map((c) => c.ready))),
    'ready max ms': Math.round(Math.max(...cold.map((c) => c.ready))),
    'load avg (1 min)': `${loadBefore.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}`,
  };
  console.log(`\ncold start of \`facevault serve\` (${threads} inference threads) to /readyz 200 = every default model loaded in every worker`);
  console.log(table([coldRow]));
  if (COLD_ONLY) {
    writeResult('vision-cold', { command: 'npm run bench -- vision --cold-only', machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() }, threads, cold, coldRow });
    return;
  }
  const srv = await startServer(threads);
  const endpoint = srv.url.replace('http://', '');
  const client = () => new iai.v20200303.Client({ credential: { secretId: SECRET_ID, secretKey: SECRET_KEY }, region: 'ap-guangzhou', profile: { httpProfile: { endpoint, protocol: 'http://', reqTimeout: 60 } } });
  try {
    const c1 = client();
    const first = await c1.DetectFace({ Image: image });
    if (first.FaceInfos.length !== 1) throw new Error(`expected 1 face, got ${first.FaceInfos.length}`);
    for (let i = 0; i < 5; i++) await c1.DetectFace({ Image: image }); // warm-up

    const seq: number[] = [];
    const tSeq = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const t = performance.now();
      await c1.DetectFace({ Image: image });
      seq.push(performance.now() - t);
    }
    const seqWall = performance.now() - tSeq;

    const par: number[] = [];
    const clients = Array.from({ length: 8 }, client);
    const tPar = performance.now();
    let next = 0;
    await Promise.all(clients.map(async (c) => {
      while (next < REQUESTS * 2) {
        next++;
        const t = performance.now();
        await c.DetectFace({ Image: image });
        par.push(performance.now() - t);
      }
    }));
    const parWall = performance.now() - tPar;

    // CompareFace, two large photos (1920x1080 and 1200x1200), sequential requests.
    const photoA = fs.readFileSync(path.join(TESTDATA, 'faces/identities/obama/obama-1080p.jpg'));
    const photoB = fs.readFileSync(path.join(TESTDATA, 'faces/identities/biden/biden2.jpg'));
    const cmpReq = { ImageA: photoA.toString('base64'), ImageB: photoB.toString('base64') };
    for (let i = 0; i < 3; i++) await c1.CompareFace(cmpReq);
    const cmpHttp: number[] = [];
    for (let i = 0; i < Math.max(20, REQUESTS / 2); i++) {
      const t = performance.now();
      await c1.CompareFace(cmpReq);
      cmpHttp.push(performance.now() - t);
    }
    const bare = await FaceAnalyzer.load({ tasks: [] });
    const bareOnce = async () => {
      const a = (await bare.analyze(await decodeImage(photoA), { embedding: true, singleFace: true })).faces[0];
      const b = (await bare.analyze(await decodeImage(photoB), { embedding: true, singleFace: true })).faces[0];
      return cosine(a.embedding!, b.embedding!);
    };
    for (let i = 0; i < 3; i++) await bareOnce();
    const cmpBare: number[] = [];
    for (let i = 0; i < Math.max(20, REQUESTS / 2); i++) {
      const t = performance.now();
      await bareOnce();
      cmpBare.push(performance.now() - t);
    }
    const compareRows = [
      { path: 'CompareFace over HTTP (SDK, 1 client)', runs: cmpHttp.length, 'median ms': median(cmpHttp), 'p95 ms': percentile(cmpHttp, 95) },
      { path: 'bare models, this process, A then B', runs: cmpBare.length, 'median ms': median(cmpBare), 'p95 ms': percentile(cmpBare, 95) },
    ];
    const compareRatio = median(cmpHttp) / median(cmpBare);

    const loadAfter = os.loadavg();
    const rows = [
      { clients: 1, requests: seq.length, 'median ms': median(seq), 'p95 ms': percentile(seq, 95), 'req/s': seq.length / (seqWall / 1000) },
      { clients: 8, requests: par.length, 'median ms': median(par), 'p95 ms': percentile(par, 95), 'req/s': par.length / (parWall / 1000) },
    ];
    console.log(`\nDetectFace, single-face 640x480 JPEG (${jpeg.length} bytes), ${threads} inference threads, over HTTP with the official SDK`);
    console.log(table(rows));
    console.log(`speed-up with 8 clients: ${(rows[1]['req/s'] / rows[0]['req/s']).toFixed(2)}×; load average (1/5/15 min) after the runs: ${loadAfter.map((x) => x.toFixed(1)).join(' / ')}`);
    console.log(`\nCompareFace, obama-1080p.jpg (1920x1080, ${photoA.length} bytes) vs biden2.jpg (1200x1200, ${photoB.length} bytes)`);
    console.log(table(compareRows));
    console.log(`HTTP / bare: ${compareRatio.toFixed(2)}×`);
    const file = writeResult('vision', {
      compareRows, compareRatio,
      command: 'npm run bench -- vision', machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: loadAfter },
      threads, imageBytes: jpeg.length, rows, cold, coldRow,
    });
    console.log(`wrote ${file}`);
  } finally {
    await srv.stop();
  }
}

await main();
