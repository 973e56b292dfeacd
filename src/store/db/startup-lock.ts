// Start-up steps that are not safe to run concurrently on one PostgreSQL database run one
// process at a time, under a session advisory lock held on a connection of its own (so that
// what the steps do on their own pools is not part of the lock's session). When the nodes of a
// deployment started together on an empty database, the losers exited: the key store's
// CREATE TABLE IF NOT EXISTS raced (duplicate pg_type entry) and pg-boss's createQueue deadlocked.
import type pg from 'pg';

import crypto from 'node:crypto';

export interface StartupLock { release(): Promise<void> }

/** Waits for the lock (SQLite: a no-op, one process). A process that dies releases it with its connection. */
export async function startupLock(databaseUrl: string | null, schema = ''): Promise<StartupLock> {
  if (!databaseUrl) return { release: async () => {} };
  // One lock per deployment (schema) of the database, so deployments sharing a server do not wait on each other.
  const LOCK_KEY = crypto.createHash('sha256').update(`facevault-startup|${schema}`).digest().readInt32BE(0);
  const { default: pgm } = (await import('pg')) as { default: typeof pg };
  const c = new pgm.Client({ connectionString: databaseUrl });
  c.on('error', () => {}); // a dropped connection releases the lock; the steps report their own errors
  await c.connect();
  try {
    await c.query('select pg_advisory_lock($1)', [LOCK_KEY]);
  } catch (e) {
    await c.end().catch(() => {});
    throw e;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await c.query('select pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
      await c.end().catch(() => {});
    },
  };
}
