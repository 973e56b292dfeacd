// Small helpers shared by the benchmarks: result files and plain-text tables.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { tc3Authorization } from '../src/api/protocol/tc3-signature.ts';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));

export function writeResult(name: string, data: unknown): string {
  const dir = path.join(BENCH_DIR, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ name, date: new Date().toISOString(), node: process.version, ...data as object }, null, 2) + '\n');
  return file;
}

export function table(rows: Record<string, unknown>[]): string {
  if (!rows.length) return '';
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v));
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => '| ' + vals.map((v, i) => v.padEnd(w[i])).join(' | ') + ' |';
  return [line(cols), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function percentile(v: number[], p: number): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const TC3_VERSION: Record<string, string> = { iai: '2020-03-03', facefusion: '2022-09-27' };

/** A TC3-signed JSON request (signed now: fresh timestamp), as autocannon's setupRequest takes it. */
export function signedRequest(host: string, secretId: string, secretKey: string, service: string, action: string, params: unknown) {
  const body = JSON.stringify(params);
  const timestamp = Math.floor(Date.now() / 1000);
  const contentType = 'application/json; charset=utf-8';
  const authorization = tc3Authorization(secretId, { secretKey, service, timestamp, contentType, host, body });
  return {
    method: 'POST' as const, path: '/', body,
    headers: { 'content-type': contentType, host, authorization, 'x-tc-action': action, 'x-tc-version': TC3_VERSION[service], 'x-tc-timestamp': String(timestamp), 'x-tc-region': 'ap-guangzhou' },
  };
}

/** One signed call; throws on an error response. */
export async function signedCall(url: string, secretId: string, secretKey: string, service: string, action: string, params: unknown): Promise<Record<string, any>> {
  const s = signedRequest(new URL(url).host, secretId, secretKey, service, action, params);
  const r = await fetch(url, { method: 'POST', headers: s.headers, body: s.body });
  const j = (await r.json()) as { Response: Record<string, any> };
  if (j.Response.Error) throw new Error(`${action}: ${j.Response.Error.Code}: ${j.Response.Error.Message}`);
  return j.Response;
}

/**
 * Starts `facevault serve` as a child process with `env` and waits for /readyz (the index loaded).
 * Returns its URL, the process, and the seconds from spawn to ready.
 */
export async function startServeChild(env: Record<string, string>, opts: { readyTimeoutMs?: number; nodeArgs?: string[] } = {}) {
  const root = path.resolve(BENCH_DIR, '..');
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.join(root, 'bin/facevault.mjs'), 'serve'], {
    cwd: root, env: { ...process.env, FACEVAULT_PORT: '0', FACEVAULT_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<never>((_, reject) => child.on('exit', (c) => reject(new Error(`server exited with ${c}`))));
  exited.catch(() => {});
  const url = await Promise.race([exited, new Promise<string>((resolve) => {
    let buf = '';
    child.stdout!.on('data', (d) => { buf += d; const m = /listening on (http:\/\/\S+)/.exec(buf); if (m) resolve(m[1]); });
  })]);
  child.stdout!.resume();
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 900_000);
  for (;;) {
    const r = await fetch(`${url}/readyz`).catch(() => null);
    if (r?.status === 200) break;
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`server at ${url} not ready in time`); }
    await Promise.race([exited, new Promise((res) => setTimeout(res, 200))]);
  }
  const readySeconds = (performance.now() - t0) / 1000;
  return {
    url, child, readySeconds,
    async stop() { if (child.exitCode === null) { child.kill('SIGTERM'); await new Promise((r) => child.on('exit', r)); } },
  };
}
