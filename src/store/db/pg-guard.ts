// A pg Pool whose connection failures surface as DependencyUnavailable (ServiceUnavailable.*),
// fast: a connect attempt gives up after CONNECT_TIMEOUT_MS instead of waiting on a host that
// does not answer, and an idle connection the server dropped (restart, failover) is discarded
// instead of crashing the process with an unhandled 'error' event. The pool reconnects by itself
// on the next query once the server is back.
import type pg from 'pg';
import { DependencyUnavailable, isConnectionError, type Dependency } from '../../domain/errors.ts';

export const CONNECT_TIMEOUT_MS = 3000;

export function guardPool<P extends pg.Pool>(pool: P, dependency: Dependency): P {
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
      return r && typeof (r as Promise<unknown>).then === 'function' ? (r as Promise<unknown>).catch((e) => { throw wrap(e); }) : r;
    };
    return client;
  };
  const poolQuery = pool.query.bind(pool) as (...a: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    const r = poolQuery(...a);
    return r && typeof (r as Promise<unknown>).then === 'function' ? (r as Promise<unknown>).catch((e) => { throw wrap(e); }) : r;
  };
  return pool;
}
