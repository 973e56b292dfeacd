// The retention sweeper: deletes everything whose `expires_at` has passed, in every table that
// has the column (found by introspection, so tables added later are covered without a change
// here) and in the object store, and trims the error log to its size cap.
//
// Crash safety: objects are deleted before their `blobs` row, and rows in small batches that
// commit on their own; a sweep interrupted at any point leaves only expired data that the next
// sweep (which repeats every step) removes. Nothing is deleted that has not expired.
// The queries are in the store (store/db/expiry.ts, store/blobs/blob-records.ts); this job
// orders them and reports.
import type { ExpiryRepo } from '../store/db/expiry.ts';
import type { BlobRecords } from '../store/blobs/blob-records.ts';
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
  /** Expiring tables (by introspection) and their batched deletes. */
  expiry: ExpiryRepo;
  /** The object registry (`blobs`): expired objects are deleted before their rows. */
  blobRecords: BlobRecords;
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

  constructor(private readonly deps: SweeperDeps) {
    this.batch = deps.batchSize ?? 500;
  }

  /** Adds a step to every sweep (idempotent like the rest; returns how many items it removed). */
  addTask(name: string, fn: SweepTask): void {
    this.tasks.set(name, fn);
  }

  async sweep(): Promise<SweepReport> {
    const now = this.deps.clock.now();
    const report: SweepReport = { startedAt: now, finishedAt: now, blobs: 0, rows: {}, errorLogSegments: 0, tasks: {}, skipped: {}, errors: [] };
    const step = async (what: string, fn: () => Promise<void>) => {
      try { await fn(); } catch (e) { report.errors.push(`${what}: ${(e as Error).message}`); }
    };
    // Objects first: a row whose object is gone is harmless; an object without a row is an orphan.
    await step('blobs', async () => { report.blobs = await this.sweepBlobs(now); });
    for (const table of await this.deps.expiry.expiringTables()) {
      if (NOT_CUSTOMER_DATA.has(table)) continue;
      if (LIBRARY_TABLES.has(table)) continue;
      await step(table, async () => {
        const n = await this.deps.expiry.deleteExpired(table, now, this.batch);
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
    const { blobRecords } = this.deps;
    let total = 0;
    const failed = new Set<string>();
    for (;;) {
      const keys = await blobRecords.expired(now, this.batch, failed);
      if (!keys.length) break;
      const gone: string[] = [];
      for (const key of keys) {
        try {
          await this.deps.blobs.delete(key);
          gone.push(key);
        } catch {
          failed.add(key); // kept (row and all) for the next sweep; reported below
        }
      }
      if (gone.length) {
        await blobRecords.forgetExpired(gone, now);
        total += gone.length;
      }
      if (keys.length < this.batch) break;
    }
    if (failed.size) throw new Error(`${failed.size} expired object(s) could not be deleted (first: ${[...failed][0]}); ${total} deleted`);
    return total;
  }

  private async sweepLibrary(now: number, report: SweepReport): Promise<void> {
    const { expiry, library: lib } = this.deps;
    const persons = await expiry.expiredPersons(now, this.batch * 10);
    const groups = await expiry.expiredGroups(now, this.batch * 10);
    if (lib) {
      for (const p of persons) await lib.deletePerson(p.appId, p.personId);
      for (const g of groups) await lib.deleteGroup(g.appId, g.groupId);
      if (persons.length) report.rows.persons = persons.length;
      if (groups.length) report.rows.face_groups = groups.length;
    } else {
      if (persons.length) report.skipped.persons = persons.length;
      if (groups.length) report.skipped.face_groups = groups.length;
    }
    for (const table of ['faces', 'group_persons'] as const) {
      const n = await expiry.countExpired(table, now);
      if (n) report.skipped[table] = n;
    }
  }
}
