// PostgreSQL goes away under a running node (a loopback proxy in front of it is closed: the port
// refuses connections, established ones are cut): requests fail at once with
// ServiceUnavailable.Database, not InternalError and not a hang; /readyz turns 503 naming the
// database; when the port answers again the node recovers without a restart.
import net from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';

/** A TCP proxy to PostgreSQL that can be cut and restored on the same port. */
function pgProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const up = () => new Promise<void>((resolve) => {
    server = net.createServer((c) => {
      const u = net.connect(Number(target.port || 5432), target.hostname);
      sockets.add(c); sockets.add(u);
      c.pipe(u); u.pipe(c);
      const end = () => { c.destroy(); u.destroy(); sockets.delete(c); sockets.delete(u); };
      c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
    });
    server.listen(port, '127.0.0.1', () => { port = (server!.address() as net.AddressInfo).port; resolve(); });
  });
  const down = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    server!.close(() => resolve());
  });
  return { up, down, get port() { return port; } };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); });

describe.skipIf(!PG_URL)(`dependency down: PostgreSQL${PG_URL ? '' : ` (skipped: ${pgSkipReason})`}`, () => {
  it('fails fast with ServiceUnavailable.Database, /readyz names it, and the node recovers by itself', async () => {
    const target = new URL(PG_URL);
    const proxy = pgProxy(target);
    await proxy.up();
    const via = new URL(PG_URL);
    via.hostname = '127.0.0.1';
    via.port = String(proxy.port);
    const schema = freshPgSchema();
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try { for (const s of [schema, `${schema}_keys`]) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`); } finally { await c.end(); }
    });
    const t: TestServer = await startTestServer({ FACEVAULT_DATABASE_URL: via.href, FACEVAULT_FUSION_THREADS: '0', FACEVAULT_INFERENCE_THREADS: '1' }, { pgSchema: schema });
    cleanups.push(() => t.stop().catch(() => {}));
    await t.iai().CreateGroup({ GroupId: 'g1', GroupName: 'G1' });
    expect((await t.iai().GetGroupList({})).GroupNum).toBe(1);

    await proxy.down();
    const t0 = performance.now();
    const codes = await Promise.all([errorCode(t.iai().GetGroupList({})), errorCode(t.iai().CreateGroup({ GroupId: 'g2', GroupName: 'G2' }))]);
    const ms = performance.now() - t0;
    expect(codes).toEqual(['ServiceUnavailable.Database', 'ServiceUnavailable.Database']);
    // "Fast": well inside the SDK's timeout and the pool's 3 s connect timeout (refused ports fail at once).
    expect(ms).toBeLessThan(10_000);
    let err = '';
    try { await t.iai().GetGroupList({}); } catch (e) { err = (e as Error).message; }
    expect(err).toMatch(/the database is unavailable \(ECONNREFUSED\); retry later/);
    expect(err).not.toMatch(/127\.0\.0\.1|:\d{4,5}/); // no address in what clients see
    const r = await fetch(`${t.url}/readyz`);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { checks: Record<string, string> }).checks).toMatchObject({ database: 'error: ServiceUnavailable.Database', keyStore: 'error: ServiceUnavailable.KeyStore', objectStore: 'ok' });
    expect(t.run.app.errorLog.readAll().filter((x) => x.code === 'InternalError').map((x) => x.message)).toEqual([]);

    // Back: same port, no restart of the node.
    await proxy.up();
    expect((await t.iai().GetGroupList({})).GroupNum).toBe(1);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    await proxy.down();
  }, 120_000);
});
