// Leases on the rows of background work that outlives a request: group model upgrade jobs and
// deletion requests. The process running one holds its lease (owner, renewed before
// lease_until); when the process dies the lease runs out and any other process of the
// deployment takes the row over (services/library/face-model-upgrade.ts, services/privacy/
// deletion.ts). Before, such rows were resumed only by a process starting, and every starting
// process resumed all of them at once.
import type { Kysely } from 'kysely';

export const m010_job_leases = {
  async up(db: Kysely<any>) {
    for (const table of ['face_upgrade_jobs', 'deletion_requests']) {
      await db.schema.alterTable(table).addColumn('lease_owner', 'text').execute();
      await db.schema.alterTable(table).addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    }
  },
};
