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
import type { Insertable } from 'kysely';
import { createApp } from '../src/app.ts';
import type { DB } from '../src/store/db/schema.ts';
import { loadConfig } from '../src/config.ts';
import { FeatureCrypto } from '../src/store/keys/feature-crypto.ts';
import { combine } from '../src/store/keys/feature-crypto.ts';
import { DIM, FACES_PER_PERSON, RESULTS, loadOrMake } from './search-data.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const n = Number(arg('n', '1000000'));
const dir = path.join(RESULTS, `load-${n}`);
const env = { FACEVAULT_DATA_DIR: dir, FACEVAULT_INFERENCE_THREADS: '1' };
const log = (s: string) => console.log(s);

async function setup(): Promise<void> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const ds = loadOrMake('clustered', n, 300, log);
  const app = await createApp(loadConfig(env, 2));
  const acct = await app.accounts.createAccount('load-bench');
  const appId = acct.AppId;
  const crypto = new FeatureCrypto(app.keyStore, app.keyring);
  const key = await crypto.dataKey(appId);
  const t = performance.now();
  await app.library.groups.create({ appId, uin: '', subUin: '' }, { groupId: 'G', groupName: 'G', exDescriptions: [], tag: '', faceModelVersion: '3.0', keepImages: false });
  const k = app.db.kysely;
  const persons = Math.ceil(n / FACES_PER_PERSON);
  const B = 200;
  for (let p0 = 0; p0 < persons; p0 += B) {
    const pRows: Insertable<DB['persons']>[] = [], mRows: Insertable<DB['group_persons']>[] = [], fRows: Insertable<DB['faces']>[] = [];
    for (let p = p0; p < Math.min(persons, p0 + B); p++) {
      const pid = `p${p}`;
      const vs: Float32Array[] = [];
      for (let f = 0; f < FACES_PER_PERSON; f++) {
        const i = p * FACES_PER_PERSON + f;
        if (i >= n) break;
        const v = ds.vectors.slice(i * DIM, (i + 1) * DIM);
        vs.push(v);
        const fid = '1' + String(i).padStart(18, '0');
        fRows.push({ app_id: appId, face_id: fid, person_id: pid, feature: crypto.sealFace(key, appId, fid, v), face_rect: '{"X":0,"Y":0,"Width":100,"Height":100}', image_key: null, created_at: 0, data_class: 'face_feature', expires_at: null });
      }
      pRows.push({ app_id: appId, person_id: pid, name: pid, gender: 0, face_model_version: '3.0', combined_feature: crypto.sealPerson(key, appId, pid, combine(vs)), end_user_id: null, created_at: 0, updated_at: 0, last_used_at: 0, data_class: 'face_feature', expires_at: null });
      mRows.push({ app_id: appId, group_id: 'G', person_id: pid, ex_descriptions: '[]', created_at: p, data_class: 'face_feature', expires_at: null });
    }
    await k.transaction().execute(async (tx) => {
      await tx.insertInto('persons').values(pRows).execute();
      await tx.insertInto('group_persons').values(mRows).execute();
      for (let i = 0; i < fRows.length; i += 100) await tx.insertInto('faces').values(fRows.slice(i, i + 100)).execute();
    });
    if (p0 % 20000 === 0) process.stdout.write(`\r  setup: ${p0 * FACES_PER_PERSON} faces`);
  }
  // One ordinary write so the change log and seq are those of a live library.
  await app.library.groups.modify({ appId, uin: '', subUin: '' }, { groupId: 'G', tag: 'loaded' });
  await app.close();
  fs.writeFileSync(path.join(dir, 'ready.json'), JSON.stringify({ appId, n }));
  log(`\n  setup: ${n} sealed faces written in ${((performance.now() - t) / 1000).toFixed(0)} s`);
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
  log(`| ${n.toLocaleString('en')} | ${g.faces.size.toLocaleString('en')} | ${g.persons.size.toLocaleString('en')} | ${wall.toFixed(1)} | ${((c.user + c.system) / 1e6).toFixed(1)} | ${((peak - rss0) / 1e6).toFixed(0)} | ${((settled - rss0) / 1e6).toFixed(0)} | ${os.loadavg()[0].toFixed(1)} |`);
  const mu = process.memoryUsage();
  const bufMB = [...g.faces.buffers(), ...g.persons.buffers()].reduce((t, b) => t + b.byteLength, 0) / 1e6;
  log(`  settled: index buffers ${bufMB.toFixed(0)} MB, JS heap used ${(mu.heapUsed / 1e6).toFixed(0)} MB, ArrayBuffers ${(mu.arrayBuffers / 1e6).toFixed(0)} MB, RSS ${(mu.rss / 1e6).toFixed(0)} MB`);
  if (!hits.length) throw new Error('the loaded index returned nothing');
  await app.close();
}

if (process.argv.includes('--measure')) {
  await measure();
} else {
  if (!fs.existsSync(path.join(dir, 'ready.json'))) await setup();
  log('| faces in db | faces indexed | persons indexed | load s (wall) | load s (CPU, all threads) | peak RSS delta MB | settled RSS delta MB | load avg |');
  log('|---|---|---|---|---|---|---|---|');
  const tsx = path.resolve(import.meta.dirname, '../node_modules/tsx/dist/cli.mjs');
  const r = spawnSync(process.execPath, ['--expose-gc', tsx, import.meta.filename, '--n', String(n), '--measure'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
