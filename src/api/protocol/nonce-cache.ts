// v1 replay protection: a (SecretId, Timestamp, Nonce) seen once within the clock window is
// refused again. The Node SDK draws Nonce from only 0..65535, so the key includes the key and
// the signed timestamp: a replay must repeat both, two honest requests collide only when the
// same key sends the same nonce in the same second. An entry is needed only while its
// timestamp is still inside the window, so memory is bounded by the traffic of one window,
// and by `maxEntries`: when full of live entries, new v1 requests are refused rather than an
// entry forgotten (forgetting would let that request be replayed).
import { TcError } from '../../domain/errors.ts';

export interface NonceStore {
  /** True when this key was not seen before (and is now remembered until `expiresAtMs`). */
  claim(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> | boolean;
}

export class MemoryNonceStore implements NonceStore {
  private readonly seen = new Map<string, number>();
  constructor(private readonly maxEntries = 200_000) {}

  claim(key: string, expiresAtMs: number, nowMs: number): boolean {
    const until = this.seen.get(key);
    if (until !== undefined && until > nowMs) return false;
    if (this.seen.size >= this.maxEntries) this.sweep(nowMs);
    if (this.seen.size >= this.maxEntries) throw new TcError('RequestLimitExceeded', 'too many v1-signed requests within the signature window; retry shortly or use TC3-HMAC-SHA256');
    this.seen.set(key, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(nowMs: number): void {
    for (const [k, until] of this.seen) if (until <= nowMs) this.seen.delete(k);
  }
}

/**
 * The same, shared by every process of a deployment through Redis (FACEVAULT_REDIS_URL):
 * `SET key 1 PXAT expiry NX` claims a nonce atomically. If Redis cannot be reached the claim
 * falls back to this process's memory (reported once), so v1 keeps working with per-process
 * protection rather than refusing every request.
 */
export class RedisNonceStore implements NonceStore {
  private redis: import('ioredis').Redis | null = null;
  private readonly fallback = new MemoryNonceStore();
  private warned = false;

  constructor(private readonly url: string, private readonly prefix: string, private readonly onError: (e: Error) => void = () => {}) {}

  private async client() {
    if (!this.redis) {
      const { Redis } = await import('ioredis'); // loaded only when Redis is configured
      this.redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 2000, commandTimeout: 2000 });
      this.redis.on('error', () => {});
    }
    if (this.redis.status === 'wait') await this.redis.connect();
    return this.redis;
  }

  async claim(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    try {
      const r = await this.client();
      return (await r.set(`${this.prefix}:v1nonce:${key}`, '1', 'PXAT', Math.max(expiresAtMs, nowMs + 1), 'NX')) === 'OK';
    } catch (e) {
      if (!this.warned) { this.warned = true; this.onError(e as Error); }
      return this.fallback.claim(key, expiresAtMs, nowMs);
    }
  }

  async close(): Promise<void> {
    await this.redis?.quit().catch(() => {});
    this.redis = null;
  }
}
