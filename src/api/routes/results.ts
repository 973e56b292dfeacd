// GET /results/<token>.jpg?Expires=<unix s>&Signature=<hex>: fused images handed out by signed,
// expiring link (services/fusion/fusion-results.ts checks the link and finds the object).
import type { FastifyInstance } from 'fastify';
import type { FusionResults } from '../../services/fusion/fusion-results.ts';

export function resultRoutes(server: FastifyInstance, results: FusionResults): void {
  // Without FACEVAULT_PUBLIC_URL, links point at the address this server listens on.
  results.useListenAddress(() => {
    const a = server.server.address();
    if (!a || typeof a === 'string') return 'http://127.0.0.1';
    const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  });
  server.get<{ Params: { name: string }; Querystring: { Expires?: string; Signature?: string } }>('/results/:name', async (req, reply) => {
    const r = await results.open(req.params.name, req.query.Expires, req.query.Signature);
    if ('refused' in r) return reply.code(r.refused === 'forbidden' ? 403 : 404).send({ error: r.why });
    reply.header('cache-control', 'private, max-age=3600').header('content-type', 'image/jpeg');
    return reply.send(r.data);
  });
}
