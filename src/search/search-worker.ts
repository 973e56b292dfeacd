// A search worker: runs stages 1 and 2 of a search (prefilter.ts) over an index's sign bits and
// stage-1 codes, which the event loop's VectorIndex keeps in shared memory, so nothing of the
// index is copied here. It returns candidate row numbers; the index maps them to ids and
// re-ranks on the event loop (tiny next to the scans), after checking no write came in between.
import { parentPort, threadId } from 'node:worker_threads';
import { CoarseCodes } from './hamming-wasm.ts';
import { PrefilterScratch, prefilter } from './prefilter.ts';
import type { PrefilterJob, PrefilterReply } from './search-pool.ts';

const port = parentPort!;
const scratch = new PrefilterScratch();
// Per index: its current buffers (replaced when the index grows, dropped when it is cleared).
const views = new Map<number, { layout: number; bits: Uint32Array; coarse: CoarseCodes | null }>();

port.on('message', (m: PrefilterJob | { forget: number }) => {
  if ('forget' in m) { views.delete(m.forget); return; }
  try {
    if (m.bits) views.set(m.index, { layout: m.layout, bits: new Uint32Array(m.bits), coarse: m.coarse ? CoarseCodes.attach(m.coarse) : null });
    const v = views.get(m.index);
    if (!v || v.layout !== m.layout) throw new Error(`search worker: no buffers for index ${m.index} layout ${m.layout}`);
    const r = prefilter(v.bits, m.useCoarse ? v.coarse : null, m.slot, m.n, m.qb, m.keep1, m.keep2, scratch);
    port.postMessage({ id: m.id, rows: r.rows, count: r.count, threadId } satisfies PrefilterReply, [r.rows.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ id: m.id, error: (e as Error).message } satisfies PrefilterReply);
  }
});
