// Bulk loader for the capacity benchmarks: writes n sealed faces (n/5 persons with combined
// features, one group) straight through the store layer (Kysely inserts of the production rows,
// features sealed as in production), because enrolling 100k-3M faces through CreatePerson would
// take hours of inference on this machine. The features are the clustered synthetic set of
// search-data.ts, generated per person as they are written, so 3M faces need no 6 GB array.
// Also keeps a few query vectors: fresh samples around enrolled persons' centres.
// The rows are generated and sealed in a worker thread (this file is also the worker's entry)
// while this thread inserts the previous batches: generation and sealing took about as long
// as the inserts, one after the other (`workers: 0` keeps that path; the data are the same).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Insertable } from 'kysely';
import type { App } from '../src/app.ts';
import type { DB } from '../src/store/db/schema.ts';
import { FeatureCrypto, combine } from '../src/store/keys/feature-crypto.ts';
import { seal } from '../src/store/keys/keyring.ts';
import { tsWorker } from '../src/domain/ts-worker.ts';
import { DIM, FACES_PER_PERSON } from './search-data.ts';

/** The xorshift + Box-Muller generator of search-data.ts (same seed, same kind of data). */
class Rng {
  private s: number;
  private spare: number | null = null;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  u32(): number { let x = this.s; x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; this.s = x; return x; }
  gauss(): number {
    if (this.spare !== null) { const v = this.spare; this.spare = null; return v; }
    const u = (this.u32() + 0.5) / 4294967296, v = (this.u32() + 0.5) / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  unit(out: Float32Array): void {
    let n = 0;
    for (let i = 0; i < DIM; i++) { const g = this.gauss(); out[i] = g; n += g * g; }
    n = 1 / Math.sqrt(n);
    for (let i = 0; i < DIM; i++) out[i] *= n;
  }
  /** 0.7 * centre + 0.714 * random unit, normalised (cosine ~0.7 to the centre). */
  around(centre: Float32Array, tmp: Float32Array): Float32Array {
    this.unit(tmp);
    const out = new Float32Array(DIM);
    const a = 0.7, b = Math.sqrt(1 - a * a);
    let n = 0;
    for (let i = 0; i < DIM; i++) { const v = a * centre[i] + b * tmp[i]; out[i] = v; n += v * v; }
    n = 1 / Math.sqrt(n);
    for (let i = 0; i < DIM; i++) out[i] *= n;
    return out;
  }
}

export interface BulkResult { persons: number; faces: number; seconds: number; queries: Float32Array[]; queryOwners: string[] }

/** What the generator needs: every row of the load follows from it. */
interface GenSpec { appId: number; groupId: string; n: number; prefix: string; seed: number; want: number; key: Uint8Array; now: number; batch: number }
interface Batch { pRows: Insertable<DB['persons']>[]; mRows: Insertable<DB['group_persons']>[]; fRows: Insertable<DB['faces']>[]; queries: Float32Array[]; queryOwners: string[]; p0: number }

const f32 = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** The batches of the load, in order (the RNG runs through them as one sequence). */
function* generate(g: GenSpec): Generator<Batch> {
  const key = Buffer.from(g.key);
  const persons = Math.ceil(g.n / FACES_PER_PERSON);
  const rng = new Rng(g.seed);
  const every = Math.max(1, Math.floor(persons / Math.max(1, g.want)));
  const centre = new Float32Array(DIM), tmp = new Float32Array(DIM);
  let nq = 0;
  // Face ids as the library makes them (19 digits); distinct per prefix so two groups can coexist.
  const idBase = g.prefix ? 2 : 1;
  for (let p0 = 0; p0 < persons; p0 += g.batch) {
    const b: Batch = { pRows: [], mRows: [], fRows: [], queries: [], queryOwners: [], p0 };
    for (let p = p0; p < Math.min(persons, p0 + g.batch); p++) {
      const pid = `${g.prefix}p${p}`;
      rng.unit(centre);
      const vs: Float32Array[] = [];
      for (let f = 0; f < FACES_PER_PERSON; f++) {
        const i = p * FACES_PER_PERSON + f;
        if (i >= g.n) break;
        const v = rng.around(centre, tmp);
        vs.push(v);
        const fid = String(idBase) + String(i).padStart(18, '0');
        // FeatureCrypto.sealFace / sealPerson, without the key store this thread does not have.
        b.fRows.push({ app_id: g.appId, face_id: fid, person_id: pid, feature: seal(key, f32(v), `face:${g.appId}:${fid}`), face_rect: '{"X":0,"Y":0,"Width":100,"Height":100}', image_key: null, created_at: g.now, data_class: 'face_feature', expires_at: null });
      }
      if (g.want && p % every === 0 && nq < g.want) { b.queries.push(rng.around(centre, tmp)); b.queryOwners.push(pid); nq++; }
      b.pRows.push({ app_id: g.appId, person_id: pid, name: pid, gender: 0, face_model_version: '3.0', combined_feature: seal(key, f32(combine(vs)), `person:${g.appId}:${pid}`), end_user_id: null, created_at: g.now, updated_at: g.now, last_used_at: g.now, data_class: 'face_feature', expires_at: null });
      b.mRows.push({ app_id: g.appId, group_id: g.groupId, person_id: pid, ex_descriptions: '[]', created_at: p, data_class: 'face_feature', expires_at: null });
    }
    yield b;
  }
}

// The worker: generates ahead, at most AHEAD batches beyond what the inserting thread took.
const AHEAD = 3;
if (!isMainThread && (workerData as { bulkGen?: GenSpec } | null)?.bulkGen) {
  const port = parentPort!;
  let credit = AHEAD;
  let wake: (() => void) | null = null;
  port.on('message', () => { credit++; wake?.(); wake = null; });
  void (async () => {
    for (const b of generate((workerData as { bulkGen: GenSpec }).bulkGen)) {
      while (credit <= 0) await new Promise<void>((r) => { wake = r; });
      credit--;
      port.postMessage(b);
    }
    port.postMessage(null);
  })();
}

/** The batches from a generator worker (structured clones: Buffers arrive as Uint8Arrays). */
async function* fromWorker(g: GenSpec): AsyncGenerator<Batch> {
  const w = tsWorker(new URL(import.meta.url), { workerData: { bulkGen: g } });
  const queue: (Batch | null)[] = [];
  let wake: (() => void) | null = null;
  let failed: Error | null = null;
  w.on('message', (b: Batch | null) => { queue.push(b); wake?.(); wake = null; });
  w.on('error', (e) => { failed = e; wake?.(); wake = null; });
  try {
    for (;;) {
      while (!queue.length && !failed) await new Promise<void>((r) => { wake = r; });
      if (failed) throw failed;
      const b = queue.shift()!;
      if (!b) return;
      for (const r of b.fRows) r.feature = Buffer.from(r.feature as Uint8Array);
      for (const r of b.pRows) r.combined_feature = Buffer.from(r.combined_feature as Uint8Array);
      yield b;
      w.postMessage(1);
    }
  } finally {
    await w.terminate();
  }
}

/**
 * Writes `n` faces into group `groupId` (created here) of `appId`. PersonIds are `${prefix}p<i>`.
 * `queries` query vectors are kept (each a fresh sample around a random person's centre).
 * `workers: 0` generates and seals on this thread between the inserts (the old, slower way).
 */
export async function bulkLoadGroup(app: App, appId: number, groupId: string, n: number, opts: { prefix?: string; queries?: number; seed?: number; log?: (s: string) => void; workers?: 0 | 1 } = {}): Promise<BulkResult> {
  const crypto = new FeatureCrypto(app.keyStore, app.keyring);
  const key = await crypto.dataKey(appId);
  const t = performance.now();
  const caller = { appId, uin: '', subUin: '' };
  if (!(await app.library.repo.reader(appId).getGroup(groupId))) {
    await app.library.groups.create(caller, { groupId, groupName: groupId, exDescriptions: [], tag: '', faceModelVersion: '3.0', keepImages: false });
  }
  const k = app.db.kysely;
  const persons = Math.ceil(n / FACES_PER_PERSON);
  // Enrolled now and never matched yet, as a fresh enrolment would be (the retention sweep keys on these).
  const spec: GenSpec = { appId, groupId, n, prefix: opts.prefix ?? '', seed: opts.seed ?? 12345, want: opts.queries ?? 0, key: new Uint8Array(key), now: Date.now(), batch: 200 };
  const queries: Float32Array[] = [], queryOwners: string[] = [];
  const batches: AsyncIterable<Batch> | Iterable<Batch> = opts.workers === 0 ? generate(spec) : fromWorker(spec);
  for await (const { pRows, mRows, fRows, queries: qs, queryOwners: qo, p0 } of batches) {
    queries.push(...qs);
    queryOwners.push(...qo);
    await k.transaction().execute(async (tx) => {
      await tx.insertInto('persons').values(pRows).execute();
      await tx.insertInto('group_persons').values(mRows).execute();
      for (let i = 0; i < fRows.length; i += 100) await tx.insertInto('faces').values(fRows.slice(i, i + 100)).execute();
      // The group's counts, as the library's own writes keep them (GetPersonList reads them).
      await tx.updateTable('face_groups').set((eb) => ({ person_num: eb('person_num', '+', mRows.length), face_num: eb('face_num', '+', fRows.length) }))
        .where('app_id', '=', appId).where('group_id', '=', groupId).execute();
    });
    if (opts.log && p0 % 20000 === 0) opts.log(`  bulk load: ${p0 * FACES_PER_PERSON} faces, ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  // One ordinary write so the change log and seq are those of a live library (a running node
  // that already has this app indexed picks the whole group up through its change replay).
  await app.library.groups.modify(caller, { groupId, tag: 'bulk' });
  return { persons, faces: n, seconds: (performance.now() - t) / 1000, queries, queryOwners };
}
