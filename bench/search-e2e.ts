// End-to-end SearchFaces over HTTP with a real photo against a 10,000-person group:
// `npm run bench -- search-e2e [--persons 10000] [--requests 60]`.
// A real server (2 inference threads) on a temp SQLite dir; the official SDK as client. The group
// holds the persons of the shared test photos (enrolled with CreatePerson, one photo each) plus
// synthetic persons up to --persons (sealed random unit features written through the library
// repository, so the change log and index are the production ones). The query is another photo
// of an enrolled person, sent as base64.
// Shares: the same photo is decoded, detected and embedded in this thread with the engine's own
// functions (what a worker does per request), and the 10k-face index searched directly; the rest
// of the HTTP median is protocol (TLS-less HTTP, TC3 signature, JSON, base64), the hop to the
// worker pool, and the database lookups (group rows, change-log seq).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/cli/serve.ts';
import { newFaceId } from '../src/services/library/library-context.ts';
import { decodeImage } from '../src/vision/image-decode.ts';
import { FaceAnalyzer } from '../src/vision/face-analyzer.ts';
import { TENCENT_IMAGE_LIMITS } from '../src/services/media/image-input.ts';
import { DIM } from '../src/search/vector-codes.ts';

const require = createRequire(import.meta.url);
const { iai } = require('tencentcloud-sdk-nodejs/tencentcloud/services/iai');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const PERSONS = Number(arg('persons', '10000'));
const REQUESTS = Number(arg('requests', '60'));
const testdata = process.env.FACEVAULT_TESTDATA ?? path.resolve(import.meta.dirname, '../../shared/testdata');
const ids = path.join(testdata, 'faces', 'identities');
if (!fs.existsSync(ids)) { console.log(`test photos not found at ${ids}`); process.exit(0); }

const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const p95 = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length * 0.95)];

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facevault-e2e-'));
const config = loadConfig({ FACEVAULT_PORT: '0', FACEVAULT_DATA_DIR: dataDir, FACEVAULT_INFERENCE_THREADS: '2', FACEVAULT_LOG_LEVEL: 'silent' }, 2);
const run = await startServer(config, () => {});
try {
  const app = run.app;
  const creds = await app.accounts.createAccount('e2e');
  const client = new iai.v20200303.Client({
    credential: { secretId: creds.SecretId, secretKey: creds.SecretKey }, region: config.region,
    profile: { httpProfile: { endpoint: run.url.replace('http://', ''), protocol: 'http://', reqTimeout: 120 } },
  });
  await client.CreateGroup({ GroupId: 'crowd', GroupName: 'Crowd' });
  const people = fs.readdirSync(ids).sort();
  for (const who of people) {
    const first = fs.readdirSync(path.join(ids, who)).sort()[0];
    await client.CreatePerson({ GroupId: 'crowd', PersonId: who, PersonName: who, Image: fs.readFileSync(path.join(ids, who, first)).toString('base64') });
  }
  // Synthetic persons through the repository (features sealed as in production).
  const appId = creds.AppId;
  const key = await app.library.crypto.dataKey(appId);
  const t0 = performance.now();
  const v = new Float32Array(DIM);
  for (let p0 = people.length; p0 < PERSONS; p0 += 500) {
    await app.library.repo.write(appId, Date.now(), async (w) => {
      for (let p = p0; p < Math.min(PERSONS, p0 + 500); p++) {
        let n = 0;
        for (let i = 0; i < DIM; i++) { const g = Math.random() - 0.5; v[i] = g; n += g * g; }
        for (let i = 0; i < DIM; i++) v[i] /= Math.sqrt(n);
        const pid = `syn${p}`, fid = newFaceId();
        await w.insertPerson({ person_id: pid, name: pid, gender: 0, face_model_version: '3.0', combined_feature: app.library.crypto.sealPerson(key, appId, pid, v), end_user_id: null, created_at: w.now, updated_at: w.now, last_used_at: w.now }, null);
        await w.insertMembership('crowd', pid, []);
        await w.insertFace({ face_id: fid, person_id: pid, feature: app.library.crypto.sealFace(key, appId, fid, v), face_rect: '{"X":0,"Y":0,"Width":100,"Height":100}', image_key: null, created_at: w.now });
      }
    });
  }
  await app.library.index.sync(appId);
  const group = app.library.index.group(appId, 'crowd')!;
  console.log(`group: ${group.faces.size} faces / ${group.persons.size} persons (${people.length} real, synthetic written in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  // The query: the second photo of the first enrolled person.
  const who = people[0];
  const file = path.join(ids, who, fs.readdirSync(path.join(ids, who)).sort()[1]);
  const bytes = fs.readFileSync(file);
  const b64 = bytes.toString('base64');
  for (let i = 0; i < 5; i++) await client.SearchFaces({ GroupIds: ['crowd'], Image: b64, MaxPersonNum: 5 });
  // Stage shares in this thread with the engine's own functions, interleaved with the HTTP
  // requests so both see the same machine load (other work shares the 2 cores).
  const fa = await FaceAnalyzer.load({ tasks: [], background: true });
  const lat: number[] = [], dec: number[] = [], det: number[] = [], emb: number[] = [], srch: number[] = [];
  let right = 0;
  let img = await decodeImage(new Uint8Array(bytes), TENCENT_IMAGE_LIMITS);
  for (let i = 0; i < REQUESTS; i++) {
    let t = performance.now();
    const r = await client.SearchFaces({ GroupIds: ['crowd'], Image: b64, MaxPersonNum: 5 });
    lat.push(performance.now() - t);
    if (r.Results[0].Candidates[0]?.PersonId === who) right++;
    t = performance.now();
    img = await decodeImage(new Uint8Array(bytes), TENCENT_IMAGE_LIMITS);
    dec.push(performance.now() - t);
    const rgb = { width: img.width, height: img.height, data: img.data };
    t = performance.now();
    await fa.analyze(rgb, {});
    det.push(performance.now() - t);
    t = performance.now();
    const a = await fa.analyze(rgb, { embedding: true });
    emb.push(performance.now() - t - det[det.length - 1]);
    const embedding = a.faces.sort((x, y) => y.box.width * y.box.height - x.box.width * x.box.height)[0].embedding!;
    t = performance.now();
    group.faces.search(embedding, 5);
    srch.push(performance.now() - t);
  }
  const total = med(lat);
  const parts = { decode: med(dec), 'detection (+68 landmarks)': med(det), embedding: Math.max(0, med(emb)), search: med(srch) };
  const sum = Object.values(parts).reduce((s, x) => s + x, 0);
  const rest = total - sum;
  console.log(`\nquery ${path.relative(testdata, file)} (${img.width}x${img.height}, ${(bytes.length / 1024).toFixed(0)} KB); top-1 = ${who} in ${right}/${REQUESTS}; load avg ${os.loadavg()[0].toFixed(1)}`);
  console.log(`| SearchFaces over HTTP, ${group.faces.size.toLocaleString('en')} faces | median ${total.toFixed(1)} ms | p95 ${p95(lat).toFixed(1)} ms |`);
  console.log('| stage | median ms (this thread) | share of the stage sum |');
  console.log('|---|---|---|');
  for (const [k, x] of Object.entries(parts)) console.log(`| ${k} | ${x.toFixed(2)} | ${((x / sum) * 100).toFixed(1)}% |`);
  // Medians of parts need not add up to the median of the whole; under load the remainder can even
  // come out negative, and is then not a measurement of anything.
  console.log(`| HTTP median minus stage sum (protocol, worker hop, database) | ${rest.toFixed(2)} | ${rest > 0 ? `${((rest / total) * 100).toFixed(0)}% of HTTP` : 'not separable under this load'} |`);
} finally {
  await run.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
