// Socket-level limits of the listener, so slow or idle clients cannot hold connections (and
// file descriptors) for long: Node's own defaults allow a minute for headers and check only
// every 30 s.
export interface ListenerLimits {
  /** Time from a connection's first byte (or the end of its last request) to the end of the request headers. */
  headersTimeoutMs: number;
  /** Time for a whole request, body included (a 50 MB upload at ~0.5 MB/s). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above; a slow client is dropped within timeout + this. */
  checkIntervalMs: number;
}

export const LISTENER_LIMITS: ListenerLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 5_000, checkIntervalMs: 1_000 };

/** Fastify options for these limits. */
export function listenerOptions(overrides: Partial<ListenerLimits> = {}) {
  const l = { ...LISTENER_LIMITS, ...overrides };
  return {
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    http: { headersTimeout: Math.min(l.headersTimeoutMs, l.requestTimeoutMs), requestTimeout: l.requestTimeoutMs, connectionsCheckingInterval: l.checkIntervalMs },
  };
}
