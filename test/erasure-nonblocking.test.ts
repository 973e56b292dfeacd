// Issue 9.5: a deletion request scans the whole error log. Done on the event loop, 400 MB held
// the server for 2.4 s, repeatable by any tenant. The scan now runs in bounded steps: no
// /healthz sample waits on more than 100 ms of event-loop work, and the erasure is still complete.
//
// What is measured per sample is the CPU time of the event-loop thread while the sample was in
// flight (Linux per-thread counters), with the wall-clock latency reported beside it: on a shared
// 2-core machine under load (load average 8 when this was written) wall-clock gaps of 100-300 ms
// occur with no work at all, from CPU quota throttling, while a blocked event loop shows as CPU
// time on its own thread however busy the machine is.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { hasThreadCpu, mainThreadCpuMs } from './helpers/main-thread-cpu.ts';

const SUBJECT = 'eu-stall-7zq';
const TOTAL = 48 * 1024 * 1024;
const FILES = 6;

/** A realistic error record (what server.ts logs for a failed call), about 1.3 KB. */
function record(i: number, appId: number, endUserId?: string): string {
  return JSON.stringify({
    time: 1_700_000_000_000 + i, requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, appId, uin: '100000000001', subUin: '100000000001',
    region: 'ap-guangzhou', service: 'iai', action: 'SearchFaces', clientIp: '127.0.0.1', latencyMs: 12,
    params: { GroupIds: ['g1', 'g2', 'g3'], MaxFaceNum: 1, MinFaceSize: 34, MaxPersonNum: 5, NeedPersonInfo: 1, QualityControl: 0, FaceMatchThreshold: 60, Image: { redacted: true, bytes: 123456, sha256: 'ab'.repeat(32) }, Tags: Array.from({ length: 20 }, (_, k) => ({ k: `tag${k}`, v: k })) },
    ...(endUserId ? { endUserId } : {}), code: 'FailedOperation.NoFaceDetected', message: 'Image: no face was found in the image', stack: 'TcError: no face\n    at x (file.ts:1:1)\n'.repeat(6),
  }) + '\n';
}

describe.skipIf(!hasThreadCpu)('erasure does not stall the server', () => {
  let t: TestServer;
  let dir: string;
  beforeAll(async () => {
    t = await startTestServer();
    dir = path.join(t.dataDir, 'logs', 'error');
    const appId = t.creds.AppId;
    // Warm-up on an empty log: the first request through a code path pays for loading it.
    await t.common('iai').request('CreateDeletionRequest', { EndUserId: 'eu-warm-up' });
    // And of the sampler: the first fetch() in a process loads and compiles undici, 70-120 ms of
    // this thread's CPU that would be counted against the erasure's first sample.
    await (await fetch(`${t.url}/healthz`)).arrayBuffer();
    // Generated fast: one block of records repeated. Each file also holds one record naming the
    // subject under this AppId (erased) and one under another AppId (kept).
    // (Written block by block: one 48 MB string would leave its garbage in the server's heap.)
    const block = Buffer.from(Array.from({ length: 200 }, (_, i) => record(i, i % 2 ? appId : appId + 1)).join(''));
    const perFile = Math.ceil(TOTAL / FILES / block.length);
    for (let f = 0; f < FILES; f++) {
      const fd = fs.openSync(path.join(dir, `segment-${String(1_600_000_000_000 + f).padStart(15, '0')}-1.jsonl`), 'w', 0o600);
      for (let k = 0; k < perFile; k++) {
        fs.writeSync(fd, block);
        if (k === perFile >> 1) fs.writeSync(fd, record(9_000 + f, appId, SUBJECT) + record(9_100 + f, appId + 1, SUBJECT));
      }
      fs.closeSync(fd);
    }
  }, 120_000);
  afterAll(async () => { await t?.stop(); });

  it('the error log is big enough that scanning it in one go blocks for well over 100 ms (what the old code did)', async () => {
    // The old rewrite(): read and parse every segment synchronously. Measured in a worker thread
    // so its 48 MB of garbage does not land in the server's heap before the next test.
    const code = `
      const fs = require('node:fs'), path = require('node:path');
      const { parentPort, workerData: dir } = require('node:worker_threads');
      const c0 = process.cpuUsage();
      let n = 0;
      for (const f of fs.readdirSync(dir)) for (const l of fs.readFileSync(path.join(dir, f), 'utf8').split('\\n')) if (l) { JSON.parse(l); n++; }
      const c = process.cpuUsage(c0);
      parentPort.postMessage({ n, ms: (c.user + c.system) / 1000 });`;
    const { n, ms } = await new Promise<{ n: number; ms: number }>((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: dir });
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(n).toBeGreaterThan(30_000);
    expect(ms).toBeGreaterThan(150); // CPU time: one request would wait on all of it
  });

  it('a deletion request runs while no /healthz sample waits on 100 ms of event-loop work, and erases the records', async () => {
    const bytesBefore = t.run.app.errorLog.totalBytes();
    const linesBefore = fs.readdirSync(dir).reduce((n, f) => n + fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).length, 0);
    expect(bytesBefore).toBeGreaterThan(TOTAL * 0.9);
    let settled = false;
    const t0 = performance.now();
    const deletion = t.common('iai').request('CreateDeletionRequest', { EndUserId: SUBJECT }).finally(() => { settled = true; });
    const samples: number[] = [];
    const cpu: number[] = [];
    while (!settled) {
      const s = performance.now(), c = mainThreadCpuMs();
      const r = await fetch(`${t.url}/healthz`);
      await r.arrayBuffer();
      samples.push(performance.now() - s);
      cpu.push(mainThreadCpuMs() - c);
      await new Promise((res) => setTimeout(res, 5));
    }
    const receipt = (await deletion).DeletionRequest;
    const took = performance.now() - t0;
    const worst = cpu.indexOf(Math.max(...cpu));
    // 100 ms. A 70-120 ms sample seen on 2026-12-02 was the sampler's own first fetch() (undici
    // loading in this thread), now warmed up in beforeAll; with it, no sample exceeds 20 ms. The
    // old whole-log scan this guards against takes > 150 ms here (the test above), 2.4 s at 400 MB.
    expect(cpu[worst], `most event-loop CPU during one /healthz sample, of ${samples.length} during a ${Math.round(took)} ms erasure (that sample's latency ${Math.round(samples[worst])} ms; max latency ${Math.round(Math.max(...samples))} ms)`).toBeLessThan(100);
    // The erasure took long enough for the sampling to mean something.
    expect(samples.length, `only ${samples.length} samples in ${Math.round(took)} ms`).toBeGreaterThanOrEqual(10);
    // Complete: this AppId's records naming the subject are gone, the other AppId's stay.
    expect(receipt).toMatchObject({ Status: 'DONE', Scope: 'EndUserId' });
    expect(receipt.Deleted.ErrorLogRecords).toBe(FILES);
    const text = fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
    const naming = text.split('\n').filter((l) => l.includes(SUBJECT)).map((l) => JSON.parse(l).appId);
    expect(naming).toEqual(Array(FILES).fill(t.creds.AppId + 1));
    // Every other record is still there, whole.
    const lines = text.split('\n').filter(Boolean);
    expect(lines.length).toBe(linesBefore - FILES);
    for (const l of lines) JSON.parse(l);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 60_000);
});
