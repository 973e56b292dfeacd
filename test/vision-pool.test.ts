// Inference pool lifecycle: a worker that dies mid-request fails that request cleanly (no hang)
// and is replaced; /readyz is 200 only once every default model is loaded.
//
// The crash is a real one: a message the worker does not expect (null) makes its handler throw
// outside the per-request try, an uncaught error that ends the thread. (Worker.terminate() is not
// used: stopping a thread inside ONNX Runtime's native run can abort the whole process.)
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { errorCode, startTestServer, type TestServer } from './helpers/server.ts';
import { hasTestdata, td, tdBase64, testdataSkipReason } from './helpers/testdata.ts';
import fs from 'node:fs';
import { readinessAcrossRelease } from './helpers/readiness.ts';

// A slow job (2000×1428, small faces, rotation search) so the kill lands while it runs.
const SLOW = { minFaceSize: 20, tryRotations: true, embedding: true } as const;

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.skipIf(!hasTestdata)('inference pool: worker crash', () => {
  if (!hasTestdata) it.skip(testdataSkipReason, () => {});
  let pool: InferencePool;
  beforeAll(async () => { pool = await InferencePool.start({ threads: 2, tasks: [] }); }, 120_000);
  afterAll(async () => { await pool?.close(); });

  it('the job on a killed worker rejects, the other job finishes, and the worker is replaced', async () => {
    const big = new Uint8Array(fs.readFileSync(td('faces/groups/obama_and_biden.jpg')));
    const jobs = [pool.analyze(big, SLOW), pool.analyze(big, SLOW)].map((p) => p.then((r) => ({ ok: r }), (e: Error) => ({ err: e })));
    await until(() => pool.workers.filter((w) => w.busy).length === 2, 'both workers busy');
    const victim = pool.workers[0].thread;
    const exited = new Promise((r) => victim.once('exit', r));
    victim.postMessage(null);
    await exited;
    const outcomes = await Promise.all(jobs);
    const failed = outcomes.filter((o): o is { err: Error } => 'err' in o);
    const done = outcomes.filter((o) => 'ok' in o) as { ok: Awaited<ReturnType<InferencePool['analyze']>> }[];
    expect(failed).toHaveLength(1);
    expect(failed[0].err.message).toMatch(/inference worker crashed/);
    expect(done).toHaveLength(1);
    expect(done[0].ok.faces.length).toBe(3);
    await until(() => pool.size === 2, 'the replacement worker');
    expect(pool.workers.map((w) => w.thread)).not.toContain(victim);
    // Both workers (the replacement included) serve.
    const again = await Promise.all([pool.analyze(big, { embedding: true }), pool.analyze(big, { embedding: true })]);
    for (const r of again) expect(r.faces.length).toBe(3);
  }, 120_000);
});

describe.skipIf(!hasTestdata)('server: worker crash and readiness', () => {
  if (!hasTestdata) it.skip(testdataSkipReason, () => {});
  let t: TestServer;
  const whileHeld: { status: number; models: string }[] = [];
  const afterRelease: { status: number; models: string }[] = [];
  let starts = 0;
  const readyz = async () => {
    const r = await fetch(`${t.url}/readyz`);
    return { status: r.status, models: ((await r.json()) as { checks: { models: string } }).checks.models };
  };
  beforeAll(async () => {
    // Model loading is held at a gate until the server has answered /readyz a few times, so the
    // loading state is observed every run rather than when the machine happens to be slow.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const realStart = InferencePool.start.bind(InferencePool);
    const spy = vi.spyOn(InferencePool, 'start').mockImplementation(async (o) => { starts++; await gate; return realStart(o); });
    try {
      t = await startTestServer({ FACEVAULT_INFERENCE_THREADS: '1' }, { warmVision: true });
      await readinessAcrossRelease(readyz, release, whileHeld, afterRelease);
    } finally {
      release();
      spy.mockRestore();
    }
  }, 120_000);
  afterAll(async () => { await t?.stop(); });

  it('/readyz is 503 while models load and 200 only when every default model is in', () => {
    expect(starts).toBe(1);
    expect(whileHeld).toEqual([0, 1, 2].map(() => ({ status: 503, models: 'loading' })));
    expect(afterRelease.at(-1)).toEqual({ status: 200, models: 'ok' });
    for (const r of afterRelease) expect(r.status === 200, JSON.stringify(r)).toBe(r.models === 'ok');
    const v = t.run.app.vision.status();
    expect(v.state === 'ready' && v.allLoaded).toBe(true);
    expect(v.state === 'ready' && v.tasks).toEqual(expect.arrayContaining(['landmark68', 'embedding', 'mesh', 'quality', 'attributes', 'liveness']));
  });

  it('a request on a worker that dies gets InternalError, not a hang; the next request is served', async () => {
    const pool = await t.run.app.vision.warm();
    const call = errorCode(t.iai().DetectFace({ Image: tdBase64('faces/groups/obama_and_biden.jpg'), MinFaceSize: 20, NeedRotateDetection: 1, MaxFaceNum: 10 }));
    await until(() => pool.workers.some((w) => w.busy), 'the worker to take the request');
    pool.workers[0].thread.postMessage(null);
    expect(await call).toBe('InternalError');
    const r = await t.iai().DetectFace({ Image: tdBase64('faces/identities/obama/obama.jpg') });
    expect(r.FaceInfos).toHaveLength(1);
    expect(pool.size).toBe(1);
    const log = t.run.app.errorLog.readAll().find((x) => x.code === 'InternalError');
    expect(log?.message).toBeTruthy();
  }, 120_000);
});
