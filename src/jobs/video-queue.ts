// Who runs video jobs. Embedded (SQLite, or PostgreSQL without workers): this process polls the
// video_jobs rows and runs one job at a time. Scaled (PostgreSQL + `facevault worker`): pg-boss
// carries the job ids, every worker process takes them with SKIP LOCKED, and a job whose
// process died is handed out again when pg-boss expires it (retryLimit); the row's lease
// (services/video/video-jobs.ts) still decides who may write the result, so it is written once.
import crypto from 'node:crypto';
import os from 'node:os';
import type { JobQueue, VideoJobs } from '../services/video/video-jobs.ts';

export interface VideoQueueRunner extends JobQueue {
  readonly mode: 'embedded' | 'pg-boss';
  /** Starts taking jobs in this process (server in embedded mode, or `facevault worker`). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const owner = () => `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;

/** Jobs from the database rows, in this process; a job whose lease ran out (its process died) is taken over. */
export class EmbeddedVideoQueue implements VideoQueueRunner {
  readonly mode = 'embedded' as const;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private stopped = true;
  private readonly me = owner();

  constructor(private readonly jobs: VideoJobs, private readonly o: { pollMs?: number; report(e: Error): void }) {}

  async enqueue(): Promise<void> {
    this.kick();
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.o.pollMs ?? 2000);
    this.timer.unref();
    this.kick();
  }

  private kick(): void {
    if (this.stopped || this.busy) return;
    this.busy = (async () => {
      try {
        while (!this.stopped && (await this.jobs.runNext(this.me)));
      } catch (e) { this.o.report(e as Error); }
    })().finally(() => { this.busy = null; });
  }

  /** For tests: resolves when no job is running. */
  async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    // A job in flight keeps its lease until it runs out; another process (or the next start) takes it over.
  }
}

export interface PgBossOptions {
  connectionString: string;
  /** pg-boss's own schema (apart from ours). */
  schema: string;
  /** Seconds after which an active job whose worker stopped answering is handed out again. */
  expireInSeconds: number;
  retryLimit: number;
  /** Whether this process takes jobs (workers do; an API server that only submits does not). */
  work: boolean;
  report(e: Error): void;
}

const QUEUE = 'facevault-video';

/** pg-boss on our PostgreSQL. */
export class PgBossVideoQueue implements VideoQueueRunner {
  readonly mode = 'pg-boss' as const;
  private boss: import('pg-boss') | null = null;
  private readonly me = owner();

  constructor(private readonly jobs: VideoJobs, private readonly o: PgBossOptions) {}

  async start(): Promise<void> {
    const { default: PgBoss } = await import('pg-boss');
    const boss = new PgBoss({
      connectionString: this.o.connectionString, schema: this.o.schema, max: 4,
      // Expired jobs are found by the maintenance loop: keep it frequent so a dead worker's job moves on soon.
      maintenanceIntervalSeconds: Math.max(1, Math.min(30, Math.floor(this.o.expireInSeconds / 2))),
      monitorStateIntervalSeconds: 30,
    });
    boss.on('error', (e: Error) => this.o.report(e));
    await boss.start();
    await boss.createQueue(QUEUE, { name: QUEUE, retryLimit: this.o.retryLimit, retryDelay: 1, expireInSeconds: this.o.expireInSeconds });
    this.boss = boss;
    if (this.o.work) {
      await boss.work<{ jobId: string }>(QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
        const ran = await this.jobs.runNext(this.me, job.data.jobId);
        // Not claimable: done, cancelled or deleted (complete), or held by a live lease. A held job
        // gets a follow-up message after one lease instead of a pg-boss retry: a job runs longer
        // than pg-boss's expiry (it is handed out again while its worker is alive), and retries
        // spent on a live worker left none for the takeover once that worker died (measured: bench
        // video-worker-kill at load 20, the job stayed running after its worker was killed).
        if (!ran && (await this.jobs.heldElsewhere(job.data.jobId))) {
          await boss.send(QUEUE, { jobId: job.data.jobId }, { startAfter: Math.max(1, Math.ceil(this.o.expireInSeconds / 2)) });
        }
      });
    }
  }

  async enqueue(jobId: string): Promise<void> {
    if (!this.boss) throw new Error('the video queue is not started');
    await this.boss.send(QUEUE, { jobId }, { singletonKey: jobId });
  }

  async stop(): Promise<void> {
    await this.boss?.stop({ graceful: true, timeout: 5000, wait: true });
    this.boss = null;
  }
}
