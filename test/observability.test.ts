// /metrics (Prometheus, behind its token) and the JSON request log: every line carries the
// RequestId the client got, and none holds the image, the key, or a signed URL's credentials.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { startTestServer, errorCode, type TestServer } from './helpers/server.ts';
import { hasTestdata, tdBase64, testdataSkipReason } from './helpers/testdata.ts';
import { loadConfig } from '../src/config.ts';
import { metricsRoute } from '../src/api/routes/metrics.ts';
import { Metrics } from '../src/api/observability/metrics.ts';

const TOKEN = 'metrics-token-0123456789abcdef';
const SIGNATURE = 'f00dfacecafe5ec2e7516a7u2e0123456789abcdef0123456789abcdef012345';
const SIGNED_URL = `https://bucket.s3.example.com/faces/a.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20260101&X-Amz-Signature=${SIGNATURE}`;

describe.skipIf(!hasTestdata)('observability', () => {
  let t: TestServer;
  const out: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => out.push(c.toString('utf8')));
  const lines = () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const image = hasTestdata ? tdBase64('faces/identities/alex_lacamoire/img1.jpg') : '';

  beforeAll(async () => {
    t = await startTestServer({ FACEVAULT_INFERENCE_THREADS: '1', FACEVAULT_FUSION_THREADS: '1', FACEVAULT_METRICS: `token:${TOKEN}` }, {}, { log: { stream, level: 'info' } });
  }, 120_000);
  afterAll(async () => { await t?.stop(); });

  it('logs one JSON line per request with its RequestId, and no image, key or signed-URL credential', async () => {
    if (!hasTestdata) return;
    const iai = t.iai();
    const ok = await iai.DetectFace({ Image: image, MaxFaceNum: 1 });
    expect(ok.FaceInfos.length).toBe(1);
    // A pre-signed Url (refused: the host does not resolve / is not allowed) and a signed result link.
    expect(await errorCode(iai.DetectFace({ Url: SIGNED_URL }))).not.toBe('OK');
    const res = await fetch(`${t.url}/results/0123456789abcdef.jpg?Expires=1&Signature=${SIGNATURE}`);
    expect([403, 404]).toContain(res.status);
    // An unknown action: refused at the gate, logged all the same.
    expect(await errorCode(t.common('iai').request('NoSuchActionHere', {}))).toBe('InvalidAction');
    await new Promise((r) => setTimeout(r, 200)); // pino writes asynchronously

    const all = lines();
    const text = out.join('');
    // Every line about a request names it; only the listener's own start line does not.
    for (const l of all) if (!/^Server listening/.test(String(l.msg))) expect(typeof l.RequestId, JSON.stringify(l)).toBe('string');
    expect(all.filter((l) => l.RequestId).length).toBeGreaterThanOrEqual(4);
    const calls = all.filter((l) => l.msg === 'call' || l.msg === 'call failed');
    expect(calls.map((l) => l.action)).toEqual(expect.arrayContaining(['DetectFace', 'NoSuchActionHere']));
    const detect = calls.find((l) => l.action === 'DetectFace' && l.code === 'OK')!;
    expect(detect).toMatchObject({ service: 'iai', appId: t.creds.AppId, statusCode: 200 });
    expect(detect.RequestId).toBe(ok.RequestId);
    expect(all.some((l) => (l.req as { url?: string })?.url?.startsWith('/results/0123456789abcdef.jpg?Expires=REDACTED&Signature=REDACTED'))).toBe(true);
    // What must never be written: the image (any 64-character slice of it), the signature, the key.
    for (const at of [0, 1000, Math.floor(image.length / 2)]) expect(text).not.toContain(image.slice(at, at + 64));
    expect(text).not.toContain(SIGNATURE);
    expect(text).not.toContain('AKIAEXAMPLE');
    expect(text).not.toContain(t.creds.SecretKey);
    expect(text).not.toMatch(/TC3-HMAC-SHA256|authorization/i);
  }, 60_000);

  it('serves Prometheus metrics to the token holder only', async () => {
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const m = await res.text();
    expect(m).toMatch(/facevault_requests_total\{service="iai",action="DetectFace",code="OK"\} [1-9]/);
    // Made-up actions share one label value (no unbounded series).
    expect(m).toMatch(/facevault_requests_total\{service="iai",action="unknown",code="InvalidAction"\} 1/);
    expect(m).not.toContain('NoSuchActionHere');
    expect(m).toMatch(/facevault_request_duration_seconds_bucket\{le="\+Inf",service="iai",action="DetectFace"\} [1-9]/);
    expect(m).toMatch(/facevault_pool_queue_depth\{pool="inference"\} 0/);
    expect(m).toMatch(/facevault_pool_queue_limit\{pool="inference"\} 16/);
    expect(m).toMatch(/facevault_pool_workers\{pool="inference"\} 1/);
    expect(m).toMatch(/facevault_pool_workers\{pool="fusion"\} 1/);
    for (const d of ['database', 'objectStore', 'keyStore']) expect(m).toContain(`facevault_dependency_up{dependency="${d}"} 1`);
    expect(m).toMatch(/facevault_index_entries\{kind="faces"\} 0/);
    expect(m).toContain('facevault_retention_last_sweep_timestamp_seconds 0');
    expect(m).toMatch(/facevault_process_resident_memory_bytes \d+/);
  });

  it('readiness lists every dependency, the key store included', async () => {
    const r = await (await fetch(`${t.url}/readyz`)).json() as { checks: Record<string, string> };
    expect(Object.keys(r.checks)).toEqual(['database', 'objectStore', 'keyStore', 'models', 'workers', 'index']);
    expect(r.checks.keyStore).toBe('ok');
  });
});

describe('metrics access', () => {
  it('is off unless configured, and a short token is refused', async () => {
    expect(loadConfig({}).metrics).toEqual({ mode: 'off' });
    expect(() => loadConfig({ FACEVAULT_METRICS: 'token:short' })).toThrow(/FACEVAULT_METRICS/);
    const server = Fastify();
    metricsRoute(server, { mode: 'off' }, new Metrics({ vision: { health: () => [], status: () => ({ state: 'idle' }) }, dependencies: {} }));
    expect((await server.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    await server.close();
  });
});

describe.skipIf(hasTestdata)('observability (skipped)', () => {
  it.skip(testdataSkipReason, () => {});
});
