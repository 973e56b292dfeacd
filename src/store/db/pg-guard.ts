// A pg Pool whose connection failures surface as DependencyUnavailable (ServiceUnavailable.*),
// fast: a connect attempt gives up after CONNECT_TIMEOUT_MS instead of waiting on a host that
// does not answer, and an idle connection the server dropped (restart, failover) is discarded
// instead of crashing the process with an unhandled 'error' event. The pool reconnects by itself
// on the next query once the server is back. A query that gets no answer within the query
// deadline (a server that accepts connections but hangs, a partition that drops packets) fails
// as DependencyUnavailable (ETIMEDOUT) and its connection is destroyed, not returned to the
// pool: a pg client whose query never answered would otherwise block every later query on it.
import type pg from 'pg';
import { DependencyUnavailable, isConnectionError, type Dependency } from '../../domain/errors.ts';

export const CONNECT_TIMEOUT_MS = 3000;
/** Default query deadline (FACEVAULT_DB_QUERY_TIMEOUT_SECONDS). */
export const QUERY_TIMEOUT_MS = 15_000;

export function guardPool<P extends pg.Pool>(pool: P, dependency: Dependency, queryTimeoutMs = QUERY_TIMEOUT_MS): P {
  pool.on('error', () => { /* an idle client died; the pool drops it, the next query reconnects */ });
  // A client that dies while checked out emits 'error' too; its pending query rejects (wrapped
  // below), so the event itself is not worth a process crash.
  pool.on('connect', (client) => { client.on('error', () => {}); });
  const wrap = (e: unknown) => (isConnectionError(e) ? new DependencyUnavailable(dependency, e) : e);
  const connect = pool.connect.bind(pool) as (cb?: unknown) => Promise<pg.PoolClient> | undefined;
  (pool as unknown as { connect: (cb?: unknown) => unknown }).connect = (cb?: unknown) => {
    // pool.query() connects with a callback: left as it is (its errors are wrapped below).
    if (typeof cb === 'function') return connect(cb);
    return connected();
  };
  const connected = async () => {
    let client: pg.PoolClient;
    try { client = (await connect())!; } catch (e) { throw wrap(e); }
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      // Callback and submittable forms (cursors) go through untouched.
      const r = query(...a);
      if (!r || typeof (r as Promise<unknown>).then !== 'function') return r;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        // Ends the connection: the pending query rejects and the pool drops the client on release.
        (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      }, queryTimeoutMs);
      return (r as Promise<unknown>).then(
        (v) => { clearTimeout(timer); return v; },
        (e) => {
          clearTimeout(timer);
          if (timedOut) throw new DependencyUnavailable(dependency, Object.assign(new Error(`no answer within ${queryTimeoutMs} ms`), { code: 'ETIMEDOUT' }));
          throw wrap(e);
        },
      );
    };
    return client;
  };
  const poolQuery = pool.query.bind(pool) as (...a: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    const last = a[a.length - 1];
    const submittable = a[0] && typeof (a[0] as { submit?: unknown }).submit === 'function';
    if (typeof last === 'function' || submittable) return poolQuery(...a);
    // Through a guarded client, so the query deadline applies here too.
    return (async () => {
      const c = await connected();
      let failed: Error | undefined;
      try {
        return await c.query(...(a as [string]));
      } catch (e) {
        if (e instanceof DependencyUnavailable) failed = e;
        throw e;
      } finally {
        c.release(failed);
      }
    })();
  };
  return pool;
}
