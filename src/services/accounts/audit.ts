// Audit log of administrative and privacy actions (key creation and disabling, policy changes,
// deletion requests). Append-only and hash-chained: each record's hash covers its content and
// the previous record's hash, so `facevault audit verify` finds any edited, inserted or removed
// record (except removal of the newest records, which leaves a valid shorter chain; the
// verify output prints the head hash so an operator can anchor it elsewhere).
//
// Records must not carry personal data: name ids (AppId, SecretId, PersonId, request ids) and
// counts, never names, images or features. A deletion request's record outlives the data.
import crypto from 'node:crypto';
import type { AuditRepo, AuditRow } from '../../store/accounts/audit-repo.ts';
import type { Clock } from '../../domain/clock.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEvent {
  /** Who did it: "cli", "system", or "app:<AppId>/uin:<SubUin>" for API callers (see auditActor). */
  actor: string;
  /** Dotted verb, e.g. "key.create", "key.disable", "retention.policy", "deletion.request". */
  action: string;
  appId?: number | null;
  /** What it acted on: a SecretId, a PersonId, a request id... */
  target?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  seq: number;
  time: number;
  actor: string;
  action: string;
  appId: number | null;
  target: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type AuditVerifyResult =
  | { ok: true; records: number; headHash: string }
  | { ok: false; records: number; seq: number; reason: string };

export const auditActor = (caller: { appId: number; subUin: string }) => `app:${caller.appId}/uin:${caller.subUin}`;

/** The hash covers every stored field but the hash itself, in a fixed order. */
export function auditHash(r: Omit<AuditRow, 'hash' | 'data_class' | 'expires_at'>): string {
  const canonical = JSON.stringify([r.seq, r.time, r.actor, r.action, r.app_id, r.target, r.details, r.prev_hash]);
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

const map = (r: AuditRow): AuditRecord => ({
  seq: Number(r.seq), time: Number(r.time), actor: r.actor, action: r.action, appId: r.app_id === null ? null : Number(r.app_id),
  target: r.target, details: JSON.parse(r.details) as Record<string, unknown>, prevHash: r.prev_hash, hash: r.hash,
});

export class AuditLog {
  constructor(private readonly repo: AuditRepo, private readonly clock: Clock) {}

  async append(e: AuditEvent): Promise<AuditRecord> {
    if (!e.actor || !e.action) throw new Error('audit: actor and action are required');
    const details = JSON.stringify(e.details ?? {});
    // Two writers racing for the same seq (SQLite busy, unique violation) retry on the new head.
    for (let attempt = 0; ; attempt++) {
      try {
        const row = await this.repo.appendAfterLast((last) => {
          const base = {
            seq: last ? Number(last.seq) + 1 : 1, time: this.clock.now(), actor: e.actor, action: e.action,
            app_id: e.appId ?? null, target: e.target ?? null, details, prev_hash: last?.hash ?? GENESIS_HASH,
          };
          return { ...base, hash: auditHash(base), data_class: 'audit', expires_at: null };
        });
        return map(row);
      } catch (err) {
        if (attempt >= 4) throw err;
        await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
      }
    }
  }

  async list(o: { appId?: number; action?: string; limit?: number } = {}): Promise<AuditRecord[]> {
    return (await this.repo.list({ ...o, limit: o.limit ?? 100 })).map(map);
  }

  async last(action?: string): Promise<AuditRecord | undefined> {
    const r = await this.repo.last(action);
    return r ? map(r) : undefined;
  }

  /** Walks the whole chain; stops at the first record that does not fit. */
  async verify(): Promise<AuditVerifyResult> {
    let prev = GENESIS_HASH;
    let expectSeq = 1;
    let n = 0;
    for (;;) {
      const rows = await this.repo.page(expectSeq - 1, 1000);
      if (!rows.length) break;
      for (const r of rows) {
        const seq = Number(r.seq);
        if (seq !== expectSeq) return { ok: false, records: n, seq: expectSeq, reason: `record ${expectSeq} is missing (next record found is ${seq})` };
        if (r.prev_hash !== prev) return { ok: false, records: n, seq, reason: `record ${seq} does not follow record ${seq - 1}: its prev_hash differs from that record's hash` };
        const h = auditHash({ seq, time: Number(r.time), actor: r.actor, action: r.action, app_id: r.app_id === null ? null : Number(r.app_id), target: r.target, details: r.details, prev_hash: r.prev_hash });
        if (h !== r.hash) return { ok: false, records: n, seq, reason: `record ${seq} was modified: its content does not match its hash` };
        prev = r.hash;
        expectSeq++;
        n++;
      }
    }
    return { ok: true, records: n, headHash: prev };
  }
}
