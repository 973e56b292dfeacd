// npm run bench -- search-bulk-speed [--n 100000] [--pg]
// The capacity benches' bulk loader (bench/search-bulk.ts), both ways in one run: rows generated
// and sealed on the inserting thread between the inserts (workers 0, as before) and in a
// generator worker while the inserts run (workers 1). Each into a fresh SQLite data dir (or, with
// --pg, a fresh PostgreSQL database), deleted afterwards. Checks that both wrote the same data:
// the same query vectors and, for a sample of faces and persons, the same decrypted features.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { bulkLoadGroup } from './search-bulk.ts';
import { table, writeResult } from './lib.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const n = Number(arg('n', '100000'));
const PG = process.argv.includes('--pg');
const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/test';

async function sample(app: App, appId: number): Promise<string[]> {
  const key = await app.library.crypto.dataKey(appId);
  const r = app.library.repo.reader(appId);
  const out: string[] = [];
  for (const i of [0, 1, Math.floor(n / 2), n - 1]) {
    const fid = '1' + String(i).padStart(18, '0');
    const f = await app.db.kysely.selectFrom('faces').select(['person_id', 'feature']).where('app_id', '=', appId).where('face_id', '=', fid).executeTakeFirstOrThrow();
    out.push(`${fid} ${f.person_id} ${Buffer.from(app.library.crypto.openFace(key, appId, fid, f.feature).buffer).toString('base64').slice(0, 40)}`);
    const p = (await r.getPerson(f.person_id))!;
    out.push(`${p.person_id} ${Buffer.from(app.library.crypto.openPerson(key, appId, p.person_id, p.combined_feature!).buffer).toString('base64').slice(0, 40)}`);
  }
  return out;
}

const rows: Record<string, unknown>[] = [];
const checks: string[][] = [];
for (const workers of [0, 1] as const) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fv-bulk-speed-'));
  const db = `fv_bench_bulk_speed_${workers}`;
  const env: Record<string, string> = { FACEVAULT_DATA_DIR: dir, FACEVAULT_INFERENCE_THREADS: '1', FACEVAULT_PERSON_INACTIVE_DAYS: '0', FACEVAULT_LOG_LEVEL: 'silent' };
  const admin = async (q: string) => { const c = new pg.Client({ connectionString: PG_ADMIN }); await c.connect(); try { await c.query(q); } finally { await c.end(); } };
  if (PG) { await admin(`DROP DATABASE IF EXISTS "${db}"`); await admin(`CREATE DATABASE "${db}"`); env.FACEVAULT_DATABASE_URL = PG_ADMIN.replace(/\/[^/]*$/, `/${db}`); }
  try {
    const app = await createApp(loadConfig(env, 2), { noVideoJobs: true });
    try {
      const acct = await app.accounts.createAccount('bulk');
      const load0 = os.loadavg()[0];
      const r = await bulkLoadGroup(app, acct.AppId, 'G', n, { queries: 50, workers });
      rows.push({ backend: PG ? 'postgres' : 'sqlite', workers, faces: n, seconds: +r.seconds.toFixed(1), 'faces/s': Math.round(n / r.seconds), 'load avg (start / end)': `${load0.toFixed(1)} / ${os.loadavg()[0].toFixed(1)}` });
      console.log(table(rows.slice(-1)));
      checks.push([...r.queries.map((q) => Buffer.from(q.buffer).toString('base64').slice(0, 40)), ...r.queryOwners, ...await sample(app, acct.AppId)]);
    } finally { await app.close(); }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    if (PG) await admin(`DROP DATABASE IF EXISTS "${db}"`);
  }
}
const same = JSON.stringify(checks[0]) === JSON.stringify(checks[1]);
console.log(`\n${table(rows)}\nsame data both ways (query vectors, owners, sampled faces and persons decrypted): ${same}`);
console.log(writeResult(`search-bulk-speed-${n}`, { n, rows, same }));
if (!same) process.exit(1);
