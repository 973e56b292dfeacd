// /readyz's view of the worker pools: a worker stuck past its deadline, or a replacement still
// starting, means image requests may queue or fail, so the instance reports not ready.
import type { App } from '../app.ts';
import { poolReady, type PoolHealth } from '../vision/pool-health.ts';

export function workerReadiness(app: Pick<App, 'vision' | 'fusion'>): { ok: boolean; detail: string } {
  const pools: [string, PoolHealth][] = [
    ...app.vision.health().map((h, i) => [i ? `inference ${i + 1}` : 'inference', h] as [string, PoolHealth]),
    ...(app.fusion?.pool && app.fusion.pool.size > 0 ? [['fusion', app.fusion.pool.health()] as [string, PoolHealth]] : []),
  ];
  const bad = pools.filter(([, h]) => !poolReady(h));
  if (!bad.length) return { ok: true, detail: 'ok' };
  return { ok: false, detail: bad.map(([name, h]) => `${name}: ${h.stuck} worker(s) stopped at the task deadline, ${h.replacing} replacement(s) starting`).join('; ') };
}
