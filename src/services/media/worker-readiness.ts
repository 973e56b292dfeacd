// /readyz's view of the worker pools: a worker stuck past its deadline, or a replacement still
// starting, means image requests may queue or fail, so the instance reports not ready.
import { poolReady, type PoolHealth } from '../../vision/pool-health.ts';

export type { PoolHealth };

/** The pools /readyz looks at: the inference engine's, and the fusion pool when it has workers. */
export interface WorkerPools {
  vision: { health(): PoolHealth[] };
  fusion?: { pool?: { size: number; health(): PoolHealth } };
}

export function workerReadiness(app: WorkerPools): { ok: boolean; detail: string } {
  const pools: [string, PoolHealth][] = [
    ...app.vision.health().map((h, i) => [i ? `inference ${i + 1}` : 'inference', h] as [string, PoolHealth]),
    ...(app.fusion?.pool && app.fusion.pool.size > 0 ? [['fusion', app.fusion.pool.health()] as [string, PoolHealth]] : []),
  ];
  const bad = pools.filter(([, h]) => !poolReady(h));
  if (!bad.length) return { ok: true, detail: 'ok' };
  return { ok: false, detail: bad.map(([name, h]) => `${name}: ${h.stuck} worker(s) stopped at the task deadline, ${h.replacing} replacement(s) starting`).join('; ') };
}
