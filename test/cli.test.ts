// The `facevault` command as a user runs it: a separate process, JSON on stdout.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/server.ts';

const run = promisify(execFile);
const BIN = path.resolve('bin/facevault.mjs');

async function cli(args: string[], env: Record<string, string>) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e: any) {
    return { code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string };
  }
}

describe('facevault CLI', () => {
  it('accounts create, keys create/list/disable print JSON; secrets appear only once', async () => {
    const env = { FACEVAULT_DATA_DIR: tempDir() };
    const acc = JSON.parse((await cli(['accounts', 'create', '--name', 'acme'], env)).stdout);
    expect(acc).toMatchObject({ AppId: expect.any(Number), SecretId: expect.stringMatching(/^AKID/), SecretKey: expect.any(String), Policy: ['*'] });
    const sub = JSON.parse((await cli(['keys', 'create', '--app-id', String(acc.AppId), '--sub-user', 'ops', '--policy', 'iai:DetectFace,facefusion:*'], env)).stdout);
    expect(sub).toMatchObject({ AppId: acc.AppId, Uin: acc.Uin, Policy: ['iai:DetectFace', 'facefusion:*'] });
    expect(sub.SubUin).not.toBe(acc.Uin);
    const listOut = (await cli(['keys', 'list', '--app-id', String(acc.AppId)], env)).stdout;
    const list = JSON.parse(listOut);
    expect(list.map((k: any) => k.SecretId).sort()).toEqual([acc.SecretId, sub.SecretId].sort());
    expect(listOut).not.toContain(acc.SecretKey);
    expect(listOut).not.toContain(sub.SecretKey);
    const dis = await cli(['keys', 'disable', '--app-id', String(acc.AppId), '--secret-id', sub.SecretId], env);
    expect(JSON.parse(dis.stdout)).toEqual({ SecretId: sub.SecretId, Status: 'disabled' });
    const list2 = JSON.parse((await cli(['keys', 'list', '--app-id', String(acc.AppId)], env)).stdout);
    expect(list2.find((k: any) => k.SecretId === sub.SecretId).Status).toBe('disabled');
    // The generated master key is private to the owner.
    expect(fs.statSync(path.join(env.FACEVAULT_DATA_DIR, 'master.key')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(env.FACEVAULT_DATA_DIR, 'facevault.sqlite')).mode & 0o777).toBe(0o600);
  });

  it('bad usage and unknown ids fail with a message and a non-zero exit', async () => {
    const env = { FACEVAULT_DATA_DIR: tempDir() };
    const r = await cli(['keys', 'list'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--app-id is required/);
    const r2 = await cli(['keys', 'disable', '--app-id', '123', '--secret-id', 'AKIDnope'], env);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/ResourceNotFound/);
  });

  it('invalid configuration fails at start naming the variable', async () => {
    for (const [name, value] of [['FACEVAULT_PORT', 'eighty'], ['FACEVAULT_DATABASE_URL', 'mysql://x'], ['FACEVAULT_MASTER_KEY', 'short'], ['FACEVAULT_REGION', 'Mars!'], ['FACEVAULT_OBJECT_STORE', 'ftp://x']]) {
      const r = await cli(['serve'], { FACEVAULT_DATA_DIR: tempDir(), [name]: value });
      expect(r.code, `${name}=${value}`).toBe(1);
      expect(r.stderr).toContain(name);
    }
  });

  it('serve --help lists every configuration variable', async () => {
    const r = await cli(['serve', '--help'], {});
    for (const v of ['FACEVAULT_PORT', 'FACEVAULT_HOST', 'FACEVAULT_DATA_DIR', 'FACEVAULT_DATABASE_URL', 'FACEVAULT_OBJECT_STORE', 'FACEVAULT_REDIS_URL', 'FACEVAULT_REGION', 'FACEVAULT_MASTER_KEY']) expect(r.stdout).toContain(v);
  });
});

describe('facevault serve', () => {
  function startServe(env: Record<string, string>) {
    const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, FACEVAULT_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const url = new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m) { clearInterval(timer); resolve(m[1]); }
      }, 50);
      child.on('exit', (code) => { clearInterval(timer); reject(new Error(`exited ${code}: ${out}`)); });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, url, exited, output: () => out };
  }

  it('first start prints credentials once; bootstrap variables create the root key instead', async () => {
    const dir = tempDir();
    const s = startServe({ FACEVAULT_DATA_DIR: dir });
    await s.url;
    expect(s.output()).toMatch(/"SecretKey": "/);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const again = startServe({ FACEVAULT_DATA_DIR: dir });
    await again.url;
    expect(again.output()).not.toMatch(/"SecretKey"/);
    again.child.kill('SIGTERM');
    await again.exited;

    const boot = startServe({ FACEVAULT_DATA_DIR: tempDir(), FACEVAULT_BOOTSTRAP_SECRET_ID: 'AKIDbootstrap0001', FACEVAULT_BOOTSTRAP_SECRET_KEY: 'bootstrap-secret-key-0001' });
    await boot.url;
    expect(boot.output()).toMatch(/FACEVAULT_BOOTSTRAP_SECRET_ID/);
    expect(boot.output()).not.toMatch(/bootstrap-secret-key-0001/);
    boot.child.kill('SIGTERM');
    await boot.exited;
  });

  it('SIGTERM stops accepting, finishes the in-flight request, then exits 0', async () => {
    const s = startServe({ FACEVAULT_DATA_DIR: tempDir() });
    const url = new URL(await s.url);
    const net = await import('node:net');
    // An in-flight request: headers and half the body sent, the rest after SIGTERM.
    const sock = net.connect(Number(url.port), url.hostname);
    await new Promise((r) => sock.once('connect', r));
    const body = '{"padding":"' + 'x'.repeat(1000) + '"}';
    sock.write(`POST / HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-TC-Action: DescribeRetentionPolicy\r\nX-TC-Version: 2020-03-03\r\n\r\n` + body.slice(0, 500));
    let reply = '';
    sock.on('data', (d) => { reply += d; });
    await new Promise((r) => setTimeout(r, 200));
    s.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    // New connections are refused while the in-flight one is still served.
    const refused = await fetch(`${url.origin}/healthz`).then(() => false, () => true);
    expect(refused).toBe(true);
    sock.write(body.slice(500));
    expect(await s.exited).toBe(0);
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    expect(reply).toContain('"Response"');
    expect(reply).toContain('AuthFailure.InvalidAuthorization');
  });
});
