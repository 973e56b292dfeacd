// The console's HTTP API without a browser: sessions (hashed, expiring, revocable, ended by a
// disabled key), CSRF, security headers, the same policy and running log as the API, and the
// key administration actions (secret shown once, no escalation, last root key kept).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';
import { OffsetClock } from './helpers/console-browser.ts';

describe('console API', () => {
  let t: TestServer;
  const clock = new OffsetClock();
  const assets = tempDir('facevault-console-assets-');

  beforeAll(async () => {
    // A stand-in build (the real one is exercised by console-e2e.test.ts).
    fs.writeFileSync(path.join(assets, 'index.html'), '<!doctype html><script type="module" src="/console/assets/a.js"></script>');
    fs.mkdirSync(path.join(assets, 'assets'));
    fs.writeFileSync(path.join(assets, 'assets', 'a.js'), 'console.log(1)');
    t = await startTestServer({ FACEVAULT_CONSOLE_IDLE_TIMEOUT: '600' }, { clock, consoleDir: assets });
  });
  afterAll(async () => {
    await t?.stop();
    fs.rmSync(assets, { recursive: true, force: true });
  });

  async function signIn(creds: { SecretId: string; SecretKey: string }) {
    const r = await fetch(`${t.url}/console/api/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ SecretId: creds.SecretId, SecretKey: creds.SecretKey }) });
    const b: any = await r.json();
    return { status: r.status, setCookie: r.headers.get('set-cookie') ?? '', cookie: (r.headers.get('set-cookie') ?? '').split(';')[0], csrf: b.CsrfToken as string, body: b };
  }
  const call = async (s: { cookie: string; csrf: string }, action: string, params: object = {}, version = '2020-03-03', extra: Record<string, string> = {}) => {
    const r = await fetch(`${t.url}/console/api/call`, { method: 'POST', headers: { cookie: s.cookie, 'content-type': 'application/json', 'x-tc-action': action, 'x-tc-version': version, 'x-fv-csrf': s.csrf, ...extra }, body: JSON.stringify(params) });
    return { status: r.status, body: ((await r.json()) as any).Response };
  };

  it('sends the security headers on pages, assets and API answers', async () => {
    for (const u of ['/console/', '/console/assets/a.js', '/console/api/session', '/console/some/route']) {
      const r = await fetch(t.url + u);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp, u).toContain("script-src 'self'");
      expect(csp, u).toContain("frame-ancestors 'none'");
      expect(csp, u).not.toMatch(/unsafe-(inline|eval)/);
      expect(r.headers.get('x-content-type-options'), u).toBe('nosniff');
      expect(r.headers.get('referrer-policy'), u).toBe('no-referrer');
    }
    expect((await fetch(`${t.url}/console/api/session`)).status).toBe(401);
  });

  it('refuses a wrong key and an unknown SecretId alike, and keeps no session for them', async () => {
    const wrong = await signIn({ SecretId: t.creds.SecretId, SecretKey: 'x'.repeat(32) });
    const unknown = await signIn({ SecretId: 'AKID' + 'y'.repeat(32), SecretKey: t.creds.SecretKey });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body.Response.Error.Message).toBe(unknown.body.Response.Error.Message);
    expect(wrong.setCookie).toBe('');
  });

  it('signs in to an HttpOnly SameSite=Strict cookie whose token is stored only as a hash', async () => {
    const s = await signIn(t.creds);
    expect(s.status).toBe(200);
    expect(s.setCookie).toMatch(/HttpOnly/);
    expect(s.setCookie).toMatch(/SameSite=Strict/);
    expect(s.setCookie).toMatch(/Path=\/console/);
    const token = s.cookie.split('=')[1];
    const rows = await t.run.app.db.kysely.selectFrom('console_sessions').selectAll().execute();
    expect(rows.some((r) => r.token_hash === crypto.createHash('sha256').update(token).digest('hex'))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(JSON.stringify(s.body)).not.toContain(t.creds.SecretKey);
  });

  it('needs the CSRF token and the same origin for every call', async () => {
    const s = await signIn(t.creds);
    expect((await call({ ...s, csrf: '' }, 'GetGroupList')).status).toBe(403);
    expect((await call({ ...s, csrf: s.csrf.slice(1) + 'A' }, 'GetGroupList')).status).toBe(403);
    expect((await call(s, 'GetGroupList', {}, '2020-03-03', { origin: 'https://evil.example' })).status).toBe(403);
    const ok = await call(s, 'GetGroupList');
    expect(ok.status).toBe(200);
    expect(ok.body.GroupNum).toBe(0);
  });

  it('runs calls through the same policy and running log as the API', async () => {
    const s = await signIn(t.creds);
    const r = await call(s, 'CreateActivity', { ActivityName: 'from the console' }, '2022-09-27');
    expect(r.body.ActivityId).toMatch(/^at_/);
    const logged = await t.run.app.db.kysely.selectFrom('running_log').selectAll().where('request_id', '=', r.body.RequestId).executeTakeFirst();
    expect(logged).toMatchObject({ action: 'CreateActivity', service: 'facefusion', code: '' });
    // The SDK sees the same data.
    expect((await t.common('facefusion').request('DescribeActivities', {})).Activities.map((a: any) => a.ActivityName)).toContain('from the console');

    const sub = await t.run.app.accounts.createKey(t.creds.AppId, { subUser: 'lib', policy: ['iai:*'] });
    const ss = await signIn(sub);
    const acts = ((await (await fetch(`${t.url}/console/api/actions`, { headers: { cookie: ss.cookie } })).json()) as any).Actions as { Service: string }[];
    expect(new Set(acts.map((a) => a.Service))).toEqual(new Set(['iai']));
    const denied = await call(ss, 'DescribeActivities', {}, '2022-09-27');
    expect(denied.body.Error.Code).toBe('AuthFailure.UnauthorizedOperation');
    const denied2 = await call(ss, 'DescribeUsage');
    expect(denied2.body.Error.Code).toBe('AuthFailure.UnauthorizedOperation');
    const failed = await t.run.app.db.kysely.selectFrom('running_log').selectAll().where('request_id', '=', denied.body.RequestId).executeTakeFirst();
    expect(failed).toMatchObject({ code: 'AuthFailure.UnauthorizedOperation', billed: 0 });
  });

  it('ends sessions on sign-out, on expiry and when the key is disabled', async () => {
    const a = await signIn(t.creds);
    await fetch(`${t.url}/console/api/sign-out`, { method: 'POST', headers: { cookie: a.cookie, 'x-fv-csrf': a.csrf } });
    expect((await call(a, 'GetGroupList')).status).toBe(401);

    const b = await signIn(t.creds);
    clock.offsetMs += 601_000; // past the 600 s idle timeout
    expect((await call(b, 'GetGroupList')).status).toBe(401);
    clock.offsetMs = 0;

    const k = await t.run.app.accounts.createKey(t.creds.AppId, { subUser: 'temp', policy: ['iai:*'] });
    const c = await signIn(k);
    expect((await call(c, 'GetGroupList')).status).toBe(200);
    await t.run.app.accounts.setKeyStatus(t.creds.AppId, k.SecretId, 'disabled');
    expect((await call(c, 'GetGroupList')).status).toBe(401);
  });

  it('administers keys: the secret once, no escalation, the last root key kept', async () => {
    const root = await signIn(t.creds);
    const made = await call(root, 'CreateSubUserKey', { SubUser: 'keyadmin', Policy: ['iai:*', 'facevault:CreateSubUserKey', 'facevault:DescribeSubUsers'] });
    expect(made.body.SecretKey).toMatch(/^[A-Za-z0-9]{32}$/);
    const listed = await call(root, 'DescribeSubUsers');
    expect(JSON.stringify(listed.body)).not.toContain(made.body.SecretKey);
    expect(listed.body.SubUsers.find((u: any) => u.Name === 'keyadmin').Policy).toContain('iai:*');

    const admin = await signIn(made.body);
    expect((await call(admin, 'CreateSubUserKey', { SubUser: 'escalate', Policy: ['*'] })).body.Error.Code).toBe('AuthFailure.UnauthorizedOperation');
    expect((await call(admin, 'CreateSubUserKey', { SubUser: 'escalate', Policy: ['facevault:DescribeUsage'] })).body.Error.Code).toBe('AuthFailure.UnauthorizedOperation');
    expect((await call(admin, 'CreateSubUserKey', {})).body.Error.Code).toBe('AuthFailure.UnauthorizedOperation'); // a root key
    expect((await call(admin, 'CreateSubUserKey', { SubUser: 'reader', Policy: ['iai:GetGroupList'] })).body.SecretId).toMatch(/^AKID/);

    const keys = listed.body.SubUsers.find((u: any) => u.IsRoot).Keys;
    expect(keys).toHaveLength(1);
    expect((await call(root, 'DisableKey', { SecretId: keys[0].SecretId })).body.Error.Code).toBe('FailedOperation.LastRootKey');
    const audit = await call(root, 'DescribeAuditLog', { Limit: 20 });
    expect(audit.body.Verification.Valid).toBe(true);
    expect(audit.body.Records.map((r: any) => r.Action)).toContain('key.create');
    // Admin extensions are never billed.
    const row = await t.run.app.db.kysely.selectFrom('running_log').selectAll().where('request_id', '=', audit.body.RequestId).executeTakeFirst();
    expect(row?.billed).toBe(0);
  });
});
