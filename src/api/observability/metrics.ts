// Prometheus metrics (prom-client: the de-facto Node client, text exposition format, process
// metrics built in). Request counters and latency are recorded as calls finish; everything else
// (queues, workers, index, sweep, dependencies) is read from its owner when /metrics is scraped,
// so there is no second copy of that state to drift.
import client from 'prom-client';
import { ACTIONS } from '../actions/table.ts';
import type { PoolHealth } from '../../services/media/worker-readiness.ts';
import type { ServiceName } from '../../domain/call.ts';

/** What the scrape reads; each is the owner's own view (the composition root passes them). */
export interface MetricSources {
  vision: { health(): PoolHealth[]; status(): { state: string; allLoaded?: boolean } };
  fusion?: { pool?: { size: number; health(): PoolHealth } };
  index?: { stats(): { apps: number; groups: number; faces: number; persons: number } };
  retention?: {
    readonly lastReport: { startedAt: number; finishedAt: number; blobs: number; rows: Record<string, number>; tasks: Record<string, number>; errors: string[] } | null;
    /** The sweep's scheduler: decisions this node made and the runs it won. */
    readonly scheduler?: { readonly ticks: number; readonly runs: number };
  };
  /** Dependencies probed at scrape time (the same probes as /readyz). */
  dependencies: Record<string, () => Promise<unknown>>;
}

// Labels come only from the action table: an unauthenticated client naming a million made-up
// actions must not make a million series.
const known = (service: string, action: string) => Object.hasOwn(ACTIONS, service) && ACTIONS[service as ServiceName].has(action);

/** Scrape-time probes wait at most this long, so a hung dependency cannot hang the scrape. */
const PROBE_MS = 2000;

export class Metrics {
  readonly registry = new client.Registry();
  private readonly requests: client.Counter<'service' | 'action' | 'code'>;
  private readonly latency: client.Histogram<'service' | 'action'>;

  constructor(sources: MetricSources) {
    const r = this.registry;
    client.collectDefaultMetrics({ register: r, prefix: 'facevault_' });
    this.requests = new client.Counter({
      name: 'facevault_requests_total', help: 'API calls answered, by service, action and Tencent error code ("OK" for success)',
      labelNames: ['service', 'action', 'code'], registers: [r],
    });
    this.latency = new client.Histogram({
      name: 'facevault_request_duration_seconds', help: 'Time from request to reply, by service and action',
      labelNames: ['service', 'action'], registers: [r],
      // Management calls take ms; detection 50-500 ms; fusion and large searches seconds.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });

    const pools = (): [string, PoolHealth][] => [
      ...sources.vision.health().map((h, i) => [i ? `inference${i + 1}` : 'inference', h] as [string, PoolHealth]),
      ...(sources.fusion?.pool && sources.fusion.pool.size > 0 ? [['fusion', sources.fusion.pool.health()] as [string, PoolHealth]] : []),
    ];
    const poolGauge = (name: string, help: string, value: (h: PoolHealth) => number | null) => new client.Gauge({
      name, help, labelNames: ['pool'], registers: [r],
      collect() {
        this.reset();
        for (const [pool, h] of pools()) { const v = value(h); if (v !== null) this.set({ pool }, v); }
      },
    });
    poolGauge('facevault_pool_queue_depth', 'Image tasks waiting for a worker', (h) => h.queued);
    poolGauge('facevault_pool_queue_limit', 'Configured queue depth (FACEVAULT_MAX_QUEUE); past it requests get RequestLimitExceeded', (h) => h.maxQueue);
    poolGauge('facevault_pool_workers', 'Workers in rotation', (h) => h.workers);
    poolGauge('facevault_pool_workers_busy', 'Workers running a task', (h) => h.busy);
    poolGauge('facevault_pool_workers_stuck', 'Workers stopped at the task deadline and not yet exited', (h) => h.stuck);
    poolGauge('facevault_pool_workers_replacing', 'Replacement workers still starting', (h) => h.replacing);
    poolGauge('facevault_pool_task_timeouts', 'Tasks failed at their deadline since start (counter semantics)', (h) => h.timeouts);
    poolGauge('facevault_pool_refused', 'Tasks refused with RequestLimitExceeded because the queue was full, since start (counter semantics)', (h) => h.refused);

    new client.Gauge({
      name: 'facevault_models_ready', help: '1 when every default model is loaded in every inference worker', registers: [r],
      collect() { const s = sources.vision.status(); this.set(s.state === 'ready' && s.allLoaded ? 1 : 0); },
    });

    if (sources.index) {
      const index = sources.index;
      new client.Gauge({
        name: 'facevault_index_entries', help: 'What the in-memory search index holds (all AppIds)', labelNames: ['kind'], registers: [r],
        collect() {
          const s = index.stats();
          for (const kind of ['apps', 'groups', 'faces', 'persons'] as const) this.set({ kind }, s[kind]);
        },
      });
    }

    if (sources.retention) {
      const retention = sources.retention;
      const last = () => retention.lastReport;
      new client.Gauge({
        name: 'facevault_retention_last_sweep_timestamp_seconds', help: 'When the last retention sweep on this node finished (0: none yet)', registers: [r],
        collect() { this.set((last()?.finishedAt ?? 0) / 1000); },
      });
      new client.Gauge({
        name: 'facevault_retention_last_sweep_duration_seconds', help: 'How long the last retention sweep took', registers: [r],
        collect() { const l = last(); this.set(l ? (l.finishedAt - l.startedAt) / 1000 : 0); },
      });
      new client.Gauge({
        name: 'facevault_retention_last_sweep_errors', help: 'Errors in the last retention sweep', registers: [r],
        collect() { this.set(last()?.errors.length ?? 0); },
      });
      const sched = retention.scheduler;
      if (sched) {
        new client.Gauge({
          name: 'facevault_retention_sweep_ticks', help: 'Sweep scheduling decisions this node made since start (monotonic); with Redis most go to another node', registers: [r],
          collect() { this.set(sched.ticks); },
        });
        new client.Gauge({
          name: 'facevault_retention_sweeps', help: 'Sweeps this node ran since start (monotonic); summed over nodes, one per period', registers: [r],
          collect() { this.set(sched.runs); },
        });
      }
      new client.Gauge({
        name: 'facevault_retention_last_sweep_deleted', help: 'What the last sweep deleted: objects, rows per table, task counts', labelNames: ['what'], registers: [r],
        collect() {
          this.reset();
          const l = last();
          if (!l) return;
          this.set({ what: 'objects' }, l.blobs);
          for (const [t, n] of Object.entries(l.rows)) this.set({ what: `rows:${t}` }, n);
          for (const [t, n] of Object.entries(l.tasks)) this.set({ what: `task:${t}` }, n);
        },
      });
    }

    new client.Gauge({
      name: 'facevault_dependency_up', help: '1 when the dependency answered its probe at scrape time (database, objectStore, keyStore, redis)', labelNames: ['dependency'], registers: [r],
      async collect() {
        const entries = Object.entries(sources.dependencies);
        const up = await Promise.all(entries.map(([, probe]) => withTimeout(probe(), PROBE_MS).then(() => 1, () => 0)));
        entries.forEach(([dependency], i) => this.set({ dependency }, up[i]));
      },
    });
  }

  /** One finished API call. Unknown services/actions share one label value. */
  observe(service: string, action: string, code: string, seconds: number): void {
    const labels = { service: Object.hasOwn(ACTIONS, service) ? service : 'unknown', action: known(service, action) ? action : 'unknown' };
    // Codes are ours (TcError), a bounded set; a success is "OK".
    this.requests.inc({ ...labels, code: code || 'OK' });
    this.latency.observe(labels, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error('timeout')), ms); t.unref(); })]).finally(() => clearTimeout(t));
}
