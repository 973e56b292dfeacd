// Usage for billing, from the running log: per AppId, per action, per UTC day or month, billed
// vs unbilled. As Tencent bills, failed calls and calls that found no face are not billed
// (the server records `billed` per call; handlers clear it when no face was found).
import { TcError } from '../../domain/errors.ts';
import { LATENCY_EDGES_MS, type UsageRepo } from '../../store/logs/usage-repo.ts';

const DAY = 86_400_000;

export type Granularity = 'Day' | 'Month';

export interface UsageQuery {
  /** Inclusive UTC dates YYYY-MM-DD. */
  startDate: string;
  endDate: string;
  granularity: Granularity;
  appId?: number;
  service?: string;
  action?: string;
}

export interface UsageItem {
  AppId: number;
  Period: string; // YYYY-MM-DD or YYYY-MM (UTC)
  Service: string;
  Action: string;
  Calls: number;
  Billed: number;
  Unbilled: number;
  /** Unbilled because the call failed (an error code was returned). */
  UnbilledFailed: number;
  /** Unbilled although it succeeded: no face found (or an action that is never billed). */
  UnbilledNoResult: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

function utcDay(field: string, s: string): number {
  const m = DATE.exec(s);
  const t = m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) : NaN;
  if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s) throw new TcError('InvalidParameterValue', `${field}: must be a date YYYY-MM-DD, got "${s}"`);
  return t;
}

/** A month "YYYY-MM" as an inclusive date range. */
export function monthRange(field: string, month: string): { startDate: string; endDate: string } {
  const m = MONTH.exec(month);
  if (!m || +m[2] < 1 || +m[2] > 12) throw new TcError('InvalidParameterValue', `${field}: must be a month YYYY-MM, got "${month}"`);
  const start = Date.UTC(+m[1], +m[2] - 1, 1);
  const end = Date.UTC(+m[1], +m[2], 1) - DAY;
  return { startDate: new Date(start).toISOString().slice(0, 10), endDate: new Date(end).toISOString().slice(0, 10) };
}

export interface LatencyItem {
  Service: string;
  Action: string;
  Calls: number;
  Errors: number;
  /** Percentiles as the upper edge of the histogram bucket they fall in (at most this many ms). */
  P50Ms: number;
  P90Ms: number;
  P99Ms: number;
  MeanMs: number;
  MaxMs: number;
}

/** The bucket edge at or below which fraction q of the calls completed. */
function percentile(counts: number[], total: number, q: number, maxMs: number): number {
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    // The open last bucket (and any bucket past the slowest call) reports the slowest call itself.
    if (seen >= rank) return Math.min(i < LATENCY_EDGES_MS.length ? LATENCY_EDGES_MS[i] : maxMs, maxMs);
  }
  return maxMs;
}

export class UsageService {
  constructor(private readonly repo: UsageRepo) {}

  /** For `facevault usage`: every AppId (or one), one month. */
  async monthReport(month: string, opts: { appId?: number; granularity?: Granularity } = {}) {
    return { Month: month, ...(await this.usage({ ...monthRange('--month', month), granularity: opts.granularity ?? 'Month', appId: opts.appId })) };
  }

  async usage(q: UsageQuery): Promise<{ StartDate: string; EndDate: string; Granularity: Granularity; Items: UsageItem[]; TotalCalls: number; TotalBilled: number }> {
    const from = utcDay('StartDate', q.startDate);
    const to = utcDay('EndDate', q.endDate) + DAY;
    if (to <= from) throw new TcError('InvalidParameterValue', `EndDate: ${q.endDate} is before StartDate ${q.startDate}`);
    if (to - from > 400 * DAY) throw new TcError('InvalidParameterValue', 'EndDate: the range may span at most 400 days');
    const cells = await this.repo.daily({ appId: q.appId, from, to, service: q.service, action: q.action });
    const items = new Map<string, UsageItem>();
    for (const c of cells) {
      const date = new Date(c.day * DAY).toISOString();
      const period = q.granularity === 'Day' ? date.slice(0, 10) : date.slice(0, 7);
      const key = `${c.appId}|${period}|${c.service}|${c.action}`;
      let it = items.get(key);
      if (!it) items.set(key, it = { AppId: c.appId, Period: period, Service: c.service, Action: c.action, Calls: 0, Billed: 0, Unbilled: 0, UnbilledFailed: 0, UnbilledNoResult: 0 });
      it.Calls += c.calls;
      if (c.billed) it.Billed += c.calls;
      else {
        it.Unbilled += c.calls;
        if (c.failed) it.UnbilledFailed += c.calls;
        else it.UnbilledNoResult += c.calls;
      }
    }
    const sorted = [...items.values()].sort((a, b) => a.AppId - b.AppId || a.Period.localeCompare(b.Period) || a.Service.localeCompare(b.Service) || a.Action.localeCompare(b.Action));
    return {
      StartDate: q.startDate, EndDate: q.endDate, Granularity: q.granularity, Items: sorted,
      TotalCalls: sorted.reduce((s, i) => s + i.Calls, 0), TotalBilled: sorted.reduce((s, i) => s + i.Billed, 0),
    };
  }

  /** Latency percentiles per action for one AppId over inclusive UTC dates. */
  async latency(q: { appId: number; startDate: string; endDate: string }): Promise<{ StartDate: string; EndDate: string; Items: LatencyItem[] }> {
    const from = utcDay('StartDate', q.startDate);
    const to = utcDay('EndDate', q.endDate) + DAY;
    if (to <= from) throw new TcError('InvalidParameterValue', `EndDate: ${q.endDate} is before StartDate ${q.startDate}`);
    if (to - from > 400 * DAY) throw new TcError('InvalidParameterValue', 'EndDate: the range may span at most 400 days');
    const by = new Map<string, { service: string; action: string; counts: number[]; calls: number; errors: number; max: number; sum: number }>();
    for (const c of await this.repo.latency({ appId: q.appId, from, to })) {
      const k = `${c.service}|${c.action}`;
      let a = by.get(k);
      if (!a) by.set(k, a = { service: c.service, action: c.action, counts: new Array(LATENCY_EDGES_MS.length + 1).fill(0), calls: 0, errors: 0, max: 0, sum: 0 });
      a.counts[c.bucket] += c.calls;
      a.calls += c.calls;
      a.errors += c.errors;
      a.max = Math.max(a.max, c.maxMs);
      a.sum += c.sumMs;
    }
    const Items = [...by.values()].sort((a, b) => a.service.localeCompare(b.service) || a.action.localeCompare(b.action)).map((a) => ({
      Service: a.service, Action: a.action, Calls: a.calls, Errors: a.errors,
      P50Ms: percentile(a.counts, a.calls, 0.5, a.max), P90Ms: percentile(a.counts, a.calls, 0.9, a.max), P99Ms: percentile(a.counts, a.calls, 0.99, a.max),
      MeanMs: Math.round(a.sum / a.calls), MaxMs: a.max,
    }));
    return { StartDate: q.startDate, EndDate: q.endDate, Items };
  }
}
