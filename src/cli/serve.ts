// `facevault serve`: start the API, bootstrap the first account, stop gracefully on SIGTERM.
import { createApp, cpuCount, type App, type AppOptions } from '../app.ts';
import { buildServer, type ServerOptions } from '../api/server.ts';
import type { Config } from '../config.ts';
import type { FastifyInstance } from 'fastify';
import { auditRetentionPolicy } from '../jobs/retention.ts';
import type { VisionEngine } from '../services/media/vision-engine.ts';

export interface Running { app: App; server: FastifyInstance; url: string; stop(): Promise<void> }

export async function startServer(config: Config, log: (s: string) => void = console.log, opts: AppOptions = {}, serverOpts: ServerOptions = {}): Promise<Running> {
  const app = await createApp(config, opts);
  try {
    await bootstrap(app, log);
    await auditRetentionPolicy(app.audit, app.retentionRules, config.retention.sweepIntervalMs);
    // One line per sweep this process runs: with Redis, one process per period across the deployment.
    app.retention.scheduler.onRun((period) => log(JSON.stringify({ level: 30, time: new Date().toISOString(), msg: 'retention sweep ran', period, intervalMs: config.retention.sweepIntervalMs })));
    app.retention.scheduler.start();
    const server = await buildServer(app, serverOpts);
    await server.listen({ port: config.port, host: config.host });
    const addr = server.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    const url = `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    let stopping: Promise<void> | null = null;
    const stop = () => (stopping ??= (async () => {
      // close() stops accepting, waits for in-flight requests, then we close stores.
      await server.close();
      await app.close();
    })());
    return { app, server, url, stop };
  } catch (e) {
    await app.close();
    throw e;
  }
}

async function bootstrap(app: App, log: (s: string) => void) {
  if (await app.accounts.hasAccounts()) return;
  const { bootstrapSecretId: id, bootstrapSecretKey: key } = app.config;
  // Nodes of a scaled deployment start together on an empty database: one creates the account,
  // the others lose the insert race and find it there (they used to exit on the duplicate key).
  const orAnotherNodeWon = async <T>(create: () => Promise<T>): Promise<T | null> => {
    try {
      return await create();
    } catch (e) {
      if (await app.accounts.hasAccounts()) return null;
      throw e;
    }
  };
  if (id && key) {
    const c = await orAnotherNodeWon(() => app.accounts.createAccount('bootstrap', { secretId: id, secretKey: key }));
    log(c ? `Created the first account (AppId ${c.AppId}) with the SecretId from FACEVAULT_BOOTSTRAP_SECRET_ID.` : 'Another process created the first account meanwhile.');
    return;
  }
  const c = await orAnotherNodeWon(() => app.accounts.createAccount('default'));
  if (!c) return log('Another process created the first account meanwhile.');
  log('Created the first account. Its secret key is shown only this once; keep it safe:');
  log(JSON.stringify(c, null, 2));
}

export async function serveCommand(config: Config, vision?: VisionEngine): Promise<void> {
  // Models load in the background (from before the app's import when `vision` is passed in,
  // already warming): /readyz answers 503 until every default model is in.
  const r = await startServer(config, console.log, { warmVision: true, vision });
  r.app.vision.warm().then((p) => p.allLoaded).then(
    () => {
      const v = r.app.vision.status();
      if (v.state === 'ready') console.log(`models ready: set ${v.version}, ${v.threads} inference threads, tasks ${v.tasks.join(', ')} (core ${v.loadMs} ms, all ${v.allLoadedMs} ms after the workers started; ready ${Math.round(performance.now())} ms after process start)`);
    },
    (e: Error) => console.error(`facevault: the face models could not be loaded: ${e.message}`),
  );
  console.log(`facevault listening on ${r.url} (region ${config.region}, database ${config.databaseUrl ? 'PostgreSQL' : 'SQLite in ' + config.dataDir}, objects ${config.objectStore.kind === 'local' ? config.objectStore.dir : 's3://' + config.objectStore.bucket}, ${cpuCount()} cores)`);
  console.log(`Credentials: the first start printed a SecretId/SecretKey; create more with "npx facevault keys create --app-id <AppId>" or a new tenant with "npx facevault accounts create".`);
  console.log(`Point the Tencent Cloud SDK at it: profile.httpProfile = { endpoint: "${r.url.replace(/^https?:\/\//, '')}", protocol: "${config.tls ? 'https' : 'http'}://" }`);
  console.log(`Web console: ${r.url}/console/ (sign in with a SecretId and SecretKey)`);
  let signalled = false;
  const onSignal = (sig: string) => {
    if (signalled) return;
    signalled = true;
    console.log(`${sig}: finishing in-flight requests, then stopping`);
    r.stop().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}
