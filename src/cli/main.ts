// The `facevault` command. Account commands work on the configured database directly, so
// they run with or without a server (SQLite in WAL mode allows both at once).
// The app's module graph is imported on demand: `serve` starts the inference workers before it
// imports the rest, so the models load while the main thread is still importing (cold start).
import os from 'node:os';
import { CONFIG_VARS, ConfigError, loadConfig, type Config } from '../config.ts';
import type { App } from '../app.ts';
import { parseArgs } from './args.ts';
import { TcError } from '../domain/errors.ts';

const cpuCount = () => os.availableParallelism?.() ?? os.cpus().length;

const USAGE = `facevault — self-hosted face recognition and face fusion (Tencent Cloud API v3 compatible)

Usage:
  facevault serve [--help]                 start the API server
  facevault accounts create [--name N]     create a tenant (AppId, root user, first key); prints JSON
  facevault keys create --app-id A [--sub-user NAME] [--policy iai:DetectFace,facefusion:*]
                                           a new key for the root user, or for a sub-user with a policy
  facevault keys list --app-id A           list keys (never their secrets)
  facevault keys disable --app-id A --secret-id ID
  facevault keys enable --app-id A --secret-id ID
  facevault usage --month YYYY-MM [--app-id A] [--granularity day|month]
                                           calls per AppId and action, billed vs unbilled (UTC); prints JSON
  facevault audit verify                   check the audit log's hash chain; exit 1 naming the first bad record
  facevault audit list [--app-id A] [--limit N]
                                           newest audit records first; prints JSON
  facevault analyze <image> [--attributes] [--mesh] [--quality] [--min-face-size 20|34]
                                           detect faces in a local image (offline); prints JSON
  facevault compare <imageA> <imageB>      compare the main faces of two local images (offline); prints JSON
  facevault calibrate <dir> [--dry-run]    refit the Score scale on labelled photos (<dir>/<person>/<photos>),
                                           print FAR/TAR at Score 40/50/60, store it as a new active version
  facevault calibrate --revert             go back to the previous calibration (or the shipped one)
  facevault fuse-video --template clip.mp4 --face me.jpg [--face-for 1=other.jpg ...] -o out.mp4 [--no-label]
                                           fuse faces into a local mp4 (offline) with a progress bar; prints JSON
  facevault worker                         run video fusion jobs (pg-boss queue, FACEVAULT_VIDEO_QUEUE=pg-boss)
                                           until SIGTERM; a job whose worker dies is taken over by another
  facevault doctor [--json]                what this installation uses: media library and FFmpeg version,
                                           model sets, database, object store, job queue
  facevault backup <dir> [--include-keys]  consistent copy of the database and objects while serving, with a
                                           manifest of checksums; the key store and master key only with
                                           --include-keys (docs/PRIVACY.md "Key store", docs/OPERATIONS.md)
  facevault restore <dir> [--restore-keys] put a backup in place (server stopped), verify it, then erase again
                                           every tenant the key store has erased since; prints JSON
  facevault migrate --to postgres://... [--objects s3://bucket/prefix] [--keystore URL]
                                           copy this embedded deployment into PostgreSQL (+ S3) and compare
                                           counts and checksums; prints JSON, exit 1 when anything differs
`;

function serveHelp(): string {
  const w = Math.max(...CONFIG_VARS.map((v) => v.name.length));
  return 'facevault serve — start the API server (POST / for Tencent Cloud API v3; GET /healthz, /readyz)\n\nConfiguration (environment variables):\n' +
    CONFIG_VARS.map((v) => `  ${v.name.padEnd(w)}  ${v.description} [default: ${v.default}]`).join('\n') + '\n';
}

function requireFlag(flags: Record<string, string | true>, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}
class UsageError extends Error {}

async function withApp<T>(config: Config, fn: (app: App) => Promise<T>): Promise<T> {
  const { createApp } = await import('../app.ts');
  const app = await createApp(config);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv);
  const [cmd, sub] = positional;
  if (!cmd || cmd === 'help' || (flags.help && cmd !== 'serve')) {
    console.log(USAGE);
    return 0;
  }
  try {
    if (cmd === 'serve' && flags.help) {
      console.log(serveHelp());
      return 0;
    }
    if (cmd === 'analyze' || cmd === 'compare') {
      const files = positional.slice(1);
      if (files.length !== (cmd === 'analyze' ? 1 : 2)) throw new UsageError(`${cmd} needs ${cmd === 'analyze' ? 'one image' : 'two images'}`);
      const { analyzeCommand, compareCommand } = await import('./vision-commands.ts');
      const out = cmd === 'analyze' ? await analyzeCommand(files[0], flags) : await compareCommand(files[0], files[1], flags);
      console.log(JSON.stringify(out, null, 2));
      return 0;
    }
    if (cmd === 'fuse-video') {
      const faceFor = new Map<string, string>();
      let output: string | undefined;
      for (let i = 1; i < argv.length; i++) {
        if (argv[i] === '--face-for' && argv[i + 1]) {
          const m = /^(\d+)=(.+)$/.exec(argv[++i]);
          if (!m) throw new UsageError('--face-for takes FACEID=photo.jpg');
          faceFor.set(m[1], m[2]);
        } else if ((argv[i] === '-o' || argv[i] === '--output') && argv[i + 1]) output = argv[++i];
      }
      const template = requireFlag(flags, 'template');
      const face = typeof flags.face === 'string' ? flags.face : '';
      if (!face && !faceFor.size) throw new UsageError('fuse-video needs --face (or --face-for)');
      if (!output) throw new UsageError('fuse-video needs -o out.mp4');
      const { fuseVideoCommand } = await import('./video-commands.ts');
      // The same learned swap model as the server's, when one is installed (FACEVAULT_SWAP_MODEL).
      const swapModelDir = loadConfig(process.env, cpuCount()).fusion.swapModelDir ?? undefined;
      const out = await fuseVideoCommand({ template, face, faceFor, output, noLabel: !!flags['no-label'], threads: Math.max(1, cpuCount()), swapModelDir });
      console.log(JSON.stringify(out, null, 2));
      return 0;
    }
    const config = loadConfig(process.env, cpuCount());
    const print = (v: unknown) => console.log(JSON.stringify(v, null, 2));
    const appId = () => {
      const v = requireFlag(flags, 'app-id');
      if (!/^\d+$/.test(v)) throw new UsageError('--app-id must be a number');
      return Number(v);
    };
    if (cmd === 'calibrate') {
      const { calibrateCommand, revertCalibration } = await import('./calibrate-command.ts');
      const version = typeof flags['model-version'] === 'string' ? flags['model-version'] : undefined;
      if (flags.revert) {
        console.log(revertCalibration(config.dataDir, version));
        return 0;
      }
      const dir = positional[1];
      if (!dir || positional.length !== 2) throw new UsageError('calibrate needs one directory of person folders, or --revert');
      console.log((await calibrateCommand(dir, { dataDir: config.dataDir, dryRun: !!flags['dry-run'], modelVersion: version })).text);
      return 0;
    }
    if (cmd === 'backup' || cmd === 'restore') {
      const dir = positional[1];
      if (!dir || positional.length !== 2) throw new UsageError(`${cmd} needs one directory`);
      const { backupCommand, restoreCommand } = await import('./backup-command.ts');
      print(cmd === 'backup' ? await backupCommand(config, dir, { includeKeys: !!flags['include-keys'] }) : await restoreCommand(config, dir, { restoreKeys: !!flags['restore-keys'] }));
      return 0;
    }
    if (cmd === 'migrate') {
      const { migrateCommand } = await import('./backup-command.ts');
      const opt = (n: string) => (typeof flags[n] === 'string' ? flags[n] as string : undefined);
      const r = await migrateCommand(config, { to: requireFlag(flags, 'to'), objects: opt('objects'), keystore: opt('keystore') }, process.env);
      print(r);
      if (!r.ok) console.error('facevault: the target differs from the source (see "equal": false above)');
      return r.ok ? 0 : 1;
    }
    switch (`${cmd} ${sub ?? ''}`.trim()) {
      case 'worker': {
        if (config.video.queue !== 'pg-boss') throw new UsageError('facevault worker needs FACEVAULT_VIDEO_QUEUE=pg-boss (and FACEVAULT_DATABASE_URL); the embedded queue runs jobs in the server');
        const { createApp } = await import('../app.ts');
        const app = await createApp(config, { videoWorker: true, warmVision: true });
        console.error(`facevault worker: taking video jobs (pg-boss on ${config.databaseUrl ? new URL(config.databaseUrl).host : '?'})`);
        const stop = () => { void app.close().then(() => process.exit(0)); };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        return -1; // keep running
      }
      case 'doctor': {
        const { doctorReport, formatDoctor } = await import('./doctor.ts');
        const r = doctorReport(config);
        console.log(flags.json ? JSON.stringify(r, null, 2) : formatDoctor(r));
        return 'error' in r.media || r.models.some((m) => !m.ok) ? 1 : 0;
      }
      case 'serve': {
        const { VisionEngine } = await import('../services/media/vision-engine.ts');
        const vision = VisionEngine.fromConfig(config);
        vision.warm().catch(() => {}); // failures show in /readyz and the serve log
        const { serveCommand } = await import('./serve.ts');
        await serveCommand(config, vision);
        return -1; // keep running
      }
      case 'accounts create':
        print(await withApp(config, (app) => app.accounts.createAccount(typeof flags.name === 'string' ? flags.name : 'default')));
        return 0;
      case 'keys create': {
        const policy = typeof flags.policy === 'string' ? flags.policy.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
        const subUser = typeof flags['sub-user'] === 'string' ? flags['sub-user'] : undefined;
        print(await withApp(config, (app) => app.accounts.createKey(appId(), { subUser, policy })));
        return 0;
      }
      case 'keys list':
        print(await withApp(config, (app) => app.accounts.listKeys(appId())));
        return 0;
      case 'keys disable':
      case 'keys enable': {
        const status = sub === 'disable' ? 'disabled' : 'active';
        const secretId = requireFlag(flags, 'secret-id');
        await withApp(config, (app) => app.accounts.setKeyStatus(appId(), secretId, status));
        print({ SecretId: secretId, Status: status });
        return 0;
      }
      case 'usage': {
        const month = requireFlag(flags, 'month');
        const g = typeof flags.granularity === 'string' ? flags.granularity.toLowerCase() : 'month';
        if (g !== 'day' && g !== 'month') throw new UsageError('--granularity must be day or month');
        print(await withApp(config, (app) => app.usage.monthReport(month, { appId: flags['app-id'] ? appId() : undefined, granularity: g === 'day' ? 'Day' : 'Month' })));
        return 0;
      }
      case 'audit verify': {
        const r = await withApp(config, (app) => app.audit.verify());
        print(r);
        if (!r.ok) console.error(`facevault: audit log verification failed: ${r.reason}`);
        return r.ok ? 0 : 1;
      }
      case 'audit list': {
        const limit = typeof flags.limit === 'string' && /^\d+$/.test(flags.limit) ? Number(flags.limit) : 100;
        print(await withApp(config, (app) => app.audit.list({ appId: flags['app-id'] ? appId() : undefined, limit })));
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${positional.join(' ')}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) console.error(`facevault: ${e.message}\n\n${USAGE}`);
    else if (e instanceof ConfigError) console.error(`facevault: invalid configuration: ${e.message}`);
    else if (e instanceof TcError) console.error(`facevault: ${e.code}: ${e.message}`);
    else console.error(`facevault: ${(e as Error).stack ?? e}`);
    return e instanceof UsageError ? 2 : 1;
  }
}
