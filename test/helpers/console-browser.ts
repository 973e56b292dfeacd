// The web console in a real browser: builds the current console/ sources into a temp dir,
// starts a server that serves them (with a clock that can be moved forward, for session
// expiry), and drives Debian's chromium through playwright-core (never a downloaded browser).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, tempDir, type TestServer } from './server.ts';
import type { Clock } from '../../src/domain/clock.ts';

export const CHROMIUM = process.env.FACEVAULT_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);
export const chromiumSkipReason = `browser tests skipped: no chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

const consoleRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

/** Builds console/ into a fresh directory (about a second), so tests see the sources as they are. */
export async function buildConsole(): Promise<string> {
  const outDir = tempDir('facevault-console-');
  const vite = await import('vite');
  await vite.build({ root: consoleRoot, configFile: path.join(consoleRoot, 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

/** A clock that runs with real time plus an offset the test can add to. */
export class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

export interface ConsoleRig {
  t: TestServer;
  clock: OffsetClock;
  browser: Browser;
  consoleDir: string;
  stop(): Promise<void>;
}

export async function startConsoleRig(env: Record<string, string> = {}): Promise<ConsoleRig> {
  const consoleDir = await buildConsole();
  const clock = new OffsetClock();
  const t = await startTestServer({ FACEVAULT_FUSION_THREADS: '1', ...env }, { clock, consoleDir });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return {
    t, clock, browser, consoleDir,
    async stop() {
      await browser.close().catch(() => {});
      await t.stop();
      fs.rmSync(consoleDir, { recursive: true, force: true });
    },
  };
}

export async function newPage(rig: ConsoleRig, o: { locale?: string; width?: number; height?: number } = {}): Promise<Page> {
  const ctx = await rig.browser.newContext({ locale: o.locale ?? 'en-US', viewport: { width: o.width ?? 1280, height: o.height ?? 860 }, deviceScaleFactor: 1 });
  // Nothing but this server may be contacted: anything else fails the test.
  const origin = new URL(rig.t.url).origin;
  const foreign: string[] = [];
  await ctx.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    foreign.push(u);
    return route.abort();
  });
  const page = await ctx.newPage();
  (page as Page & { foreign: string[] }).foreign = foreign;
  return page;
}

export async function signIn(page: Page, url: string, creds: { SecretId: string; SecretKey: string }): Promise<void> {
  await page.goto(`${url}/console/`);
  await page.getByLabel('SecretId').fill(creds.SecretId);
  await page.getByLabel('SecretKey').fill(creds.SecretKey);
  await page.locator('form.signin button[type=submit]').click();
  await page.getByTestId('who').waitFor();
}
