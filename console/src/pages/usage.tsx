// Usage: calls per day as stacked bars (billed, unbilled, failed), per action or all, and
// latency percentiles per action.
import { useState } from 'preact/hooks';
import { call, can } from '../api.ts';
import { fmtNum, t } from '../i18n/index.ts';
import { Empty, ErrorNote, Section, useLoad } from '../components/ui.tsx';
import { BarChart, type DayBar } from '../components/chart.tsx';

interface Item { Period: string; Service: string; Action: string; Calls: number; Billed: number; Unbilled: number; UnbilledFailed: number; UnbilledNoResult: number }
interface Lat { Service: string; Action: string; Calls: number; Errors: number; P50Ms: number; P90Ms: number; P99Ms: number; MaxMs: number }

const day = (d: Date) => d.toISOString().slice(0, 10);

export function Usage() {
  const [days, setDays] = useState(7);
  const [action, setAction] = useState('');
  const end = new Date();
  const start = new Date(end.getTime() - (days - 1) * 86_400_000);
  const range = { StartDate: day(start), EndDate: day(end) };
  const usage = useLoad(() => call<{ Items: Item[]; TotalCalls: number; TotalBilled: number }>('facevault', 'DescribeUsage', { ...range, Granularity: 'Day' }), [days]);
  const lat = useLoad(() => can('facevault', 'DescribeUsageLatency') ? call<{ Items: Lat[] }>('facevault', 'DescribeUsageLatency', range) : Promise.resolve({ Items: [] as Lat[] }), [days]);
  const items = usage.data?.Items ?? [];
  const actions = [...new Set(items.map((i) => `${i.Service}:${i.Action}`))].sort();
  const chosen = items.filter((i) => !action || `${i.Service}:${i.Action}` === action);
  const bars: DayBar[] = [];
  for (let i = 0; i < days; i++) {
    const d = day(new Date(start.getTime() + i * 86_400_000));
    const of = chosen.filter((x) => x.Period === d);
    bars.push({ day: d, billed: of.reduce((s, x) => s + x.Billed, 0), unbilled: of.reduce((s, x) => s + x.UnbilledNoResult, 0), failed: of.reduce((s, x) => s + x.UnbilledFailed, 0) });
  }
  const total = chosen.reduce((s, x) => s + x.Calls, 0);
  const billed = chosen.reduce((s, x) => s + x.Billed, 0);
  return (
    <div class="page">
      <h1>{t('usage.title')}</h1>
      <p class="muted lead">{t('usage.intro')}</p>
      <div class="card row wrap">
        <div class="field"><label for="u-range">{t('usage.range')}</label>
          <select id="u-range" value={days} onChange={(e) => setDays(+(e.currentTarget as HTMLSelectElement).value)}>
            <option value={7}>{t('usage.days7')}</option><option value={30}>{t('usage.days30')}</option>
          </select>
        </div>
        <div class="field grow"><label for="u-action">{t('usage.action')}</label>
          <select id="u-action" value={action} onChange={(e) => setAction((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">{t('usage.allActions')}</option>
            {actions.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </div>
        <button type="button" class="btn" onClick={() => { usage.reload(); lat.reload(); }}>{t('common.refresh')}</button>
      </div>
      <ErrorNote error={usage.error ?? lat.error} />
      <Section title={t('usage.chart')} id="chart-title">
        <p class="small" data-testid="usage-total">{t('usage.total', { calls: fmtNum(total), billed: fmtNum(billed) })}</p>
        <div class="legend small" aria-hidden="true">
          <span><i class="sw billed" />{t('usage.billed')}</span><span><i class="sw unbilled" />{t('usage.unbilled')}</span><span><i class="sw failed" />{t('usage.failed')}</span>
        </div>
        <div class="chart-box">
          <BarChart bars={bars} />
          {usage.data && total === 0 && <div class="chart-empty">{t('usage.empty')}</div>}
        </div>
        {chosen.length > 0 && (
          <div class="scroll-x">
            <table class="table" data-testid="usage-table">
              <thead><tr><th>{t('usage.action')}</th><th>{t('usage.calls')}</th><th>{t('usage.billed')}</th><th>{t('usage.unbilled')}</th><th>{t('usage.failed')}</th></tr></thead>
              <tbody>{summarise(chosen).map((r) => <tr key={r.key}><td class="mono action-name"><ActionName service={r.service} action={r.action} /></td><td>{r.calls}</td><td>{r.billed}</td><td>{r.unbilled}</td><td>{r.failed}</td></tr>)}</tbody>
            </table>
          </div>
        )}
      </Section>
      {can('facevault', 'DescribeUsageLatency') && (
        <Section title={t('usage.latency')} intro={t('usage.latencyNote')} id="lat-title">
          {(lat.data?.Items.length ?? 0) === 0 ? <Empty>{t('usage.empty')}</Empty> : (
            <div class="scroll-x">
              <table class="table" data-testid="latency">
                <thead><tr><th>{t('usage.action')}</th><th>{t('usage.calls')}</th><th>{t('usage.errors')}</th><th>{t('usage.p50')}</th><th>{t('usage.p90')}</th><th>{t('usage.p99')}</th><th>{t('usage.max')}</th></tr></thead>
                <tbody>{lat.data!.Items.map((l) => <tr key={`${l.Service}:${l.Action}`}><td class="mono action-name"><ActionName service={l.Service} action={l.Action} /></td><td>{l.Calls}</td><td>{l.Errors}</td><td>{l.P50Ms}</td><td>{l.P90Ms}</td><td>{l.P99Ms}</td><td>{l.MaxMs}</td></tr>)}</tbody>
              </table>
            </div>
          )}
        </Section>
      )}
    </div>
  );
}

/** "iai:CreatePerson" with the service on its own muted line on phones, so the action name never
 *  breaks mid-word in a narrow column. */
function ActionName({ service, action }: { service: string; action: string }) {
  return <><span class="svc">{service}:</span><wbr />{action}</>;
}

function summarise(items: Item[]) {
  const m = new Map<string, { key: string; service: string; action: string; calls: number; billed: number; unbilled: number; failed: number }>();
  for (const i of items) {
    const key = `${i.Service}:${i.Action}`;
    const r = m.get(key) ?? { key, service: i.Service, action: i.Action, calls: 0, billed: 0, unbilled: 0, failed: 0 };
    r.calls += i.Calls; r.billed += i.Billed; r.unbilled += i.UnbilledNoResult; r.failed += i.UnbilledFailed;
    m.set(key, r);
  }
  return [...m.values()].sort((a, b) => b.calls - a.calls);
}
