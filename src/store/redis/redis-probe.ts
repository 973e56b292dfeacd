// /readyz's and /metrics' view of Redis: a PING on a connection of its own, bounded in time (a
// Redis that accepts connections but never answers fails the probe instead of hanging it).
import type { Redis } from 'ioredis';
import { DependencyUnavailable } from '../../domain/errors.ts';

export class RedisProbe {
  private redis: Redis | null = null;

  constructor(private readonly url: string, private readonly timeoutMs = 2000) {}

  async ping(): Promise<void> {
    try {
      if (!this.redis) {
        const { Redis } = await import('ioredis');
        this.redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: this.timeoutMs, commandTimeout: this.timeoutMs });
        this.redis.on('error', () => {});
      }
      if (this.redis.status === 'wait' || this.redis.status === 'end') await this.redis.connect();
      await this.redis.ping();
    } catch (e) {
      // ioredis' own messages name the host; the probe reports only the code.
      const code = (e as { code?: string }).code ?? (/timed? ?out/i.test((e as Error).message) ? 'ETIMEDOUT' : 'ECONNREFUSED');
      throw new DependencyUnavailable('Redis', { code });
    }
  }

  async close(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
    this.redis = null;
  }
}
