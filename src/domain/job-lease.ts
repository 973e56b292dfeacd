// Who this process is when it holds a lease on a background-work row (model upgrade jobs,
// deletion requests), and how long a lease lasts without renewal. Processes of a deployment
// take over the rows of a process whose leases ran out (it died, or lost its database).
import crypto from 'node:crypto';

export interface JobLease {
  /** Unique per process start. */
  owner: string;
  ttlMs: number;
}

export const DEFAULT_JOB_LEASE_MS = 30_000;

export function newJobLease(ttlMs = DEFAULT_JOB_LEASE_MS): JobLease {
  return { owner: crypto.randomUUID(), ttlMs };
}

/** Thrown inside work whose lease another process took over: stop without recording a failure. */
export class LeaseLost extends Error {
  constructor(what: string) {
    super(`${what}: the lease was taken over by another process`);
    this.name = 'LeaseLost';
  }
}
