// Issue 9.1: every unit of image work has a deadline. A worker stuck past it is stopped (never
// inside native code) and replaced, its request fails with a clean error, and the pool reports
// itself not ready until the replacement runs. Then end to end: the reported BMP attack against
// DetectFace, FuseFace and CreateMaterial, and a slow analysis past a short deadline, with
// /readyz turning 503 and back to 200.
import fs from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FusionPool } from '../src/vision/fusion/pool.ts';
import { InferencePool } from '../src/vision/inference-pool.ts';
import { poolReady } from '../src/vision/pool-health.ts';
import { ImageError } from '../src/vision/types.ts';
import { MASK_ATTACK_BMP } from './helpers/hostile-bmp.ts';
import { errorCode, startTestServer, type TestServer } from './helpers/server.ts';
import { hasTestdata, td, tdBase64, testdataSkipReason } from './helpers/testdata.ts';

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const rejection = (p: Promise<unknown>) => p.then(() => null, (e: Error) => e);

describe('pool deadlines (a worker that spins in JavaScript)', () => {
  it('inference: the job fails at the deadline, the worker is terminated and replaced, readiness follows', async () => {
    const pool = await InferencePool.start({ threads: 1, taskTimeoutMs: 300, entry: new URL('./helpers/hang-inference-worker.mjs', import.meta.url) });
    try {
      const victim = pool.workers[0].thread;
      const exited = new Promise((r) => victim.once('exit', r));
      const t0 = performance.now();
      const e = await rejection(pool.analyze(new Uint8Array(10)));
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(e).toBeInstanceOf(ImageError);
      expect((e as ImageError).kind).toBe('timeout');
      expect(e!.message).toMatch(/not processed within 300 ms/);
      // Out of rotation and being stopped, or its replacement starting: not ready.
      expect(poolReady(pool.health())).toBe(false);
      await exited; // terminate() ended it: the stop message is never read by a spinning thread
      await until(() => poolReady(pool.health()) && pool.size === 1, 'the replacement worker');
      expect(pool.workers[0].thread).not.toBe(victim);
      expect(pool.health()).toMatchObject({ stuck: 0, replacing: 0, timeouts: 1, workers: 1 });
    } finally { await pool.close(1000); }
  }, 60_000);

  it('fusion: the task fails at the deadline, the worker is terminated and replaced, readiness follows', async () => {
    const pool = new FusionPool(1, { taskTimeoutMs: 300, entry: new URL('./helpers/hang-fusion-worker.mjs', import.meta.url) });
    try {
      await until(() => poolReady(pool.health()), 'the worker to start');
      const template = { width: 4, height: 4, data: new Uint8Array(48) };
      const e = await rejection(pool.run(template, []));
      expect(e).toBeInstanceOf(ImageError);
      expect((e as ImageError).kind).toBe('timeout');
      expect(poolReady(pool.health())).toBe(false);
      await until(() => poolReady(pool.health()), 'the replacement worker');
      expect(pool.health()).toMatchObject({ stuck: 0, replacing: 0, timeouts: 1, workers: 1 });
    } finally { await pool.close(); }
  }, 60_000);
});

describe.skipIf(!hasTestdata)(`server: the BMP attack and the deadline${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let t: TestServer;
  const readyz = async () => { const r = await fetch(`${t.url}/readyz`); return { status: r.status, body: (await r.json()) as { checks: Record<string, string> } }; };
  beforeAll(async () => {
    // A deadline short enough for the slow analysis below to pass it, long enough for normal ones.
    t = await startTestServer({ FACEVAULT_INFERENCE_THREADS: '1', FACEVAULT_FUSION_THREADS: '1', FACEVAULT_IMAGE_TASK_TIMEOUT_MS: '2500' }, { warmVision: true });
    await until(async () => (await readyz()).status === 200, 'readiness', 120_000);
  }, 180_000);
  afterAll(async () => {
    await t?.run.app.vision.warm().then((p) => p.allLoaded).catch(() => {});
    await t?.stop();
  });

  it('the 64x64 BMP with 0xFFFFFFFF masks gets a clean error from DetectFace, FuseFace and CreateMaterial; the server keeps serving', async () => {
    const bmp = MASK_ATTACK_BMP().toString('base64');
    const ff = t.common('facefusion');
    const activityId = (await ff.request('CreateActivity', { ActivityName: 'a', Status: 'PUBLISHED' })).ActivityId;
    const materialId = (await ff.request('CreateMaterial', { ActivityId: activityId, MaterialName: 'm', Image: tdBase64('faces', 'identities', 'obama', 'obama.jpg') })).MaterialId;
    const t0 = performance.now();
    const codes = await Promise.all([
      errorCode(t.iai().DetectFace({ Image: bmp })),
      errorCode(t.iai().DetectFace({ Image: bmp })), // two at once pinned both workers before
      errorCode(t.facefusion().FuseFace({ ProjectId: activityId, ModelId: materialId, RspImgType: 'base64', MergeInfos: [{ Image: bmp }] })),
      errorCode(ff.request('CreateMaterial', { ActivityId: activityId, MaterialName: 'bmp', Image: bmp })),
    ]);
    expect(codes).toEqual(Array(4).fill('FailedOperation.ImageDecodeFailed'));
    expect(performance.now() - t0).toBeLessThan(2000); // refused by the reader, not by the deadline
    let message = '';
    try { await t.iai().DetectFace({ Image: bmp }); } catch (e) { message = (e as Error).message; }
    expect(message).toMatch(/^Image: the BMP red bit mask 0xffffffff/);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    // Served again by the replacement. The deadline here is short (2.5 s): on a machine loaded by
    // other work the first request on a fresh worker can exceed it, so one timeout is retried.
    const detect = () => t.iai().DetectFace({ Image: tdBase64('faces', 'identities', 'obama', 'obama.jpg') });
    const served = await detect().catch((e: { code?: string }) => { if (e.code === 'FailedOperation.RequestTimeout') return detect(); throw e; });
    expect(served.FaceInfos).toHaveLength(1);
    expect((await readyz()).status).toBe(200);
  }, 120_000);

  it('an analysis past the deadline fails with FailedOperation.RequestTimeout; /readyz is 503 until the worker is replaced', async () => {
    const pool = await t.run.app.vision.warm();
    const victim = pool.workers[0].thread;
    // A legitimately slow job: 4000x2856 (four copies of a group photo), small faces, rotation
    // search and every attribute; several times the 2.5 s deadline here (about 1 s per copy).
    const group = fs.readFileSync(td('faces', 'groups', 'obama_and_biden.jpg'));
    const { width = 0, height = 0 } = await sharp(group).metadata();
    const big = (await sharp({ create: { width: width * 2, height: height * 2, channels: 3, background: '#808080' } })
      .composite([0, 1, 2, 3].map((i) => ({ input: group, left: (i % 2) * width, top: (i >> 1) * height }))).jpeg().toBuffer()).toString('base64');
    const seen: number[] = [];
    let done = false;
    const watch = (async () => { while (!done) { seen.push((await readyz()).status); await new Promise((r) => setTimeout(r, 20)); } })();
    const code = await errorCode(t.iai().DetectFace({ Image: big, MinFaceSize: 20, NeedRotateDetection: 1, MaxFaceNum: 10, NeedFaceAttributes: 1, NeedQualityDetection: 1 }));
    expect(code).toBe('FailedOperation.RequestTimeout');
    const r = await readyz();
    expect(r.status).toBe(503);
    expect(r.body.checks.workers).toMatch(/inference: \d worker\(s\) stopped at the task deadline, \d replacement\(s\) starting/);
    await until(async () => (await readyz()).status === 200, 'readiness after the replacement', 120_000);
    done = true;
    await watch;
    expect(seen).toContain(200);
    expect(pool.workers.map((w) => w.thread)).not.toContain(victim);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    // Served again by the replacement. The deadline here is short (2.5 s): on a machine loaded by
    // other work the first request on a fresh worker can exceed it, so one timeout is retried.
    const detect = () => t.iai().DetectFace({ Image: tdBase64('faces', 'identities', 'obama', 'obama.jpg') });
    const served = await detect().catch((e: { code?: string }) => { if (e.code === 'FailedOperation.RequestTimeout') return detect(); throw e; });
    expect(served.FaceInfos).toHaveLength(1);
    const logged = t.run.app.errorLog.readAll().find((x) => x.code === 'FailedOperation.RequestTimeout');
    expect(logged?.message).toMatch(/^Image: the image was not processed within 2500 ms/);
  }, 180_000);
});
