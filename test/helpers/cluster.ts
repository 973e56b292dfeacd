// A scaled deployment on loopback, started the way deploy/systemd/ describes it: every node is a
// real `facevault serve` child process whose command line and environment are read from
// facevault-serve@.service (ExecStart, Environment, EnvironmentFile), with the deployment-wide
// file written here in place of /etc/facevault/facevault.env. The backends: a fresh PostgreSQL
// database per cluster (FACEVAULT_TEST_PG's server), s3rver started here, and Redis
// (FACEVAULT_TEST_REDIS; keys are prefixed per deployment by the server itself, from the
// database URL). Optional TCP proxies sit between the nodes and each backend (tcp-proxy.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { S3Client, CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { tempDir } from './server.ts';
import { PG_URL, REDIS_URL } from './backends.ts';
import { TcpProxy } from './tcp-proxy.ts';

const require = createRequire(import.meta.url);
const { iai } = require('tencentcloud-sdk-nodejs/tencentcloud/services/iai');
const { facefusion } = require('tencentcloud-sdk-nodejs/tencentcloud/services/facefusion');
const { CommonClient } = require('tencentcloud-sdk-nodejs/tencentcloud/common/common_client');

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const UNIT_DIR = path.join(REPO, 'deploy', 'systemd');

export interface Unit {
  workingDirectory: string;
  environmentFiles: string[];
  environment: Record<string, string>;
  execStart: string[];
}

/** Splits a systemd command line or Environment= value into words (double/single quotes). */
function words(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of s.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] ?? m[3]!);
  return out;
}

/** The [Service] settings of a unit file, with %i replaced by the instance name. */
export function parseUnit(file: string, instance: string): Unit {
  const u: Unit = { workingDirectory: '/', environmentFiles: [], environment: {}, execStart: [] };
  let section = '';
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) { section = line; continue; }
    if (section !== '[Service]') continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).replaceAll('%i', instance).replaceAll('%%', '%');
    if (key === 'WorkingDirectory') u.workingDirectory = value;
    else if (key === 'EnvironmentFile') u.environmentFiles.push(value.replace(/^-/, ''));
    else if (key === 'Environment') for (const w of words(value)) { const i = w.indexOf('='); u.environment[w.slice(0, i)] = w.slice(i + 1); }
    else if (key === 'ExecStart') u.execStart = words(value.replace(/^[-@:+!]+/, ''));
  }
  return u;
}

/** KEY=value lines of an EnvironmentFile. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    out[line.slice(0, i)] = line.slice(i + 1).replace(/^"(.*)"$/, '$1');
  }
  return out;
}

export interface Node {
  name: string;
  port: number;
  url: string;
  proc: ChildProcess;
  /** stdout and stderr lines, in order. */
  lines: string[];
  exited: Promise<number | null>;
  alive(): boolean;
  iai(): any;
  facefusion(): any;
  common(service: 'iai' | 'facefusion'): any;
  readyz(): Promise<{ status: number; checks: Record<string, string> }>;
  metrics(): Promise<string>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export interface UnitProcess {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  alive(): boolean;
  /** SIGTERM (as systemctl stop), SIGKILL after 30 s; the exit code. */
  stop(): Promise<number | null>;
}

export interface ClusterOptions {
  nodes: number;
  /** Extra settings for the deployment-wide file (besides every key of facevault.env.example). */
  env?: Record<string, string>;
  /** Put a TCP proxy between the nodes and each backend. */
  proxies?: boolean;
}

export interface Cluster {
  nodes: Node[];
  creds: { SecretId: string; SecretKey: string };
  envFile: string;
  /** The deployment-wide settings the nodes got. */
  env: Record<string, string>;
  dbUrl: string;
  pg: pg.Pool;
  s3: S3Client;
  bucket: string;
  prefix: string;
  proxies: { pg: TcpProxy; redis: TcpProxy; s3: TcpProxy } | null;
  startNode(name?: string): Promise<Node>;
  /** A video worker from facevault-worker@.service. */
  startWorker(instance: string): Promise<UnitProcess>;
  objectKeys(): Promise<string[]>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, deadlineMs: number, everyMs = 250): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`${what}: not within ${deadlineMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  if (!PG_URL || !REDIS_URL) throw new Error('startCluster needs FACEVAULT_TEST_PG and FACEVAULT_TEST_REDIS');
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const stateDir = tempDir('facevault-cluster-');
  cleanups.push(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  // A database of its own: the key store schema and pg-boss's live in it too.
  const dbName = `fv_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const dbUrlDirect = new URL(PG_URL);
  dbUrlDirect.pathname = `/${dbName}`;
  const pool = new pg.Pool({ connectionString: dbUrlDirect.href, max: 3 });
  cleanups.push(async () => {
    await pool.end();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    await c.end();
  });

  const s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(stateDir, 's3rver') });
  const { port: s3port } = await s3server.run();
  cleanups.push(() => s3server.close());
  const s3endpoint = `http://127.0.0.1:${s3port}`;
  const bucket = 'facevault-objects';
  const prefix = 'cluster';
  const s3 = new S3Client({ region: 'us-east-1', endpoint: s3endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  cleanups.push(() => s3.destroy());

  let proxies: Cluster['proxies'] = null;
  const redisUrl = new URL(REDIS_URL);
  const dbUrl = new URL(dbUrlDirect.href);
  let nodeS3 = s3endpoint;
  if (o.proxies) {
    proxies = {
      pg: await new TcpProxy(dbUrl.hostname, Number(dbUrl.port || 5432)).start(),
      redis: await new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379)).start(),
      s3: await new TcpProxy('127.0.0.1', s3port).start(),
    };
    for (const p of Object.values(proxies)) cleanups.push(() => p.close());
    dbUrl.hostname = '127.0.0.1'; dbUrl.port = String(proxies.pg.port);
    redisUrl.hostname = '127.0.0.1'; redisUrl.port = String(proxies.redis.port);
    nodeS3 = `http://${proxies.s3.address}`;
  }

  const creds = { SecretId: 'AKID' + crypto.randomBytes(16).toString('hex').toUpperCase(), SecretKey: crypto.randomBytes(16).toString('hex') };
  const example = parseEnvFile(fs.readFileSync(path.join(UNIT_DIR, 'facevault.env.example'), 'utf8'));
  const env: Record<string, string> = {
    FACEVAULT_DATABASE_URL: dbUrl.href,
    FACEVAULT_OBJECT_STORE: `s3://${bucket}/${prefix}`,
    FACEVAULT_S3_ENDPOINT: nodeS3,
    FACEVAULT_S3_ACCESS_KEY_ID: 'S3RVER',
    FACEVAULT_S3_SECRET_ACCESS_KEY: 'S3RVER',
    FACEVAULT_REDIS_URL: redisUrl.href,
    FACEVAULT_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
    FACEVAULT_HOST: '127.0.0.1',
    FACEVAULT_TRUSTED_PROXIES: '127.0.0.1',
    FACEVAULT_PUBLIC_URL: 'http://127.0.0.1:1',
    FACEVAULT_VIDEO_QUEUE: 'pg-boss',
    FACEVAULT_INFERENCE_THREADS: '1',
    FACEVAULT_FUSION_THREADS: '1',
    FACEVAULT_METRICS: 'on',
    FACEVAULT_JOB_LEASE_SECONDS: '4',
    FACEVAULT_BOOTSTRAP_SECRET_ID: creds.SecretId,
    FACEVAULT_BOOTSTRAP_SECRET_KEY: creds.SecretKey,
    FACEVAULT_LOG_LEVEL: 'warn',
    ...o.env,
  };
  const missing = Object.keys(example).filter((k) => !(k in env));
  if (missing.length) throw new Error(`the cluster's environment file lacks ${missing.join(', ')} of facevault.env.example`);
  const envFile = path.join(stateDir, 'facevault.env');
  fs.writeFileSync(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });

  // The unit's absolute paths, mapped onto this checkout and a temporary state directory.
  const mapPath = (p: string) => p
    .replace(/^\/opt\/facevault(?=\/|$)/, REPO)
    .replace(/^\/var\/lib\/facevault(?=\/|$)/, stateDir)
    .replace(/^\/etc\/facevault\/facevault\.env$/, envFile)
    .replace(/^\/usr\/bin\/node$/, process.execPath);

  /** Starts the unit's ExecStart with its environment (EnvironmentFile, then Environment lines). */
  function spawnUnit(unitName: string, instance: string) {
    const unit = parseUnit(path.join(UNIT_DIR, unitName), instance);
    const fileEnv = Object.assign({}, ...unit.environmentFiles.map((f) => parseEnvFile(fs.readFileSync(mapPath(f), 'utf8'))));
    const unitEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(unit.environment)) unitEnv[k] = mapPath(v);
    const childEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? stateDir, ...fileEnv, ...unitEnv };
    const [cmd, ...args] = unit.execStart.map(mapPath);
    fs.mkdirSync(childEnv.FACEVAULT_DATA_DIR, { recursive: true, mode: 0o700 });
    const proc = spawn(cmd!, args, { cwd: mapPath(unit.workingDirectory), env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const collect = (s: NodeJS.ReadableStream) => {
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); }
      });
    };
    collect(proc.stdout!);
    collect(proc.stderr!);
    const exited = new Promise<number | null>((r) => proc.on('exit', (c, sig) => r(c ?? (sig ? -1 : null))));
    return { proc, lines, exited };
  }

  const nodes: Node[] = [];
  async function startWorker(instance: string): Promise<UnitProcess> {
    const w = spawnUnit('facevault-worker@.service', instance);
    let done = false;
    void w.exited.then(() => { done = true; });
    return {
      ...w,
      alive: () => !done,
      async stop() {
        if (done) return w.exited;
        w.proc.kill('SIGTERM');
        const t = setTimeout(() => w.proc.kill('SIGKILL'), 30_000);
        const code = await w.exited;
        clearTimeout(t);
        return code;
      },
    };
  }
  async function startNode(name?: string): Promise<Node> {
    const port = name ? Number(name) : await freePort();
    const { proc, lines, exited: exit0 } = spawnUnit('facevault-serve@.service', String(port));
    let code: number | null | undefined;
    const exited = exit0.then((c) => { code = c; return c; });
    const endpoint = `127.0.0.1:${port}`;
    const url = `http://${endpoint}`;
    const profile = { httpProfile: { endpoint, protocol: 'http://', reqTimeout: 90 } };
    const credential = { secretId: creds.SecretId, secretKey: creds.SecretKey };
    const region = 'ap-guangzhou';
    const node: Node = {
      name: String(port), port, url, proc, lines, exited,
      alive: () => code === undefined,
      iai: () => new iai.v20200303.Client({ credential, region, profile }),
      facefusion: () => new facefusion.v20220927.Client({ credential, region, profile }),
      common: (service) => new CommonClient(endpoint, { iai: '2020-03-03', facefusion: '2022-09-27' }[service], { credential, region, profile }),
      async readyz() {
        const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(30_000) });
        return { status: r.status, checks: ((await r.json()) as { checks: Record<string, string> }).checks };
      },
      async metrics() { return (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(30_000) })).text(); },
      async kill9() { if (node.alive()) { proc.kill('SIGKILL'); await exited; } },
      async stop() {
        if (!node.alive()) return;
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(t);
      },
    };
    nodes.push(node);
    await waitFor(`node ${port} ready`, async () => {
      if (!node.alive()) throw new Error(`node ${port} exited (${code}): ${lines.slice(-15).join('\n')}`);
      return (await node.readyz()).status === 200;
    }, Number(process.env.CLUSTER_READY_MS ?? 120_000), 300).catch((e) => { proc.kill("SIGKILL"); throw new Error(`${(e as Error).message}\n${lines.slice(-20).join("\n")}`); });
    return node;
  }

  const cluster: Cluster = {
    nodes, creds, envFile, env, dbUrl: dbUrlDirect.href, pg: pool, s3, bucket, prefix, proxies, startNode, startWorker,
    async objectKeys() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
        for (const c of r.Contents ?? []) keys.push(c.Key!.slice(prefix.length + 1));
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
      for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
    },
  };
  try {
    // All at once, as `systemctl start facevault.target` does: first-start races (migrations,
    // the bootstrap account, the key store schema) are part of what is tested.
    await Promise.all(Array.from({ length: o.nodes }, () => startNode()));
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
