// A video job survives the death of its worker: `npm run bench -- video-worker-kill` (needs the
// PostgreSQL at FACEVAULT_TEST_PG or 127.0.0.1:5432, trust). An API server that runs no jobs
// (FACEVAULT_VIDEO_RUN_JOBS=0) takes a job on a 150-frame clip; `facevault worker` #1 (pg-boss)
// starts it and is SIGKILLed once it reports progress; worker #2 takes it over when pg-boss
// expires it, and finishes it. Prints the attempts and the number of results (must be 1).
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { startTestServer } from '../test/helpers/server.ts';
import { cutHamilton, HAMILTON } from '../test/helpers/video-clip.ts';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
const dbName = 'h9_pgboss_smoke_' + Date.now();
const base = process.env.FACEVAULT_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Client({ connectionString: base }); await admin.connect(); await admin.query(`create database ${dbName}`);
const u = new URL(base); u.pathname = `/${dbName}`; const PG = u.toString();
const clip = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'facevault-kill-')), 'clip.mp4');
void HAMILTON;
cutHamilton(clip, 90, 150);
const env = { FACEVAULT_DATABASE_URL: PG, FACEVAULT_VIDEO_QUEUE: 'pg-boss', FACEVAULT_VIDEO_RUN_JOBS: '0', FACEVAULT_VIDEO_LEASE_SECONDS: '5', FACEVAULT_FUSION_THREADS: '1' };
const t = await startTestServer(env);
const ff = t.common('facefusion');
const act = (await ff.request('CreateActivity', { ActivityName: 'v', Status: 'PUBLISHED' })).ActivityId;
const m = await ff.request('CreateMaterial', { ActivityId: act, Image: fs.readFileSync(clip).toString('base64') });
await t.run.app.video.materials.idle();
const s = await ff.request('SubmitVideoFaceFusionJob', { ProjectId: act, ModelId: m.MaterialId, MergeInfos: [{ Image: fs.readFileSync(path.join(path.dirname(HAMILTON), '..', 'faces', 'identities', 'obama', 'obama.jpg')).toString('base64') }] });
console.log('submitted', s.JobId, s.JobQueueLength);
await new Promise((r) => setTimeout(r, 3000));
console.log('before worker', (await ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId })).JobStatusCode);
// The worker shares the database (same schema: the app derives the schema from FACEVAULT_PG_SCHEMA?)
const worker = () => spawn(process.execPath, ['bin/facevault.mjs', 'worker'], { env: { ...process.env, ...env, FACEVAULT_DATA_DIR: t.dataDir }, stdio: ['ignore', 'inherit', 'inherit'] });
let w = worker();
const t0 = Date.now();
for (;;) { const r = await ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId }); if (r.JobStatusCode === 3 && r.Progress.FramesDone > 0) break; await new Promise((r) => setTimeout(r, 200)); }
w.kill('SIGKILL');
console.log('killed worker 1 while running', ((Date.now() - t0) / 1000).toFixed(1), 's', JSON.stringify((await ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId })).Progress));
w = worker();
let q: any;
for (;;) { q = await ff.request('QueryVideoFaceFusionJob', { JobId: s.JobId }); if (q.JobStatusCode >= 5 || Date.now() - t0 > 180_000) break; await new Promise((r) => setTimeout(r, 500)); }
console.log('after worker', q.JobStatusCode, q.JobErrorMsg, q.VideoFaceFusionOutput?.Frame, ((Date.now() - t0) / 1000).toFixed(1), 's');
w.kill('SIGTERM');
const row = await t.run.app.video.repo.jobById(s.JobId);
console.log('attempts', row?.attempts, 'status', row?.status, 'results', (await t.run.app.blobs.list('video/')).filter((k) => k.includes('/results/')).length);
await t.stop();
await new Promise((r) => setTimeout(r, 1500));
await admin.query(`drop database ${dbName} with (force)`); await admin.end();
