// Running log: one row per API call (who, when, what, billed or not, PersonId, result).
// Kept until a deletion request; it feeds usage and billing. The erasure queries a deletion
// request runs over it are here, with the table.
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/db.ts';
import { chunks, deleted, type Executor } from '../db/executor.ts';

export interface RunningLogEntry {
  requestId: string;
  time: number;
  appId: number | null;
  uin: string | null;
  subUin: string | null;
  clientIp: string;
  service: string;
  action: string;
  region: string;
  billed: boolean;
  code: string;
  latencyMs: number;
  personId?: string | null;
  endUserId?: string | null;
  result?: unknown;
}

/** Whose calls a deletion request erases: persons, and optionally the end user who made them. */
export interface CallSubject { personIds: string[]; endUserId?: string }

/** LIKE pattern matching `needle` as a whole JSON string value ("needle"), with %/_ escaped. */
function jsonValuePattern(needle: string): string {
  return '%' + JSON.stringify(needle).replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

export class RunningLogRepo {
  constructor(private readonly db: Db) {}

  async append(e: RunningLogEntry): Promise<void> {
    await this.db.kysely.insertInto('running_log').values({
      id: crypto.randomUUID(), request_id: e.requestId, time: e.time, app_id: e.appId, uin: e.uin, sub_uin: e.subUin,
      client_ip: e.clientIp, service: e.service, action: e.action, region: e.region, billed: e.billed ? 1 : 0, code: e.code,
      latency_ms: Math.round(e.latencyMs), person_id: e.personId ?? null, end_user_id: e.endUserId ?? null,
      result: e.result === undefined ? null : JSON.stringify(e.result), expires_at: null,
    }).execute();
  }

  async forApp(appId: number, limit = 1000) {
    return this.db.kysely.selectFrom('running_log').selectAll().where('app_id', '=', appId).orderBy('time', 'desc').limit(limit).execute();
  }

  async byRequestId(requestId: string) {
    return this.db.kysely.selectFrom('running_log').selectAll().where('request_id', '=', requestId).executeTakeFirst();
  }

  // ---- erasure (deletion requests)
  /** Request ids of the calls that name the persons or were made by the end user. */
  async requestIdsOf(appId: number, o: CallSubject): Promise<string[]> {
    const k = this.db.kysely;
    const out = new Set<string>();
    if (o.endUserId !== undefined) {
      for (const r of await k.selectFrom('running_log').select('request_id').where('app_id', '=', appId).where('end_user_id', '=', o.endUserId).execute()) out.add(r.request_id);
    }
    for (const ids of chunks(o.personIds)) {
      for (const r of await k.selectFrom('running_log').select('request_id').where('app_id', '=', appId).where('person_id', 'in', ids).execute()) out.add(r.request_id);
    }
    return [...out];
  }

  /** Deletes the records naming the persons or end user; returns how many, and how many were billed. */
  async eraseFor(appId: number, o: CallSubject): Promise<{ deleted: number; billed: number }> {
    const k = this.db.kysely;
    let n = 0, billed = 0;
    const run = async (where: (q: any) => any) => {
      const b = await where(k.selectFrom('running_log').select((e) => e.fn.countAll<number>().as('n')).where('app_id', '=', appId).where('billed', '=', 1)).executeTakeFirstOrThrow();
      const r = await where(k.deleteFrom('running_log').where('app_id', '=', appId)).executeTakeFirst();
      billed += Number(b.n);
      n += deleted(r);
    };
    if (o.endUserId !== undefined) await run((q) => q.where('end_user_id', '=', o.endUserId));
    for (const ids of chunks(o.personIds)) await run((q) => q.where('person_id', 'in', ids));
    return { deleted: n, billed };
  }

  /**
   * Other calls' recognition results that name an erased id (a search whose candidates included
   * the person): the id is replaced by "[erased]"; the call's record stays (usage, billing).
   */
  async scrubResults(appId: number, needles: string[]): Promise<number> {
    const k = this.db.kysely;
    let n = 0;
    for (const needle of needles) {
      const rows = await k.selectFrom('running_log').select(['id', 'result']).where('app_id', '=', appId)
        .where(sql<boolean>`result like ${jsonValuePattern(needle)} escape '\\'`).execute();
      for (const r of rows) {
        const scrubbed = r.result!.split(JSON.stringify(needle)).join('"[erased]"');
        await k.updateTable('running_log').set({ result: scrubbed }).where('id', '=', r.id).execute();
        n++;
      }
    }
    return n;
  }

  /** Every record of the app (an AppId erasure), on `ex`. */
  async eraseApp(ex: Executor, appId: number): Promise<number> {
    return deleted(await ex.deleteFrom('running_log').where('app_id', '=', appId).executeTakeFirst());
  }
}
