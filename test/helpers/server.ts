// Starts a real server on a random loopback port with a temporary data dir, creates an
// account, and hands out official-SDK clients pointed at it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { loadConfig, type Config } from '../../src/config.ts';
import { startServer, type Running } from '../../src/cli/serve.ts';
import type { Credentials } from '../../src/services/accounts/accounts.ts';
import type { AppOptions } from '../../src/app.ts';
import type { ServerOptions } from '../../src/api/server.ts';

const require = createRequire(import.meta.url);
// CommonJS package; required so that the exact published client code runs.
const { iai } = require('tencentcloud-sdk-nodejs/tencentcloud/services/iai');
const { facefusion } = require('tencentcloud-sdk-nodejs/tencentcloud/services/facefusion');
const { vclm } = require('tencentcloud-sdk-nodejs/tencentcloud/services/vclm');
const { CommonClient } = require('tencentcloud-sdk-nodejs/tencentcloud/common/common_client');

export interface TestServer {
  run: Running;
  url: string;
  endpoint: string; // host:port, as the SDK wants it
  creds: Credentials;
  dataDir: string;
  iai(creds?: Pick<Credentials, 'SecretId' | 'SecretKey'>, region?: string): any;
  facefusion(creds?: Pick<Credentials, 'SecretId' | 'SecretKey'>, region?: string): any;
  vclm(creds?: Pick<Credentials, 'SecretId' | 'SecretKey'>, region?: string): any;
  common(service: 'iai' | 'facefusion' | 'vclm', creds?: Pick<Credentials, 'SecretId' | 'SecretKey'>): any;
  stop(): Promise<void>;
}

export function tempDir(prefix = 'facevault-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestServer(env: Record<string, string> = {}, opts: AppOptions = {}, serverOpts: ServerOptions = {}): Promise<TestServer> {
  const dataDir = env.FACEVAULT_DATA_DIR ?? tempDir();
  const config: Config = loadConfig({ FACEVAULT_PORT: '0', FACEVAULT_DATA_DIR: dataDir, FACEVAULT_INFERENCE_THREADS: '2', FACEVAULT_LOG_LEVEL: 'silent', ...env }, 2);
  const lines: string[] = [];
  const run = await startServer(config, (s) => lines.push(s), opts, serverOpts);
  const creds = await run.app.accounts.createAccount('test');
  const endpoint = run.url.replace('http://', '');
  const profile = { httpProfile: { endpoint, protocol: 'http://', reqTimeout: 120 } };
  const make = (Ctor: any, c?: Pick<Credentials, 'SecretId' | 'SecretKey'>, region?: string) =>
    new Ctor({ credential: { secretId: (c ?? creds).SecretId, secretKey: (c ?? creds).SecretKey }, region: region ?? config.region, profile });
  return {
    run, url: run.url, endpoint, creds, dataDir,
    iai: (c, r) => make(iai.v20200303.Client, c, r),
    facefusion: (c, r) => make(facefusion.v20220927.Client, c, r),
    vclm: (c, r) => make(vclm.v20240523.Client, c, r),
    common: (service, c) => {
      const version = { iai: '2020-03-03', facefusion: '2022-09-27', vclm: '2024-05-23' }[service];
      return new CommonClient(endpoint, version, { credential: { secretId: (c ?? creds).SecretId, secretKey: (c ?? creds).SecretKey }, region: config.region, profile });
    },
    async stop() {
      await run.stop();
      if (!env.FACEVAULT_DATA_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Calls an SDK method and returns the thrown error's code (or 'OK' when it succeeded). */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? `no code: ${(e as Error).message}`;
  }
}
