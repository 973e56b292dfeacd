// Running log: one row per API call (who, when, what, billed or not, PersonId, result).
// Kept until a deletion request; it feeds usage and billing.
import crypto from 'node:crypto';
import type { Db } from '../db/db.ts';

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
}
