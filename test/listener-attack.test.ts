// Attacks on the listener itself: slow-loris (many connections trickling their headers) and
// oversized bodies. The server must keep answering /healthz quickly throughout, drop the slow
// connections, and refuse the large bodies without reading them.
import net from 'node:net';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApp, type App } from '../src/app.ts';
import { buildServer } from '../src/api/server.ts';
import { LISTENER_LIMITS } from '../src/api/protocol/listener-limits.ts';
import { loadConfig } from '../src/config.ts';
import { utcDate } from '../src/api/protocol/tc3-signature.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

// Short limits, so the test sees slow connections dropped within seconds.
const LIMITS = { headersTimeoutMs: 1_500, requestTimeoutMs: 4_000, checkIntervalMs: 250 };
let app: App;
let server: FastifyInstance;
let port: number;
let secretId: string;
beforeAll(async () => {
  app = await createApp(loadConfig({ FACEVAULT_PORT: '0', FACEVAULT_DATA_DIR: tempDir(), FACEVAULT_INFERENCE_THREADS: '1', FACEVAULT_LOG_LEVEL: 'silent' }, 1));
  secretId = (await app.accounts.createAccount('listener')).SecretId;
  server = await buildServer(app, { listener: LIMITS });
  await server.listen({ port: 0, host: '127.0.0.1' });
  port = (server.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await server?.close();
  await app?.close();
});

/** Samples /healthz every 50 ms until stopped; returns each answer's latency in ms (a failure counts as Infinity). */
function sampleHealth() {
  const samples: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
        await r.text();
        samples.push(r.status === 200 ? performance.now() - t0 : Infinity);
      } catch {
        samples.push(Infinity);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { samples, stop: async () => { running = false; await done; return samples; } };
}

describe('listener limits', () => {
  it('buildServer sets them by default: headers within 10 s, a request within 120 s, checked every second', async () => {
    const t = await startTestServer();
    try {
      const s = t.run.server.server;
      expect(s.headersTimeout).toBe(LISTENER_LIMITS.headersTimeoutMs);
      expect(s.requestTimeout).toBe(LISTENER_LIMITS.requestTimeoutMs);
      expect(s.keepAliveTimeout).toBe(LISTENER_LIMITS.keepAliveTimeoutMs);
      expect(LISTENER_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(10_000);
    } finally {
      await t.stop();
    }
  });

  it('slow-loris: 60 connections sending headers a byte at a time are dropped, and /healthz stays quick', async () => {
    const health = sampleHealth();
    const started = performance.now();
    const head = 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-TC-Action: DetectFace\r\n'.repeat(20);
    const closedAt: number[] = [];
    const sockets = Array.from({ length: 60 }, (_, i) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => { closedAt.push(performance.now() - started); clearInterval(timer); });
      let pos = 0;
      // A few just connect and say nothing; the rest trickle one byte every 100 ms.
      const timer = setInterval(() => { if (i % 10 !== 0 && !s.destroyed && pos < head.length) s.write(head[pos++]); }, 100);
      return s;
    });
    const deadline = LIMITS.headersTimeoutMs + LIMITS.checkIntervalMs + 3_000;
    while (closedAt.length < sockets.length && performance.now() - started < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const s of sockets) s.destroy();
    const samples = await health.stop();
    expect(closedAt.length).toBe(sockets.length);
    // Dropped by the headers timeout (the silent ones too), not before it and not only at the request timeout.
    expect(Math.min(...closedAt)).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 200);
    // Not before the timeout, and not long after it (slack for a machine loaded by other work).
    expect(Math.max(...closedAt)).toBeLessThan(LIMITS.headersTimeoutMs + LIMITS.checkIntervalMs + 5_000);
    expect(samples.length).toBeGreaterThan(5);
    expect(Math.max(...samples)).toBeLessThan(2_500); // a blocked event loop would be tens of seconds; slack for a loaded machine
  }, 15_000);

  it('a connection that finishes its headers but trickles its body is dropped by the request timeout', async () => {
    const started = performance.now();
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    const closed = new Promise<number>((r) => s.on('close', () => r(performance.now() - started)));
    // A body the gate lets through (a known SecretId, fresh timestamp) but that never completes.
    const ts = Math.floor(Date.now() / 1000);
    s.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nX-TC-Action: DescribeRetentionPolicy\r\nX-TC-Version: 2020-03-03\r\nX-TC-Timestamp: ${ts}\r\nAuthorization: TC3-HMAC-SHA256 Credential=${secretId}/${utcDate(ts)}/iai/tc3_request, SignedHeaders=content-type;host, Signature=${'ab'.repeat(32)}\r\n\r\n`);
    const timer = setInterval(() => { if (!s.destroyed) s.write(' '); }, 200);
    const at = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(Infinity), LIMITS.requestTimeoutMs + 3_000))]);
    clearInterval(timer);
    s.destroy();
    expect(at).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 300);
    expect(at).toBeLessThan(LIMITS.requestTimeoutMs + LIMITS.checkIntervalMs + 2_000);
  }, 12_000);

  it('oversized bodies, declared or chunked, are refused without being read, and /healthz stays quick', async () => {
    const health = sampleHealth();
    const ts = Math.floor(Date.now() / 1000);
    const auth = `TC3-HMAC-SHA256 Credential=${secretId}/${utcDate(ts)}/iai/tc3_request, SignedHeaders=content-type;host, Signature=${'ab'.repeat(32)}`;
    const total = 40 * 1024 * 1024;
    /** Streams up to `total` bytes; resolves with what was handed to the socket by the time the server answered or closed. */
    const flood = (chunked: boolean) => new Promise<{ sent: number; code: string | null }>((resolve) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-tc-action': 'DescribeRetentionPolicy', 'x-tc-version': '2020-03-03', 'x-tc-timestamp': String(ts), authorization: auth };
      if (chunked) headers['transfer-encoding'] = 'chunked';
      else headers['content-length'] = String(total);
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false, headers });
      let sent = 0;
      let done = false;
      const finish = (code: string | null) => { if (!done) { done = true; resolve({ sent, code }); req.destroy(); } };
      req.on('response', (res) => { let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => finish(JSON.parse(b).Response.Error?.Code ?? 'OK')); res.on('error', () => finish(null)); });
      req.on('error', () => finish(null));
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const pump = () => {
        while (!done && sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) { req.once('drain', pump); return; }
        }
        if (!done) req.end();
      };
      pump();
      setTimeout(() => finish(null), 10_000);
    });
    const results = await Promise.all([...Array.from({ length: 6 }, () => flood(false)), ...Array.from({ length: 6 }, () => flood(true))]);
    const samples = await health.stop();
    for (const r of results) {
      if (r.code !== null) expect(r.code).toBe('RequestSizeLimitExceeded');
      // Declared: refused from the header; chunked: read up to the 10 MB body limit, then closed.
      expect(r.sent).toBeLessThan(total / 2);
    }
    expect(results.some((r) => r.code === 'RequestSizeLimitExceeded')).toBe(true);
    expect(Math.max(...samples)).toBeLessThan(2_500); // a blocked event loop would be tens of seconds; slack for a loaded machine
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 20_000);
});
