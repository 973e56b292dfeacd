// The retention table of docs/PRIVACY.md, generated from the rule table itself (defaults and
// bounds, not this machine's environment) so the document cannot drift from the code.
import { BASE_RULES, SWEEP_INTERVAL_VAR } from '../../domain/retention-policy.ts';

const DAY = 86_400_000;
export const BEGIN = '<!-- retention-table:begin';
export const END = '<!-- retention-table:end -->';
const ERROR_LOG_DEFAULT_BYTES = 2 * 1024 ** 3; // FACEVAULT_ERROR_LOG_MAX_BYTES default (src/config.ts)

const days = (ms: number) => {
  const d = ms / DAY;
  return `${+d.toFixed(3)} day${d === 1 ? '' : 's'}`;
};
const cell = (s: string) => s.replace(/\|/g, '\\|');

export function retentionTable(): string {
  const rows = BASE_RULES.map((r) => {
    const kept = r.dataClass === 'error_log' ? `size cap ${ERROR_LOG_DEFAULT_BYTES / 1024 ** 3} GiB` : r.retainMs === null ? 'until deleted' : days(r.retainMs);
    let conf = '—';
    if (r.envVar) conf = r.minMs === r.maxMs ? `\`${r.envVar}\` (fixed at ${days(r.minMs!)})` : `\`${r.envVar}\`, ${days(r.minMs ?? 0)} to ${days(r.maxMs!)}`;
    if (r.dataClass === 'error_log') conf = '`FACEVAULT_ERROR_LOG_MAX_BYTES`, 1 MiB and up';
    return `| \`${r.dataClass}\` | ${cell(r.holds)} | ${kept} | ${conf} | ${cell(r.deletedBy)} |`;
  });
  return [
    '| Data class | What it holds | Kept (default) | Set per deployment by | Deleted by |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `The sweeper runs every ${SWEEP_INTERVAL_VAR.default} s by default (\`${SWEEP_INTERVAL_VAR.name}\`, ${SWEEP_INTERVAL_VAR.min} to ${SWEEP_INTERVAL_VAR.max} s). ` +
      'A running server reports its effective values with the `DescribeRetentionPolicy` action.',
  ].join('\n');
}

/** The document with the table between the markers replaced by the generated one. */
export function withRetentionTable(doc: string): string {
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  if (b < 0 || e < b) throw new Error(`docs/PRIVACY.md has no "${BEGIN} ... ${END}" markers`);
  const beginLineEnd = doc.indexOf('\n', b);
  return doc.slice(0, beginLineEnd + 1) + retentionTable() + '\n' + doc.slice(e);
}
