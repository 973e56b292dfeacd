// Token buckets keyed by a string (an activity): `qps` tokens per second, bursts up to `qps`.
// Tencent documents 1 req/s for an unpublished activity and 50 req/s for a published one.
// In memory the buckets are per process; with FACEVAULT_REDIS_URL they live in Redis, so every
// instance of a deployment shares them.
import { LazyRedis } from '../../store/redis/lazy-client.ts';
import type { Clock } from '../../domain/clock.ts';

export interface RateLimiter {
  /** Takes one token; false when the key is over its rate. */
  take(key: string, qps: number): Promise<boolean>;
  close?(): Promise<void>;
}

export class LocalRateLimiter implements RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number; qps: number }>();
  constructor(private readonly clock: Clock) {}

  async take(key: string, qps: number): Promise<boolean> {
    return this.takeNow(key, qps);
  }

  takeNow(key: string, qps: number): boolean {
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (!b || b.qps !== qps) {
      b = { tokens: qps, at: now, qps };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(qps, b.tokens + (Math.max(0, now - b.at) / 1000) * qps);
    b.at = Math.max(b.at, now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    if (this.buckets.size > 100_000) this.prune(now);
    return true;
  }

  private prune(now: number) {
    for (const [k, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(k);
  }
}

// The same bucket, atomically in Redis. Time comes from the caller's clock (instances' clocks
// agree to well under a second; a bucket never moves backwards).
const TAKE = `
local qps = tonumber(ARGV[1]); local now = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'qps')
local tokens, at = tonumber(b[1]), tonumber(b[2])
if tokens == nil or tonumber(b[3]) ~= qps then tokens = qps; at = now end
if now > at then tokens = math.min(qps, tokens + (now - at) / 1000 * qps); at = now end
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at), 'qps', tostring(qps))
redis.call('PEXPIRE', KEYS[1], 60000)
return ok`;

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: LazyRedis;
  private readonly fallback: LocalRateLimiter;
  private warned = false;

  constructor(url: string, private readonly clock: Clock, private readonly prefix: string, private readonly onError: (e: Error) => void = () => {}) {
    this.redis = new LazyRedis(url);
    this.fallback = new LocalRateLimiter(clock);
  }

  async take(key: string, qps: number): Promise<boolean> {
    try {
      const r = await this.redis.get();
      return (await r.eval(TAKE, 1, `${this.prefix}:rate:${key}`, String(qps), String(this.clock.now()))) === 1;
    } catch (e) {
      // Redis down: limit per process rather than refuse every request or none.
      if (!this.warned) { this.warned = true; this.onError(e as Error); }
      return this.fallback.takeNow(key, qps);
    }
  }

  async close(): Promise<void> {
    await this.redis.close();
  }
}
