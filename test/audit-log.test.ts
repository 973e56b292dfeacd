// The audit log on both backends: appends chain, concurrent appends stay one chain, and any
// edit, removal or re-hash of a row is found by verify (and by `facevault audit verify`).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/store/db/db.ts';
import { AuditRepo } from '../src/store/accounts/audit-repo.ts';
import { AuditLog, auditHash } from '../src/services/accounts/audit.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { tempDir } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';

const pgSchema = freshPgSchema();
const backends: { name: string; open: () => Promise<Db>; skip: string | null }[] = [
  { name: 'sqlite', open: () => openDb({ databaseUrl: null, dataDir: tempDir() }), skip: null },
  { name: 'postgres', open: () => openDb({ databaseUrl: PG_URL, dataDir: tempDir(), pgSchema }), skip: PG_URL ? null : pgSkipReason },
];

for (const b of backends) {
  describe.skipIf(b.skip !== null)(`audit log on ${b.name}${b.skip ? ` (${b.skip})` : ''}`, () => {
    let db: Db;
    let audit: AuditLog;
    const clock = new ManualClock(1_790_000_000_000);
    beforeAll(async () => {
      db = await b.open();
      audit = new AuditLog(new AuditRepo(db), clock);
    });
    afterAll(async () => {
      if (db?.dialect === 'postgres') await sql.raw(`DROP SCHEMA "${pgSchema}" CASCADE`).execute(db.kysely);
      await db?.close();
    });

    it('chains records and verifies; concurrent appends form one gapless chain', async () => {
      expect(await audit.verify()).toEqual({ ok: true, records: 0, headHash: '0'.repeat(64) });
      const first = await audit.append({ actor: 'operator', action: 'key.create', appId: 1200000001, target: 'AKIDx', details: { subUin: '1' } });
      expect(first.seq).toBe(1);
      expect(first.prevHash).toBe('0'.repeat(64));
      await Promise.all(Array.from({ length: 12 }, (_, i) => audit.append({ actor: 'operator', action: 'key.disable', appId: 1200000001, target: `AKID${i}` })));
      const v = await audit.verify();
      expect(v).toMatchObject({ ok: true, records: 13 });
      const all = (await audit.list({ limit: 100 })).reverse();
      expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
      for (let i = 1; i < all.length; i++) expect(all[i].prevHash).toBe(all[i - 1].hash);
    });

    it('an edited row fails verify, naming the record', async () => {
      await sql`update audit_log set target = ${'AKIDforged'} where seq = 5`.execute(db.kysely);
      expect(await audit.verify()).toMatchObject({ ok: false, seq: 5, reason: expect.stringContaining('record 5 was modified') });
      // Re-hashing the edited row to cover it up breaks the link from record 6 instead.
      const r = await db.kysely.selectFrom('audit_log').selectAll().where('seq', '=', 5).executeTakeFirstOrThrow();
      const rehashed = auditHash({ seq: 5, time: Number(r.time), actor: r.actor, action: r.action, app_id: Number(r.app_id), target: r.target, details: r.details, prev_hash: r.prev_hash });
      await sql`update audit_log set hash = ${rehashed} where seq = 5`.execute(db.kysely);
      expect(await audit.verify()).toMatchObject({ ok: false, seq: 6, reason: expect.stringContaining('record 6 does not follow record 5') });
    });

    it('a removed row fails verify, naming the missing record', async () => {
      await sql`delete from audit_log where seq = 3`.execute(db.kysely);
      expect(await audit.verify()).toMatchObject({ ok: false, seq: 3, reason: expect.stringContaining('record 3 is missing') });
    });
  });
}

describe('facevault audit verify', () => {
  const run = promisify(execFile);
  const cli = async (args: string[], env: Record<string, string>) => {
    try {
      const r = await run(process.execPath, [path.resolve('bin/facevault.mjs'), ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e: any) {
      return { code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string };
    }
  };

  it('key creation and disabling are audited; tampering with SQL makes verify exit 1 naming the record', async () => {
    const env = { FACEVAULT_DATA_DIR: tempDir() };
    const acc = JSON.parse((await cli(['accounts', 'create'], env)).stdout);
    const key = JSON.parse((await cli(['keys', 'create', '--app-id', String(acc.AppId)], env)).stdout);
    await cli(['keys', 'disable', '--app-id', String(acc.AppId), '--secret-id', key.SecretId], env);
    const list = JSON.parse((await cli(['audit', 'list', '--app-id', String(acc.AppId)], env)).stdout);
    expect(list.map((r: any) => [r.action, r.target])).toEqual([['key.disable', key.SecretId], ['key.create', key.SecretId], ['account.create', acc.SecretId]]);
    const ok = await cli(['audit', 'verify'], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, records: 3 });

    const db = await openDb({ databaseUrl: null, dataDir: env.FACEVAULT_DATA_DIR });
    await sql`update audit_log set action = 'key.enable' where seq = 3`.execute(db.kysely);
    await db.close();
    const bad = await cli(['audit', 'verify'], env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, seq: 3 });
    expect(bad.stderr).toContain('record 3 was modified');
  });
});
