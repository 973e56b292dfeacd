// Failed console sign-ins per client address, to slow down guessing: a fixed window of 15 min
// from the first failure. In memory a limit is per process, so N nodes would allow N times as
// many guesses; with FACEVAULT_REDIS_URL every node counts in the same Redis key. Redis down:
// counted in this process (reported once), as the fusion QPS limits do.
import { LazyRedis } from '../../store/redis/lazy-client.ts';

export interface SignInFailures {
  /** Failures of this address in its current window (0 when none). */
  count(ip: string, now: number): Promise<{ n: number; since: number }>;
  add(ip: string, now: number): Promise<void>;
  clear(ip: string): Promise<void>;
}

export const FAILURE_WINDOW_MS = 15 * 60_000;

export class MemorySignInFailures implements SignInFailures {
  private readonly m = new Map<string, { n: number; since: number }>();

  async count(ip: string, now: number) {
    const f = this.m.get(ip);
    return f && now - f.since < FAILURE_WINDOW_MS ? { ...f } : { n: 0, since: now };
  }

  async add(ip: string, now: number) {
    const f = this.m.get(ip);
    const cur = f && now - f.since < FAILURE_WINDOW_MS ? f : { n: 0, since: now };
    cur.n++;
    this.m.set(ip, cur);
    if (this.m.size > 10_000) this.m.delete(this.m.keys().next().value!);
  }

  async clear(ip: string) {
    this.m.delete(ip);
  }
}

// INCR and, on the window's first failure, its start and expiry, atomically.
const ADD = `local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n == 1 then redis.call('HSET', KEYS[1], 'since', ARGV[1]); redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`;

export class RedisSignInFailures implements SignInFailures {
  private readonly redis: LazyRedis;
  private readonly fallback = new MemorySignInFailures();
  private warned = false;

  constructor(url: string, private readonly prefix: string, private readonly onError: (e: Error) => void = () => {}) {
    this.redis = new LazyRedis(url);
  }

  private key(ip: string) { return `${this.prefix}:signin-failures:${ip}`; }

  private failed(e: unknown) {
    if (!this.warned) { this.warned = true; this.onError(new Error(`Redis sign-in limit failed, limiting per process: ${(e as Error).message}`)); }
  }

  async count(ip: string, now: number) {
    try {
      const r = await (await this.redis.get()).hmget(this.key(ip), 'n', 'since');
      return r[0] ? { n: Number(r[0]), since: Number(r[1]) } : { n: 0, since: now };
    } catch (e) { this.failed(e); return this.fallback.count(ip, now); }
  }

  async add(ip: string, now: number) {
    try { await (await this.redis.get()).eval(ADD, 1, this.key(ip), String(now), String(FAILURE_WINDOW_MS)); } catch (e) { this.failed(e); await this.fallback.add(ip, now); }
  }

  async clear(ip: string) {
    try { await (await this.redis.get()).del(this.key(ip)); } catch (e) { this.failed(e); }
    await this.fallback.clear(ip);
  }

  async close() {
    await this.redis.close();
  }
}
