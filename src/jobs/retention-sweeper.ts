// The retention sweeper: deletes everything whose `expires_at` has passed, in every table that
// has the column (found by introspection, so tables added later are covered without a change
// here) and in the object store, and trims the error log to its size cap.
//
// Crash safety: objects are deleted before their `blobs` row, and rows in small batches that
// commit on their own; a sweep interrupted at any point leaves only expired data that the next
// sweep (which repeats every step) removes. Nothing is deleted that has not expired.
import { sql } from 'kysely';
import type { Db } from '../store/db/db.ts';
import type { BlobStore } from '../store/blobs/blob-store.ts';
import type { ErrorLog } from '../store/logs/error-log.ts';
import type { Clock } from '../domain/clock.ts';

export interface SweepReport {
  startedAt: number;
  finishedAt: number;
  /** Objects (and their `blobs` rows) deleted. */
  blobs: number;
  /** Rows deleted per table. */
  rows: Record<string, number>;
  errorLogSegments: number;
  /** Counts from registered tasks (e.g. the inactive-person purge). */
  tasks: Record<string, number>;
  /** Expired rows left alone because deleting them alone would break their owner (see LIBRARY_TABLES). */
  skipped: Record<string, number>;
  errors: string[];
}

/** Deletes one expired library record through the library service, so the search index follows. */
export interface LibraryExpiry {
  deletePerson(appId: number, personId: string): Promise<void>;
  deleteGroup(appId: number, groupId: string): Promise<void>;
}

export interface SweeperDeps {
  db: Db;
  blobs: BlobStore;
  clock: Clock;
  errorLog?: ErrorLog;
  library?: LibraryExpiry;
  batchSize?: number;
}

export type SweepTask = (now: number) => Promise<number>;

// Library rows feed the in-memory search index and each other (a person's faces, memberships):
// a plain DELETE would leave index entries behind, so persons and groups go through the library
// service and faces/memberships expire with their person (the library never sets their expiry).
const LIBRARY_TABLES = new Set(['persons', 'face_groups', 'faces', 'group_persons']);
const NOT_CUSTOMER_DATA = new Set(['blobs', 'kysely_migration', 'kysely_migration_lock']);

export class RetentionSweeper {
  private readonly tasks = new Map<string, SweepTask>();
  private readonly batch: number;
  private tables: string[] | null = null;

  constructor(private readonly deps: SweeperDeps) {
    this.batch = deps.batchSize ?? 500;
  }

  /** Adds a step to every sweep (idempotent like the rest; returns how many items it removed). */
  addTask(name: string, fn: SweepTask): void {
    this.tasks.set(name, fn);
  }

  /** Tables with an `expires_at` column, found once per process. */
  async expiringTables(): Promise<string[]> {
    if (this.tables) return this.tables;
    const { db } = this.deps;
    const schema = db.dialect === 'postgres' ? (db.pgSchema ?? 'public') : undefined;
    const all = await db.kysely.introspection.getTables();
    this.tables = all
      .filter((t) => (schema === undefined || t.schema === schema) && !t.isView && t.columns.some((c) => c.name === 'expires_at'))
      .map((t) => t.name)
      .sort();
    return this.tables;
  }

  async sweep(): Promise<SweepReport> {
    const now = this.deps.clock.now();
    const report: SweepReport = { startedAt: now, finishedAt: now, blobs: 0, rows: {}, errorLogSegments: 0, tasks: {}, skipped: {}, errors: [] };
    const step = async (what: string, fn: () => Promise<void>) => {
      try { await fn(); } catch (e) { report.errors.push(`${what}: ${(e as Error).message}`); }
    };
    // Objects first: a row whose object is gone is harmless; an object without a row is an orphan.
    await step('blobs', async () => { report.blobs = await this.sweepBlobs(now); });
    for (const table of await this.expiringTables()) {
      if (NOT_CUSTOMER_DATA.has(table)) continue;
      if (LIBRARY_TABLES.has(table)) continue;
      await step(table, async () => {
        const n = await this.sweepTable(table, now);
        if (n) report.rows[table] = n;
      });
    }
    await step('library', async () => this.sweepLibrary(now, report));
    if (this.deps.errorLog) await step('error_log', async () => { report.errorLogSegments = this.deps.errorLog!.enforceCap(); });
    for (const [name, fn] of this.tasks) await step(name, async () => { report.tasks[name] = await fn(now); });
    report.finishedAt = this.deps.clock.now();
    return report;
  }

  private async sweepBlobs(now: number): Promise<number> {
    const k = this.deps.db.kysely;
    let total = 0;
    const failed = new Set<string>();
    for (;;) {
      let q = k.selectFrom('blobs').select('key').where('expires_at', 'is not', null).where('expires_at', '<=', now);
      if (failed.size) q = q.where('key', 'not in', [...failed]);
      const rows = await q.orderBy('expires_at').limit(this.batch).execute();
      if (!rows.length) break;
      const gone: string[] = [];
      for (const { key } of rows) {
        try {
          await this.deps.blobs.delete(key);
          gone.push(key);
        } catch {
          failed.add(key); // kept (row and all) for the next sweep; reported below
        }
      }
      if (gone.length) {
        // Re-checks expiry: a row whose expiry was extended meanwhile keeps its row (its object
        // is gone, which a reader treats as expired; never the other way round).
        await k.deleteFrom('blobs').where('key', 'in', gone).where('expires_at', '<=', now).execute();
        total += gone.length;
      }
      if (rows.length < this.batch) break;
    }
    if (failed.size) throw new Error(`${failed.size} expired object(s) could not be deleted (first: ${[...failed][0]}); ${total} deleted`);
    return total;
  }

  /** Batched DELETE by physical row id (SQLite rowid, PostgreSQL ctid): works for any key shape. */
  private async sweepTable(table: string, now: number): Promise<number> {
    const { db } = this.deps;
    const t = sql.table(table);
    let total = 0;
    for (;;) {
      const r = db.dialect === 'postgres'
        ? await sql`delete from ${t} where ctid = any(array(select ctid from ${t} where expires_at <= ${now} limit ${this.batch}))`.execute(db.kysely)
        : await sql`delete from ${t} where rowid in (select rowid from ${t} where expires_at <= ${now} limit ${this.batch})`.execute(db.kysely);
      const n = Number(r.numAffectedRows ?? 0);
      total += n;
      if (n < this.batch) return total;
    }
  }

  private async sweepLibrary(now: number, report: SweepReport): Promise<void> {
    const k = this.deps.db.kysely;
    const lib = this.deps.library;
    const persons = await k.selectFrom('persons').select(['app_id', 'person_id']).where('expires_at', '<=', now).limit(this.batch * 10).execute();
    const groups = await k.selectFrom('face_groups').select(['app_id', 'group_id']).where('expires_at', '<=', now).limit(this.batch * 10).execute();
    if (lib) {
      for (const p of persons) await lib.deletePerson(Number(p.app_id), p.person_id);
      for (const g of groups) await lib.deleteGroup(Number(g.app_id), g.group_id);
      if (persons.length) report.rows.persons = persons.length;
      if (groups.length) report.rows.face_groups = groups.length;
    } else {
      if (persons.length) report.skipped.persons = persons.length;
      if (groups.length) report.skipped.face_groups = groups.length;
    }
    for (const table of ['faces', 'group_persons'] as const) {
      const c = await k.selectFrom(table).select((e) => e.fn.countAll<number>().as('n')).where('expires_at', '<=', now).executeTakeFirstOrThrow();
      if (Number(c.n)) report.skipped[table] = Number(c.n);
    }
  }
}
