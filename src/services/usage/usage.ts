// Usage for billing, from the running log: per AppId, per action, per UTC day or month, billed
// vs unbilled. As Tencent bills, failed calls and calls that found no face are not billed
// (the server records `billed` per call; handlers clear it when no face was found).
import { TcError } from '../../domain/errors.ts';
import type { UsageRepo } from '../../store/logs/usage-repo.ts';

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
}
