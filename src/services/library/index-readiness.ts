// /readyz's view of the search index: until every AppId's library is loaded from the database a
// search waits for its AppId's load (seconds to minutes for a large library), so a load balancer
// must not send searches to the node yet. The detail names the index and how far the load is.
import type { IndexLoadStatus } from './library-index.ts';

export function indexReadiness(s: IndexLoadStatus): { ok: boolean; detail: string } {
  if (s.state === 'loaded') return { ok: true, detail: 'ok' };
  const pct = s.rows > 0 ? ` (${Math.min(100, Math.floor((100 * s.rowsDone) / s.rows))}%)` : '';
  const retry = s.lastError ? `; attempt ${s.attempt}, the last one failed: ${s.lastError}` : '';
  return { ok: false, detail: `loading: search index, ${s.appsDone} of ${s.apps} AppIds, ${s.rowsDone} of ${s.rows} feature rows${pct}${retry}` };
}
