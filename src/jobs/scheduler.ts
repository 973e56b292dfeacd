// Runs a periodic job: an in-process timer by default; with Redis, exactly one runner per
// period across every process sharing that Redis. Two keys do it: a per-period claim
// (SET NX, left to expire) so a period's job runs once, and a running lock (SET NX with a
// renewed expiry) so a slow run never overlaps the next one. A crashed runner's lock expires.
import crypto from 'node:crypto';
import { LazyRedis } from '../store/redis/lazy-client.ts';
import type { Clock } from '../domain/clock.ts';

export interface SchedulerOptions {
  name: string;
  intervalMs: number;
  clock: Clock;
  redisUrl?: string | null;
  keyPrefix?: string;
  /** Running-lock expiry; renewed every third of it while the job runs. */
  lockTtlMs?: number;
  /** First run after this delay from start() (then every intervalMs). */
  firstDelayMs?: number;
  onError?: (e: Error) => void;
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export class JobScheduler {
  private timer: NodeJS.Timeout | null = null;
  private first: NodeJS.Timeout | null = null;
  private running: Promise<boolean> | null = null;
  // A Redis that accepts connections but never answers must not hang a tick: its `running`
  // promise would block every later tick of this process (LazyRedis bounds every command).
  private readonly redis: LazyRedis | null;
  private readonly prefix: string;
  private readonly lockTtl: number;
  /** Scheduling decisions this process made, and the runs it won (the rest were other processes' periods). */
  ticks = 0;
  runs = 0;
  private readonly runHooks: ((period: number) => void)[] = [];

  constructor(private readonly job: () => Promise<unknown>, private readonly opts: SchedulerOptions) {
    this.prefix = `${opts.keyPrefix ?? 'facevault'}:jobs:${opts.name}`;
    this.lockTtl = opts.lockTtlMs ?? 60_000;
    this.redis = opts.redisUrl ? new LazyRedis(opts.redisUrl, { maxRetriesPerRequest: 2, connectTimeout: 3000, commandTimeout: 3000 }) : null;
  }

  get mode(): 'in-process' | 'redis' {
    return this.opts.redisUrl ? 'redis' : 'in-process';
  }

  start(): void {
    if (this.timer) return;
    const fire = () => { this.tick().catch((e) => this.opts.onError?.(e as Error)); };
    this.first = setTimeout(fire, this.opts.firstDelayMs ?? Math.min(this.opts.intervalMs, 30_000));
    this.timer = setInterval(fire, this.opts.intervalMs);
    this.first.unref();
    this.timer.unref();
  }

  /** Called after each run this process made, with its period (interval number since the epoch). */
  onRun(fn: (period: number) => void): void {
    this.runHooks.push(fn);
  }

  /** One scheduling decision: runs the job if this process wins the period; true if it ran. */
  async tick(): Promise<boolean> {
    // Never two runs at once in one process.
    if (this.running) return false;
    this.ticks++;
    this.running = this.opts.redisUrl ? this.tickRedis() : this.runJob();
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  private async runJob(period = Math.floor(this.opts.clock.now() / this.opts.intervalMs)): Promise<boolean> {
    await this.job();
    this.runs++;
    for (const fn of this.runHooks) fn(period);
    return true;
  }

  private async tickRedis(): Promise<boolean> {
    const r = await this.redis!.get();
    if (r.status === 'wait') await r.connect();
    const token = crypto.randomUUID();
    const lockKey = `${this.prefix}:lock`;
    if ((await r.set(lockKey, token, 'PX', this.lockTtl, 'NX')) !== 'OK') return false;
    const renew = setInterval(() => { r.eval(RENEW, 1, lockKey, token, String(this.lockTtl)).catch(() => {}); }, Math.max(1000, Math.floor(this.lockTtl / 3)));
    renew.unref();
    try {
      const period = Math.floor(this.opts.clock.now() / this.opts.intervalMs);
      const claimed = await r.set(`${this.prefix}:period:${period}`, token, 'PX', this.opts.intervalMs * 2, 'NX');
      if (claimed !== 'OK') return false;
      return await this.runJob(period);
    } finally {
      clearInterval(renew);
      await r.eval(RELEASE, 1, lockKey, token).catch(() => {});
    }
  }

  async stop(): Promise<void> {
    if (this.first) clearTimeout(this.first);
    if (this.timer) clearInterval(this.timer);
    this.first = this.timer = null;
    await this.running?.catch(() => {});
    await this.redis?.close();
  }
}
