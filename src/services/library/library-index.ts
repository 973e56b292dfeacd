// The in-memory 1:N index of every AppId's face library: per (AppId, GroupId) one VectorIndex of
// face features and one of persons' combined features. It is a cache of the database: built from
// the sealed features on start, and brought up to date from library_changes before every search
// (one indexed SELECT of library_seq when nothing changed), so deletes acknowledged by any process
// sharing the database are honoured by every process.
import { DIM, ENCODED_BYTES } from '../../search/vector-codes.ts';
import { VectorIndex, type Hit } from '../../search/vector-index.ts';
import { SearchPool } from '../../search/search-pool.ts';
import type { FeatureCrypto } from '../../store/keys/feature-crypto.ts';
import type { LibraryRepo } from '../../store/library/library-repo.ts';
import { FeatureDecoder } from './feature-decoder.ts';
import { DataKeyUnavailable } from '../../store/keys/key-store.ts';

/** Pages of at least this many rows are decrypted and encoded in worker threads. */
const DECODE_IN_WORKERS = 2000;

export interface GroupIndex { faces: VectorIndex; persons: VectorIndex; createdAt: number }

interface AppIndex {
  seq: number;
  groups: Map<string, GroupIndex>;
  /** The groups of each person. The sets are shared between persons and never mutated: replace them. */
  personGroups: Map<string, ReadonlySet<string>>;
}

/**
 * How far the start-up load has come (/readyz): a node is not ready for searches until every
 * AppId's library is in memory (a search before that waits for its AppId's load).
 */
export interface IndexLoadStatus {
  state: 'loading' | 'loaded';
  /** AppIds with a library, and how many are loaded. */
  apps: number;
  appsDone: number;
  /** Feature rows (faces, then persons' combined features) to read, and how many were read. */
  rows: number;
  rowsDone: number;
  /** 1 for the first load; more when an earlier attempt failed and it was retried. */
  attempt: number;
  /** The last failed attempt's error code (no message: /readyz is public). */
  lastError: string | null;
}

/** Waits between failed start-up loads: 1 s, doubling, at most 30 s. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

export class LibraryIndex {
  private readonly apps = new Map<number, AppIndex>();
  private readonly locks = new Map<number, Promise<void>>();

  /** Search workers (created on the first large search); null = search on the event loop. */
  private pool: SearchPool | null = null;

  constructor(private readonly repo: LibraryRepo, private readonly crypto: FeatureCrypto, private readonly searchOpts: { threads: number; minRows?: number } = { threads: 0 }) {}

  /**
   * One collection's top `k` owners for `query`; the scans of a large collection run in a search
   * worker. The index may change while a worker scans (another request's sync): the result is
   * then recomputed, so it never mixes rows from before and after a write.
   */
  search(vi: VectorIndex, query: Float32Array, k: number): Promise<Hit[]> {
    if (this.searchOpts.threads > 0) this.pool ??= new SearchPool(this.searchOpts.threads, this.searchOpts.minRows);
    return vi.searchAsync(query, k, this.pool);
  }

  /** For tests and metrics: searches whose scans ran in a worker, by worker threadId. */
  searchWorkerStats(): Map<number, number> { return new Map(this.pool?.servedBy ?? []); }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) { clearTimeout(this.retryTimer.t); this.retryTimer.stop(); this.retryTimer = null; }
    await this.pool?.close();
    this.pool = null;
  }

  private readonly status: IndexLoadStatus = { state: 'loading', apps: 0, appsDone: 0, rows: 0, rowsDone: 0, attempt: 0, lastError: null };
  private closed = false;
  private retryTimer: { t: NodeJS.Timeout; stop(): void } | null = null;

  /** The start-up load's progress (a copy). */
  loadStatus(): IndexLoadStatus { return { ...this.status }; }

  /** Loads every AppId's library (server start). */
  async loadAll(): Promise<void> {
    const st = this.status;
    st.state = 'loading';
    // A retry keeps the rows counted before: the AppIds loaded then are not read again.
    if (st.attempt++ === 0) st.rowsDone = 0;
    st.appsDone = 0;
    const apps = await this.repo.appsWithLibraries();
    st.apps = apps.length;
    st.rows = await this.repo.featureRows();
    for (const appId of apps) {
      // An AppId without a key (erased; its rows brought back by a restore) has nothing to search.
      await this.sync(appId).catch((e) => { if (!(e instanceof DataKeyUnavailable)) throw e; });
      st.appsDone++;
    }
    st.state = 'loaded';
    st.lastError = null;
  }

  /**
   * loadAll(), tried again after a failure (the database down at start) until it succeeds, so a
   * node whose dependencies come back becomes ready by itself. Each failure goes to `report`.
   * Rejects only if the index is closed first.
   */
  async loadAllRetrying(report: (e: Error) => void): Promise<void> {
    for (let wait = RETRY_FIRST_MS; ; wait = Math.min(RETRY_MAX_MS, wait * 2)) {
      if (this.closed) throw new Error('the search index was closed before it loaded');
      try {
        return await this.loadAll();
      } catch (e) {
        if (this.closed) throw new Error('the search index was closed before it loaded');
        // Unauthenticated /readyz callers read this: the error's code, never its message (hosts, addresses).
        this.status.lastError = String((e as NodeJS.ErrnoException).code ?? (e as Error).name ?? 'failed');
        report(new Error(`search index load failed (attempt ${this.status.attempt}; retried in ${wait / 1000} s): ${(e as Error).message}`));
      }
      if (this.closed) throw new Error('the search index was closed before it loaded');
      await new Promise<void>((resolve) => { this.retryTimer = { t: setTimeout(resolve, wait), stop: resolve }; });
      this.retryTimer = null;
    }
  }

  /** Brings the app's index up to the database's latest committed library write. */
  sync(appId: number): Promise<void> {
    const prev = this.locks.get(appId) ?? Promise.resolve();
    const next = prev.then(() => this.syncNow(appId));
    const tail = next.catch(() => {});
    this.locks.set(appId, tail);
    void tail.then(() => { if (this.locks.get(appId) === tail) this.locks.delete(appId); });
    return next;
  }

  /** Every group index of an app (capacity checks). */
  groupsOf(appId: number): IterableIterator<GroupIndex> {
    return (this.apps.get(appId)?.groups ?? new Map<string, GroupIndex>()).values();
  }

  group(appId: number, groupId: string): GroupIndex | undefined {
    return this.apps.get(appId)?.groups.get(groupId);
  }

  /** For /metrics: how much the in-memory index holds (totals: per-group labels would be unbounded). */
  stats(): { apps: number; groups: number; faces: number; persons: number } {
    let groups = 0, faces = 0, persons = 0;
    for (const a of this.apps.values()) {
      groups += a.groups.size;
      for (const g of a.groups.values()) { faces += g.faces.size; persons += g.persons.size; }
    }
    return { apps: this.apps.size, groups, faces, persons };
  }

  /** For tests and metrics: what the index holds for a group. */
  snapshot(appId: number, groupId: string): { faces: Map<string, string>; persons: Set<string> } | undefined {
    const g = this.group(appId, groupId);
    if (!g) return undefined;
    const faces = new Map<string, string>();
    for (const e of g.faces.entries()) faces.set(e.id, e.owner);
    return { faces, persons: new Set([...g.persons.entries()].map((e) => e.id)) };
  }

  /** Drops an app from memory, zeroing its vectors (crypto-shredding, account deletion). */
  drop(appId: number): void {
    const a = this.apps.get(appId);
    if (!a) return;
    for (const g of a.groups.values()) { g.faces.clear(); g.persons.clear(); }
    this.apps.delete(appId);
  }

  private async syncNow(appId: number): Promise<void> {
    const cur = this.apps.get(appId);
    if (!cur) return this.load(appId);
    const seq = await this.repo.seq(appId);
    if (seq <= cur.seq) return;
    const { changes, complete } = await this.repo.changesSince(appId, cur.seq);
    if (!complete) {
      this.drop(appId);
      return this.load(appId);
    }
    // Each distinct ref once: replays read the current rows, so later changes subsume earlier ones.
    const groups = new Set<string>(), persons = new Set<string>();
    for (const c of changes) (c.kind === 'group' ? groups : persons).add(c.ref);
    for (const g of groups) await this.applyGroup(appId, cur, g);
    for (const p of persons) await this.applyPerson(appId, cur, p);
    cur.seq = Math.max(cur.seq, seq);
  }

  private async load(appId: number): Promise<void> {
    // The seq is read first: anything committed after it is replayed by the next sync.
    const seq = await this.repo.seq(appId);
    const a: AppIndex = { seq, groups: new Map(), personGroups: new Map() };
    for (const g of await this.repo.groupIds(appId)) a.groups.set(g.group_id, newGroup(g.created_at));
    const building = new Map<string, Set<string>>();
    for await (const page of this.repo.allMemberships(appId)) {
      for (const m of page) {
        if (!a.groups.has(m.group_id)) continue;
        let s = building.get(m.person_id);
        if (!s) building.set(m.person_id, (s = new Set()));
        s.add(m.group_id);
      }
    }
    // Persons in the same groups share one set (a Set per person was ~25 MB at 200k persons).
    const shared = new Map<string, ReadonlySet<string>>();
    for (const [p, s] of building) {
      const k = JSON.stringify([...s].sort());
      let c = shared.get(k);
      if (!c) shared.set(k, (c = s));
      a.personGroups.set(p, c);
    }
    building.clear();
    const personIds = new Map<string, string>();
    for (const p of a.personGroups.keys()) personIds.set(p, p);
    const personsIn = new Map<string, number>();
    for (const gs of a.personGroups.values()) for (const g of gs) personsIn.set(g, (personsIn.get(g) ?? 0) + 1);
    for (const [g, n] of await this.repo.faceCountsByGroup(appId)) a.groups.get(g)?.faces.reserve(n);
    for (const [g, n] of personsIn) a.groups.get(g)?.persons.reserve(n);
    // Fetched on the first feature: an erased AppId (data key shredded) then loads as empty.
    let key: Buffer | null = null;
    // Large libraries: decryption and encoding run in worker threads, a few pages in flight,
    // while this thread reads the next page and copies finished rows in.
    let decoder: FeatureDecoder | null = null;
    const inflight: Promise<void>[] = [];
    const submit = async (p: Promise<void>) => {
      p.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
      inflight.push(p);
      if (inflight.length >= 4) await inflight.shift();
    };
    try {
      for await (const page of this.repo.allFaces(appId)) {
        this.status.rowsDone += page.length;
        const rows = page.filter((f) => a.personGroups.has(f.person_id));
        if (!rows.length) continue;
        key ??= await this.crypto.dataKey(appId);
        if (rows.length >= DECODE_IN_WORKERS) {
          decoder ??= new FeatureDecoder();
          await submit(decoder.decode('face', appId, key, rows.map((f) => f.face_id), rows.map((f) => f.feature)).then((enc) => {
            for (let i = 0; i < rows.length; i++) {
              // Each row brings its own copy of the PersonId string; the index keeps the one
              // from the memberships instead (~30 MB less heap at 1M faces).
              const owner = personIds.get(rows[i].person_id)!;
              for (const g of a.personGroups.get(owner)!) a.groups.get(g)!.faces.upsertEncoded(rows[i].face_id, owner, enc, i * ENCODED_BYTES);
            }
            enc.fill(0);
            decoder!.release(enc);
          }));
          continue;
        }
        for (const f of rows) {
          const v = this.crypto.openFace(key, appId, f.face_id, f.feature);
          for (const g of a.personGroups.get(f.person_id)!) a.groups.get(g)!.faces.upsert(f.face_id, f.person_id, v);
          v.fill(0);
        }
      }
      for await (const page of this.repo.allCombined(appId)) {
        this.status.rowsDone += page.length;
        const rows = page.filter((p) => p.combined_feature && a.personGroups.has(p.person_id));
        if (!rows.length) continue;
        key ??= await this.crypto.dataKey(appId);
        if (rows.length >= DECODE_IN_WORKERS) {
          decoder ??= new FeatureDecoder();
          await submit(decoder.decode('person', appId, key, rows.map((p) => p.person_id), rows.map((p) => p.combined_feature!)).then((enc) => {
            for (let i = 0; i < rows.length; i++) {
              const pid = personIds.get(rows[i].person_id)!;
              for (const g of a.personGroups.get(pid)!) a.groups.get(g)!.persons.upsertEncoded(pid, pid, enc, i * ENCODED_BYTES);
            }
            enc.fill(0);
            decoder!.release(enc);
          }));
          continue;
        }
        for (const p of rows) {
          const v = this.crypto.openPerson(key, appId, p.person_id, p.combined_feature!);
          for (const g of a.personGroups.get(p.person_id)!) a.groups.get(g)!.persons.upsert(p.person_id, p.person_id, v);
          v.fill(0);
        }
      }
      await Promise.all(inflight);
      personIds.clear();
    } finally {
      await decoder?.close();
    }
    this.apps.set(appId, a);
  }

  private async applyGroup(appId: number, a: AppIndex, groupId: string): Promise<void> {
    const r = this.repo.reader(appId);
    const row = await r.getGroup(groupId);
    let idx = a.groups.get(groupId);
    // A group deleted and re-created under the same id between two syncs shows as a new created_at.
    if (idx && (!row || row.created_at !== idx.createdAt)) {
      for (const pid of [...idx.faces.allOwners(), ...[...idx.persons.entries()].map((e) => e.id)]) {
        const s = a.personGroups.get(pid);
        if (!s?.has(groupId)) continue;
        const rest = new Set(s);
        rest.delete(groupId);
        if (rest.size) a.personGroups.set(pid, rest);
        else a.personGroups.delete(pid);
      }
      idx.faces.clear();
      idx.persons.clear();
      a.groups.delete(groupId);
      idx = undefined;
    }
    if (row && !idx) {
      a.groups.set(groupId, newGroup(row.created_at));
      for (const m of await r.listMembers(groupId, 0, 10_000_000)) await this.applyPerson(appId, a, m.person_id);
    }
  }

  /** Re-reads one person and makes every group index agree with the database. */
  private async applyPerson(appId: number, a: AppIndex, personId: string): Promise<void> {
    const r = this.repo.reader(appId);
    const person = await r.getPerson(personId);
    const members = person ? await r.memberships(personId) : [];
    const faces = person ? await r.faces(personId) : [];
    const key = person ? await this.crypto.dataKey(appId) : null;
    // All reads done; the rest is synchronous, so a concurrent search sees before or after, never half.
    const old = a.personGroups.get(personId) ?? new Set<string>();
    for (const g of old) {
      const idx = a.groups.get(g);
      idx?.faces.removeOwner(personId);
      idx?.persons.remove(personId);
    }
    a.personGroups.delete(personId);
    if (!person || !key) return;
    const now = new Set<string>();
    // A membership of a group this index does not have yet: that group's own change adds it.
    for (const m of members) if (a.groups.has(m.group_id)) now.add(m.group_id);
    if (!now.size) return;
    a.personGroups.set(personId, now);
    for (const f of faces) {
      const v = this.crypto.openFace(key, appId, f.face_id, f.feature);
      for (const g of now) a.groups.get(g)!.faces.upsert(f.face_id, personId, v);
      v.fill(0);
    }
    if (person.combined_feature) {
      const v = this.crypto.openPerson(key, appId, personId, person.combined_feature);
      for (const g of now) a.groups.get(g)!.persons.upsert(personId, personId, v);
      v.fill(0);
    }
  }
}

function newGroup(createdAt: number): GroupIndex {
  return { faces: new VectorIndex(), persons: new VectorIndex(), createdAt };
}

export { DIM };
