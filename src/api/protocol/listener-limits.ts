// Socket-level limits of the listener, so slow or idle clients cannot hold connections (and
// file descriptors) for long: Node's own defaults allow a minute for headers, check only
// every 30 s, and let a connection that never sends a byte stay until the request timeout.
import type http from 'node:http';
import type net from 'node:net';

export interface ListenerLimits {
  /** Time from a connection's first byte (or the end of its last request) to the end of the request headers; also how long a new connection may stay silent. */
  headersTimeoutMs: number;
  /** Time for a whole request, body included (a 50 MB upload at ~0.5 MB/s). */
  requestTimeoutMs: number;
  /**
   * An idle keep-alive connection is closed after this. Longer than the idle timeout of common
   * load balancers (AWS ALB: 60 s), so a proxy never reuses a connection the server is closing
   * (Fastify's default, for that reason).
   */
  keepAliveTimeoutMs: number;
  /** How often Node checks the header and request timeouts; a slow client is dropped within timeout + this. */
  checkIntervalMs: number;
}

export const LISTENER_LIMITS: ListenerLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 72_000, checkIntervalMs: 1_000 };

export function listenerLimits(overrides: Partial<ListenerLimits> = {}): ListenerLimits {
  const l = { ...LISTENER_LIMITS, ...overrides };
  return { ...l, headersTimeoutMs: Math.min(l.headersTimeoutMs, l.requestTimeoutMs) };
}

/** Fastify options for these limits. */
export function listenerOptions(l: ListenerLimits) {
  return {
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    http: { headersTimeout: l.headersTimeoutMs, requestTimeout: l.requestTimeoutMs, connectionsCheckingInterval: l.checkIntervalMs },
  };
}

/**
 * Node's header timeout does not cover a connection that has sent nothing yet: give it the
 * same time to start, as an inactivity timeout cleared when its first request arrives (later
 * idle time is the keep-alive timeout's).
 */
export function dropSilentConnections(server: http.Server, ms: number): void {
  const waiting = new WeakSet<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    waiting.add(s);
    s.setTimeout(ms);
    s.once('timeout', () => { if (waiting.has(s)) s.destroy(); });
  });
  server.on('request', (req: http.IncomingMessage) => {
    if (waiting.delete(req.socket)) req.socket.setTimeout(0);
  });
}
