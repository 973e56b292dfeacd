// Fused images handed out by URL: stored in the blob store for a limited time and served by
// GET /results/<token>.jpg?Expires=<unix s>&Signature=<hex>, an HMAC under a key derived from
// the master key. The URL is the credential, so it expires with the result.
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { FusionRepo } from '../../store/fusion/fusion-repo.ts';
import type { Clock } from '../../domain/clock.ts';

export interface StoredResult { url: string; token: string; blobKey: string; expiresAt: number }

export class FusionResults {
  private baseUrl: () => string = () => 'http://127.0.0.1';

  constructor(private readonly repo: FusionRepo, private readonly blobs: BlobStore, private readonly clock: Clock, private readonly key: Buffer, publicUrl: string | null) {
    if (publicUrl) this.baseUrl = () => publicUrl;
  }

  sign(name: string, expires: number): string {
    return crypto.createHmac('sha256', this.key).update(`GET\n/results/${name}\n${expires}`).digest('hex');
  }

  async store(o: { appId: number; requestId: string; activityId: string | null; materialId: string | null; jpeg: Buffer; dataClass: string; retainMs: number; endUserId?: string }): Promise<StoredResult> {
    const now = this.clock.now();
    const token = crypto.randomBytes(24).toString('base64url');
    const blobKey = `fusion/${o.appId}/results/${token}.jpg`;
    const expiresAt = now + o.retainMs;
    await this.blobs.put(blobKey, o.jpeg, 'image/jpeg');
    try {
      await this.repo.insertResult(
        { token, app_id: o.appId, blob_key: blobKey, request_id: o.requestId, activity_id: o.activityId, material_id: o.materialId, created_at: now, data_class: o.dataClass, expires_at: expiresAt, end_user_id: o.endUserId ?? null },
        { key: blobKey, dataClass: o.dataClass, expiresAt, size: o.jpeg.length, contentType: 'image/jpeg', ownerRef: o.materialId ?? o.requestId, createdAt: now },
      );
    } catch (e) {
      await this.blobs.delete(blobKey);
      throw e;
    }
    const exp = Math.floor(expiresAt / 1000);
    const name = `${token}.jpg`;
    return { url: `${this.baseUrl()}/results/${name}?Expires=${exp}&Signature=${this.sign(name, exp)}`, token, blobKey, expiresAt };
  }

  /** Deletes results past their expiry (blob first, then rows). */
  async sweep(): Promise<number> {
    const rows = await this.repo.expiredResults(this.clock.now());
    for (const r of rows) {
      await this.blobs.delete(r.blob_key);
      await this.repo.deleteResult(r.app_id, r.token, r.blob_key);
    }
    return rows.length;
  }

  routes = (server: FastifyInstance) => {
    if (this.baseUrl() === 'http://127.0.0.1') {
      // No FACEVAULT_PUBLIC_URL: links point at the address this server listens on.
      this.baseUrl = () => {
        const a = server.server.address();
        if (!a || typeof a === 'string') return 'http://127.0.0.1';
        const host = a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
        return `http://${host}:${a.port}`;
      };
    }
    server.get<{ Params: { name: string }; Querystring: { Expires?: string; Signature?: string } }>('/results/:name', async (req, reply) => {
      const { name } = req.params;
      const { Expires, Signature } = req.query;
      const m = /^([A-Za-z0-9_-]{32})\.jpg$/.exec(name);
      if (!m) return reply.code(404).send({ error: 'not found' });
      if (!Expires || !/^\d{1,12}$/.test(Expires) || !Signature || !/^[0-9a-f]{64}$/.test(Signature)) return reply.code(403).send({ error: 'missing or malformed signature' });
      const expected = Buffer.from(this.sign(name, Number(Expires)), 'hex');
      if (!crypto.timingSafeEqual(expected, Buffer.from(Signature, 'hex'))) return reply.code(403).send({ error: 'signature does not match' });
      const now = this.clock.now();
      if (Number(Expires) * 1000 <= now) return reply.code(403).send({ error: 'the link has expired' });
      const row = await this.repo.resultByToken(m[1]);
      if (!row || (row.expires_at !== null && row.expires_at <= now)) return reply.code(404).send({ error: 'not found' });
      const data = await this.blobs.get(row.blob_key);
      if (!data) return reply.code(404).send({ error: 'not found' });
      reply.header('cache-control', 'private, max-age=3600').header('content-type', 'image/jpeg');
      return reply.send(data);
    });
  };
}
