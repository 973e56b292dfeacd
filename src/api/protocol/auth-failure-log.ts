// Requests that never authenticated are logged small and rate-limited: no body, no running-log
// row (that log is per account and feeds billing), and a bounded number of error-log records
// per time window, so a flood of forged requests cannot fill the capped error log and evict
// the records that matter. What was dropped is counted in the next record written.
import crypto from 'node:crypto';

export interface AuthFailureLimits {
  /** Records a single client address may write at once, and how many more it earns per minute. */
  perClientBurst: number;
  perClientPerMinute: number;
  /** The same over all clients together. */
  globalBurst: number;
  globalPerMinute: number;
  /** Client addresses remembered (least recently seen forgotten first). */
  maxClients: number;
}

/**
 * A record is at most ~700 bytes, so the defaults let forged traffic write at most ~70 KB at
 * once and then ~40 KB a minute (~60 MB a day) whatever its rate; one client, 10 records and
 * then one every 10 s.
 */
export const AUTH_FAILURE_LIMITS: AuthFailureLimits = { perClientBurst: 10, perClientPerMinute: 6, globalBurst: 100, globalPerMinute: 60, maxClients: 4096 };

export interface AuthFailure {
  requestId: string;
  code: string;
  message: string;
  clientIp: string;
  /** 'authentication' (refused before or at the signature) or 'transport' (a body that could not be read). */
  stage: 'authentication' | 'transport';
  service?: string;
  action?: string;
  /** As sent; kept only when it names a key of this deployment. */
  secretId?: string;
  /** Set when the SecretId is known: erasure of that AppId then finds the record. */
  appId?: number | null;
}

class Bucket {
  constructor(public tokens: number, private at: number) {}
  refill(now: number, burst: number, perMinute: number): this {
    this.tokens = Math.min(burst, this.tokens + (Math.max(0, now - this.at) / 60_000) * perMinute);
    this.at = now;
    return this;
  }
}

export class AuthFailureLog {
  private readonly clients = new Map<string, Bucket>();
  private readonly global: Bucket;
  private dropped = 0;

  constructor(
    private readonly sink: { append(record: Record<string, unknown>): void },
    private readonly now: () => number,
    private readonly limits: AuthFailureLimits = AUTH_FAILURE_LIMITS,
  ) {
    this.global = new Bucket(limits.globalBurst, now());
  }

  /** Returns whether a record was written. */
  record(f: AuthFailure): boolean {
    const now = this.now();
    const ip = f.clientIp.slice(0, 64);
    let b = this.clients.get(ip);
    if (b) this.clients.delete(ip); // re-inserted below: Map order is least recently seen first
    else {
      b = new Bucket(this.limits.perClientBurst, now);
      while (this.clients.size >= this.limits.maxClients) this.clients.delete(this.clients.keys().next().value!);
    }
    this.clients.set(ip, b);
    // Both must have room: one noisy client cannot spend the global budget, and a record
    // dropped for the global cap does not count against its client.
    b.refill(now, this.limits.perClientBurst, this.limits.perClientPerMinute);
    this.global.refill(now, this.limits.globalBurst, this.limits.globalPerMinute);
    if (b.tokens < 1 || this.global.tokens < 1) {
      this.dropped++;
      return false;
    }
    b.tokens -= 1;
    this.global.tokens -= 1;
    const rec: Record<string, unknown> = {
      time: now, requestId: f.requestId, stage: f.stage, code: f.code.slice(0, 64), message: f.message.slice(0, 200), clientIp: ip,
      service: f.service || null, action: token(f.action), appId: f.appId ?? null,
    };
    if (f.secretId !== undefined) rec.secretId = f.appId != null ? token(f.secretId) : { bytes: Buffer.byteLength(f.secretId), sha256: crypto.createHash('sha256').update(f.secretId).digest('hex').slice(0, 12) };
    if (this.dropped > 0) rec.droppedBefore = this.dropped;
    this.dropped = 0;
    this.sink.append(rec);
    return true;
  }
}

/** Header values are the sender's choice: kept when they look like a name, else only their size. */
function token(v: string | undefined): string | { bytes: number } | null {
  if (!v) return null;
  return /^[A-Za-z0-9_.-]{1,64}$/.test(v) ? v : { bytes: Buffer.byteLength(v) };
}
