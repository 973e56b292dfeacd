// The retention scheduler: in-process it never overlaps itself; with Redis, processes of one
// deployment run one sweep per period between them, and a slow sweep is never run twice at once.
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { JobScheduler } from '../src/jobs/scheduler.ts';
import { tempDir } from './helpers/server.ts';
import { REDIS_URL, redisSkipReason } from './helpers/backends.ts';

const INTERVAL = 300_000;

describe('in-process scheduler', () => {
  it('a tick while a run is in progress does not start a second run', async () => {
    let release!: () => void;
    let runs = 0;
    const s = new JobScheduler(async () => { runs++; await new Promise<void>((r) => { release = r; }); }, { name: 't', intervalMs: INTERVAL, clock: new ManualClock() });
    const first = s.tick();
    expect(await s.tick()).toBe(false);
    release();
    expect(await first).toBe(true);
    expect(runs).toBe(1);
    expect(s.mode).toBe('in-process');
    await s.stop();
  });
});

describe.skipIf(!REDIS_URL)(`scheduler on Redis${REDIS_URL ? '' : ` (${redisSkipReason})`}`, () => {
  const apps: App[] = [];
  afterAll(async () => { for (const a of apps) await a.close(); });

  it('two app instances of one deployment: one sweep per period, which deletes the expired data once', async () => {
    // A period no other run uses, so concurrent test runs on the same Redis cannot interfere.
    const clock = new ManualClock(Math.floor(Math.random() * 1e9) * INTERVAL);
    const config = loadConfig({ FACEVAULT_DATA_DIR: tempDir(), FACEVAULT_REDIS_URL: REDIS_URL, FACEVAULT_RETENTION_SWEEP_SECONDS: String(INTERVAL / 1000) });
    const a = await createApp(config, { clock });
    const b = await createApp(config, { clock });
    apps.push(a, b);
    expect(a.retention.scheduler.mode).toBe('redis');
    const now = clock.now();
    await a.blobs.put('fusion/1/results/x.jpg', Buffer.from('x'));
    await a.db.kysely.insertInto('blobs').values({ key: 'fusion/1/results/x.jpg', app_id: 1, data_class: 'fused_result', expires_at: now - 1, size: 1, content_type: 'image/jpeg', owner_ref: null, created_at: now - 10 }).execute();

    const ran = await Promise.all([a.retention.scheduler.tick(), b.retention.scheduler.tick(), a.retention.scheduler.tick(), b.retention.scheduler.tick()]);
    expect(ran.filter(Boolean)).toHaveLength(1);
    const reports = [a.retention.lastReport, b.retention.lastReport].filter(Boolean);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.blobs).toBe(1);
    expect(await a.blobs.exists('fusion/1/results/x.jpg')).toBe(false);

    // Same period again: nobody runs. Next period: exactly one runs.
    expect(await Promise.all([a.retention.scheduler.tick(), b.retention.scheduler.tick()])).toEqual([false, false]);
    clock.advance(INTERVAL);
    expect((await Promise.all([a.retention.scheduler.tick(), b.retention.scheduler.tick()])).filter(Boolean)).toHaveLength(1);
    expect(a.retention.scheduler.runs + b.retention.scheduler.runs).toBe(2);
  });

  it('a slow run holds the lock: another process does not start the next period meanwhile', async () => {
    const clock = new ManualClock(Math.floor(Math.random() * 1e9) * INTERVAL);
    const prefix = `facevault-test:${Math.random().toString(36).slice(2)}`;
    let release!: () => void;
    let runs = 0;
    const slow = async () => { runs++; await new Promise<void>((r) => { release = r; }); };
    const a = new JobScheduler(slow, { name: 'slow', intervalMs: INTERVAL, clock, redisUrl: REDIS_URL, keyPrefix: prefix });
    const b = new JobScheduler(slow, { name: 'slow', intervalMs: INTERVAL, clock, redisUrl: REDIS_URL, keyPrefix: prefix });
    const first = a.tick();
    while (runs === 0) await new Promise((r) => setImmediate(r));
    clock.advance(INTERVAL); // the next period starts while a is still running
    expect(await b.tick()).toBe(false);
    release();
    expect(await first).toBe(true);
    // Released: the new period's run can happen now.
    const second = b.tick();
    while (runs === 1) await new Promise((r) => setImmediate(r));
    release();
    expect(await second).toBe(true);
    await a.stop();
    await b.stop();
  });
});
