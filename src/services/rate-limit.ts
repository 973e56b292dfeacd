// Token buckets keyed by a string (an activity): `qps` tokens per second, bursts up to `qps`.
// In memory and per process, as a front-line guard; Tencent documents 1 req/s for an
// unpublished activity and 50 req/s for a published one.
import type { Clock } from './clock.ts';

export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number; qps: number }>();
  constructor(private readonly clock: Clock) {}

  /** Takes one token; false when the key is over its rate. */
  take(key: string, qps: number): boolean {
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (!b || b.qps !== qps) {
      b = { tokens: qps, at: now, qps };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(qps, b.tokens + ((now - b.at) / 1000) * qps);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    if (this.buckets.size > 100_000) this.prune(now);
    return true;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  private prune(now: number) {
    for (const [k, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(k);
  }
}
