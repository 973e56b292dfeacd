// DescribeUsage (extension): the caller's own AppId only; dates are UTC.
import type { App } from '../../app.ts';
import { TcError } from '../../domain/errors.ts';
import { UsageRepo } from '../../store/logs/usage-repo.ts';
import { monthRange, UsageService, type Granularity } from '../../services/usage/usage.ts';

const optString = (params: Record<string, unknown>, name: string): string | undefined => {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw new TcError('InvalidParameterValue', `${name}: must be a non-empty string`);
  return v;
};

export function registerUsage(app: App): void {
  const usage = new UsageService(new UsageRepo(app.db));
  app.registry.registerExtension('DescribeUsage', async (ctx, params) => {
    ctx.record.billed = false; // reading one's own usage is not a billable call
    const month = optString(params, 'Month');
    const start = optString(params, 'StartDate');
    const end = optString(params, 'EndDate');
    const gran = optString(params, 'Granularity') ?? 'Month';
    if (gran !== 'Day' && gran !== 'Month') throw new TcError('InvalidParameterValue', `Granularity: must be "Day" or "Month", got "${gran}"`);
    let range: { startDate: string; endDate: string };
    if (month !== undefined) {
      if (start !== undefined || end !== undefined) throw new TcError('InvalidParameter', 'Month: give either Month or StartDate/EndDate, not both');
      range = monthRange('Month', month);
    } else if (start !== undefined && end !== undefined) range = { startDate: start, endDate: end };
    else if (start !== undefined || end !== undefined) throw new TcError('MissingParameter', `${start === undefined ? 'StartDate' : 'EndDate'}: StartDate and EndDate go together`);
    else range = monthRange('Month', new Date(app.clock.now()).toISOString().slice(0, 7));
    const r = await usage.usage({ ...range, granularity: gran as Granularity, appId: ctx.caller.appId, action: optString(params, 'Action'), service: optString(params, 'Service') });
    return { AppId: ctx.caller.appId, ...r, Items: r.Items.map(({ AppId: _, ...rest }) => rest) };
  });
}

/** For `facevault usage`: every AppId (or one), one month. */
export async function usageReport(app: App, month: string, opts: { appId?: number; granularity?: Granularity } = {}) {
  const usage = new UsageService(new UsageRepo(app.db));
  return { Month: month, ...(await usage.usage({ ...monthRange('--month', month), granularity: opts.granularity ?? 'Month', appId: opts.appId })) };
}
