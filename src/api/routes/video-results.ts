// GET /video-results/<job id>.mp4?Expires=<unix s>&Signature=<hex>: fused videos by signed,
// expiring link (services/video/video-results.ts checks the link and finds the object).
import type { FastifyInstance } from 'fastify';
import type { VideoResults } from '../../services/video/video-results.ts';

export function videoResultRoutes(server: FastifyInstance, results: VideoResults): void {
  results.useListenAddress(() => {
    const a = server.server.address();
    if (!a || typeof a === 'string') return 'http://127.0.0.1';
    const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  });
  server.get<{ Params: { name: string }; Querystring: { Expires?: string; Signature?: string } }>('/video-results/:name', async (req, reply) => {
    const r = await results.open(req.params.name, req.query.Expires, req.query.Signature);
    if ('refused' in r) return reply.code(r.refused === 'forbidden' ? 403 : 404).send({ error: r.why });
    reply.header('cache-control', 'private, max-age=3600').header('content-type', 'video/mp4');
    return reply.send(r.stream);
  });
}
