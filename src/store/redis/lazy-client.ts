// One Redis connection, opened on first use with bounded commands. ioredis is imported then, so a
// deployment without Redis never loads it; a failure surfaces on the command that hit it (the
// client's own 'error' events are muted), and every command gives up within commandTimeout, so a
// Redis that accepts connections but never answers cannot hang a caller.
import type { Redis, RedisOptions } from 'ioredis';

const BOUNDED: RedisOptions = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 2000, commandTimeout: 2000 };

export class LazyRedis {
  private redis: Redis | null = null;

  constructor(private readonly url: string, private readonly options: RedisOptions = {}) {}

  async get(): Promise<Redis> {
    if (!this.redis) {
      const { Redis } = await import('ioredis');
      this.redis = new Redis(this.url, { ...BOUNDED, ...this.options });
      this.redis.on('error', () => {});
    }
    if (this.redis.status === 'wait') await this.redis.connect();
    return this.redis;
  }

  async close(): Promise<void> {
    const r = this.redis;
    this.redis = null;
    if (!r) return;
    if (r.status === 'wait') r.disconnect();
    else await r.quit().catch(() => r.disconnect());
  }
}
