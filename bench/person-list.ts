// npm run bench -- person-list [--faces 100000] [--backend pg,sqlite] [--reps 30] [--keep]
//
// GetPersonList (Limit 20) and GetPersonListNum on one group of --faces synthetic faces (faces/5
// persons, bench/search-bulk.ts), timed through the service (persons.list / groups.counts, i.e.
// every query the action runs) at the first page, a middle page and the last page.
//
// PostgreSQL: the group is bulk-loaded once into fv_bench_person_list_<n> (kept between runs:
// the "before" and "after" code are measured on the same rows) and each run works on a copy
// (CREATE DATABASE ... TEMPLATE), measured twice: as the bulk load leaves it, without planner
// statistics (this server runs with autovacuum off, so nothing analyzes it), then after
// VACUUM ANALYZE. SQLite: a fresh temp data dir, deleted afterwards. --keep keeps the PG
// template and its data dir (otherwise both are dropped at the end).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { BENCH_DIR, percentile, table, writeResult } from './lib.ts';
import { bulkLoadGroup } from './search-bulk.ts';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const FACES = Number(flag('faces', '100000'));
const BACKENDS = flag('backend', 'pg,sqlite').split(',');
const REPS = Number(flag('reps', '30'));
const PG_ADMIN = flag('pg', 'postgres://postgres@127.0.0.1:5432/test');
const KEEP = process.argv.includes('--keep');

const TEMPLATE = `fv_bench_person_list_${FACES}`;
const RUN_DB = `${TEMPLATE}_run`;
const dbUrl = (name: string) => PG_ADMIN.replace(/\/[^/]*$/, `/${name}`);
const PG_DIR = path.join(BENCH_DIR, 'results', `person-list-pg-${FACES}`);

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

const open = (env: Record<string, string>) => createApp(loadConfig({ FACEVAULT_INFERENCE_THREADS: '1', FACEVAULT_FUSION_THREADS: '0', FACEVAULT_PERSON_INACTIVE_DAYS: '0', FACEVAULT_LOG_LEVEL: 'silent', ...env }, 2), { noVideoJobs: true });

async function load(app: App): Promise<number> {
  const acct = await app.accounts.createAccount('bench');
  await bulkLoadGroup(app, acct.AppId, 'load', FACES, { log: (x) => console.log(x) });
  return acct.AppId;
}

type Row = { backend: string; stats: string; call: string; offset: number; reps: number; p50_ms: number; p99_ms: number };

async function measure(app: App, appId: number, backend: string, stats: string): Promise<Row[]> {
  await app.library.loaded; // the index load would compete for the CPU
  const caller = { appId, uin: '', subUin: '' };
  const persons = Math.ceil(FACES / 5);
  const rows: Row[] = [];
  // The answers are checked, not only timed: the same persons, in join order, with their faces.
  const first = await app.library.persons.list(caller, 'load', 0, 20);
  if (first.PersonNum !== persons || first.FaceNum !== FACES || first.PersonInfos[0].PersonId !== 'p0' || first.PersonInfos[19].PersonId !== 'p19' || first.PersonInfos[0].FaceIds.length !== 5) {
    throw new Error(`unexpected GetPersonList answer: ${JSON.stringify({ ...first, PersonInfos: first.PersonInfos.slice(0, 2) })}`);
  }
  const last = await app.library.persons.list(caller, 'load', persons - 20, 20);
  if (last.PersonInfos.at(-1)!.PersonId !== `p${persons - 1}`) throw new Error(`unexpected last page: ${last.PersonInfos.at(-1)!.PersonId}`);
  for (const offset of [0, Math.floor(persons / 2), persons - 20]) {
    const t: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      await app.library.persons.list(caller, 'load', offset, 20);
      t.push(performance.now() - t0);
    }
    rows.push({ backend, stats, call: 'GetPersonList', offset, reps: REPS, p50_ms: percentile(t, 50), p99_ms: percentile(t, 99) });
  }
  const t: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    const c = await app.library.groups.counts(caller, 'load');
    t.push(performance.now() - t0);
    if (c.PersonNum !== persons || c.FaceNum !== FACES) throw new Error(`unexpected counts ${JSON.stringify(c)}`);
  }
  rows.push({ backend, stats, call: 'GetPersonListNum', offset: 0, reps: REPS, p50_ms: percentile(t, 50), p99_ms: percentile(t, 99) });
  console.log(table(rows));
  return rows;
}

async function runPg(): Promise<Row[]> {
  const marker = path.join(PG_DIR, 'ready.json');
  if (!fs.existsSync(marker)) {
    fs.rmSync(PG_DIR, { recursive: true, force: true });
    fs.mkdirSync(PG_DIR, { recursive: true });
    await admin(async (c) => { await c.query(`DROP DATABASE IF EXISTS "${TEMPLATE}"`); await c.query(`CREATE DATABASE "${TEMPLATE}"`); });
    const app = await open({ FACEVAULT_DATABASE_URL: dbUrl(TEMPLATE), FACEVAULT_DATA_DIR: PG_DIR });
    let appId: number;
    try { appId = await load(app); } finally { await app.close(); }
    fs.writeFileSync(marker, JSON.stringify({ appId, faces: FACES }));
  }
  const { appId } = JSON.parse(fs.readFileSync(marker, 'utf8')) as { appId: number };
  await admin(async (c) => { await c.query(`DROP DATABASE IF EXISTS "${RUN_DB}"`); await c.query(`CREATE DATABASE "${RUN_DB}" TEMPLATE "${TEMPLATE}"`); });
  const rows: Row[] = [];
  try {
    const app = await open({ FACEVAULT_DATABASE_URL: dbUrl(RUN_DB), FACEVAULT_DATA_DIR: PG_DIR });
    try {
      rows.push(...await measure(app, appId, 'postgres', 'none'));
      const d = new pg.Client({ connectionString: dbUrl(RUN_DB) });
      await d.connect();
      try { await d.query('VACUUM ANALYZE'); } finally { await d.end(); }
      rows.push(...await measure(app, appId, 'postgres', 'analyzed'));
    } finally { await app.close(); }
  } finally {
    await admin(async (c) => { await c.query(`DROP DATABASE IF EXISTS "${RUN_DB}"`); });
  }
  return rows;
}

async function runSqlite(): Promise<Row[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fv-bench-person-list-'));
  try {
    const app = await open({ FACEVAULT_DATA_DIR: dir });
    try {
      const appId = await load(app);
      return await measure(app, appId, 'sqlite', 'none');
    } finally { await app.close(); }
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

async function main() {
  const rows: Row[] = [];
  if (BACKENDS.includes('pg')) rows.push(...await runPg());
  if (BACKENDS.includes('sqlite')) rows.push(...await runSqlite());
  console.log(`\nGetPersonList / GetPersonListNum on a group of ${FACES} faces (${Math.ceil(FACES / 5)} persons), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(table(rows));
  console.log(`wrote ${writeResult(`person-list-${FACES}`, { faces: FACES, reps: REPS, loadavg: os.loadavg(), rows })}`);
  if (!KEEP && BACKENDS.includes('pg')) {
    await admin(async (c) => { await c.query(`DROP DATABASE IF EXISTS "${TEMPLATE}"`); });
    fs.rmSync(PG_DIR, { recursive: true, force: true });
  }
}

await main();
