// Stacked bars of calls per day (billed, unbilled, failed) as plain SVG: a few dozen lines,
// no chart library in the bundle, readable by screen readers (each bar has a title and the
// numbers are in the table beside it).
import { t } from '../i18n/index.ts';

export interface DayBar { day: string; billed: number; unbilled: number; failed: number }

const PAD_L = 40, PAD_B = 28, PAD_T = 10;

export function BarChart({ bars }: { bars: DayBar[] }) {
  // Phones get a narrower, taller drawing so the bars and labels stay legible when scaled down.
  const narrow = globalThis.matchMedia?.('(max-width: 600px)').matches ?? false;
  const W = narrow ? 420 : 720, H = narrow ? 300 : 240;
  const max = Math.max(1, ...bars.map((b) => b.billed + b.unbilled + b.failed));
  const nice = niceMax(max);
  const slot = (W - PAD_L) / Math.max(1, bars.length);
  const bw = Math.max(2, Math.min(36, slot * 0.7));
  const y = (v: number) => H - PAD_B - ((H - PAD_B - PAD_T) * v) / nice;
  const ticks = [0, nice / 2, nice];
  const every = Math.ceil(bars.length / (narrow ? 5 : 10));
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t('usage.chart')}>
      {ticks.map((v) => (
        <g key={v}>
          <line x1={PAD_L} x2={W} y1={y(v)} y2={y(v)} class="grid" />
          <text x={PAD_L - 6} y={y(v) + 4} class="tick" text-anchor="end">{v}</text>
        </g>
      ))}
      {bars.map((b, i) => {
        const x = PAD_L + i * slot + (slot - bw) / 2;
        let base = 0;
        const seg = (v: number, cls: string) => {
          const r = <rect x={x} y={y(base + v)} width={bw} height={Math.max(0, y(base) - y(base + v))} class={cls} />;
          base += v;
          return r;
        };
        return (
          <g key={b.day} data-day={b.day} data-total={b.billed + b.unbilled + b.failed}>
            <title>{t('usage.bar', { day: b.day, billed: b.billed, unbilled: b.unbilled, failed: b.failed })}</title>
            {seg(b.billed, 'billed')}{seg(b.unbilled, 'unbilled')}{seg(b.failed, 'failed')}
            {i % every === 0 && <text x={x + bw / 2} y={H - 8} class="tick" text-anchor="middle">{b.day.slice(5)}</text>}
          </g>
        );
      })}
    </svg>
  );
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
