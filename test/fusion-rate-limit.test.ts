// Activity rate limits: the in-process token bucket, and the Redis one shared by every
// instance of a deployment (two limiters stand for two processes).
import crypto from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/domain/clock.ts';
import { LocalRateLimiter, RedisRateLimiter } from '../src/services/fusion/rate-limit.ts';
import { REDIS_URL, redisSkipReason } from './helpers/backends.ts';

async function takes(l: { take(k: string, q: number): Promise<boolean> }, key: string, qps: number, n: number) {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push(await l.take(key, qps));
  return out;
}

describe('in-process rate limiter', () => {
  it('allows a burst of qps, then refills at qps per second; keys are independent', async () => {
    const clock = new ManualClock(1_000_000);
    const l = new LocalRateLimiter(clock);
    expect(await takes(l, 'a', 2, 3)).toEqual([true, true, false]);
    expect(await l.take('b', 2)).toBe(true);
    clock.advance(499);
    expect(await l.take('a', 2)).toBe(false);
    clock.advance(1);
    expect(await takes(l, 'a', 2, 2)).toEqual([true, false]);
    clock.advance(10_000); // refills up to the burst only
    expect(await takes(l, 'a', 2, 3)).toEqual([true, true, false]);
  });
});

describe.skipIf(!REDIS_URL)(`Redis rate limiter${REDIS_URL ? '' : ` (${redisSkipReason})`}`, () => {
  const prefix = `facevault:test-${crypto.randomBytes(6).toString('hex')}`;
  const clock = new ManualClock(2_000_000);
  const a = new RedisRateLimiter(REDIS_URL, clock, prefix), b = new RedisRateLimiter(REDIS_URL, clock, prefix);
  afterAll(async () => { await a.close(); await b.close(); });

  it('two instances share one bucket per key', async () => {
    expect(await a.take('app:at_1', 3)).toBe(true);
    expect(await b.take('app:at_1', 3)).toBe(true);
    expect(await a.take('app:at_1', 3)).toBe(true);
    expect(await b.take('app:at_1', 3)).toBe(false);
    expect(await a.take('app:at_2', 3)).toBe(true); // another activity
    clock.advance(334);
    expect(await b.take('app:at_1', 3)).toBe(true);
    expect(await a.take('app:at_1', 3)).toBe(false);
    // Concurrent takes from both instances never exceed the burst.
    clock.advance(10_000);
    const r = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).take('app:at_1', 3)));
    expect(r.filter(Boolean)).toHaveLength(3);
  });

  it('falls back to a per-process bucket when Redis is unreachable, and reports it once', async () => {
    const errors: string[] = [];
    const down = new RedisRateLimiter('redis://127.0.0.1:1', clock, prefix, (e) => errors.push(e.message));
    try {
      expect(await takes(down, 'k', 1, 2)).toEqual([true, false]);
      expect(errors).toHaveLength(1);
    } finally { await down.close(); }
  });
});
