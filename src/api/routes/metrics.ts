// GET /metrics (Prometheus text format). Off by default: the metrics name actions, tenants'
// volumes and the index size, which the world has no business reading. `on` is for a port only
// a private network reaches; `token:<secret>` wants `Authorization: Bearer <secret>`.
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.ts';
import type { Metrics } from '../observability/metrics.ts';

export function metricsRoute(server: FastifyInstance, access: Config['metrics'], metrics: Metrics): void {
  if (access.mode === 'off') return; // 404, as for any unknown path
  const want = access.mode === 'token' ? digest(access.token) : null;
  server.get('/metrics', async (req, reply) => {
    if (want) {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      // Compared as digests: equal lengths, constant time.
      if (!m || !crypto.timingSafeEqual(digest(m[1]), want)) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="facevault metrics"').send({ error: 'a bearer token is required (FACEVAULT_METRICS=token:...)' });
      }
    }
    reply.header('content-type', metrics.contentType).header('cache-control', 'no-store');
    return metrics.text();
  });
}

const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
