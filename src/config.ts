// Configuration from the environment. Every variable is listed once in CONFIG_VARS,
// which feeds both the parser and the README/`serve --help` table, so docs cannot drift.
import { isIP } from 'node:net';
import path from 'node:path';
import { ConfigError } from './domain/config-error.ts';
import { parseMasterKey } from './domain/master-key.ts';
import { parseRetention, RETENTION_CONFIG_VARS, type RetentionSettings } from './domain/retention-policy.ts';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null; // null = SQLite file in dataDir
  objectStore: { kind: 'local'; dir: string } | { kind: 's3'; bucket: string; prefix: string; endpoint?: string; region: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean };
  redisUrl: string | null;
  region: string;
  masterKey: string | null; // null = generated into dataDir/master.key
  /** FACEVAULT_KEYSTORE_URL: where the per-AppId data keys live, apart from the data (key-store.ts). */
  keyStoreUrl: string | null;
  bodyLimitBytes: number;
  uploadLimitBytes: number; // multipart/form-data bodies of upload actions (CreateMaterial)
  videoUploadLimitBytes: number; // the same, when the signature is checked from the headers before the body (video materials)
  /** Refuse requests whose TC3 signature does not cover X-TC-Action (the official SDKs sign only content-type;host). */
  requireSignedAction: boolean;
  bootstrapSecretId: string | null;
  bootstrapSecretKey: string | null;
  publicUrl: string | null;
  /** FACEVAULT_TLS_CERT/KEY: serve HTTPS directly with this PEM certificate chain and key. */
  tls: { certFile: string; keyFile: string } | null;
  /** FACEVAULT_TRUSTED_PROXIES: peers (IPs/CIDRs) whose X-Forwarded-For/-Host/-Proto are believed. */
  trustedProxies: string[];
  urlAllowList: string[]; // host[:port] or CIDR entries allowed for Url fetching despite being private
  inferenceThreads: number;
  /** FACEVAULT_SEARCH_THREADS: worker threads scanning large search indexes (0 = on the event loop). */
  searchThreads: number;
  /** FACEVAULT_MAX_QUEUE: image tasks that may wait per worker pool before requests get RequestLimitExceeded. */
  maxQueue: number;
  fusion: { threads: number; draftQps: number; publishedQps: number; cacheBytes: number; maxQueue: number; swapModelDir: string | null };
  livenessModelDir: string | null; // operator anti-spoofing model (FACEVAULT_LIVENESS_MODEL)
  /** Video fusion jobs (docs/ARCHITECTURE.md): queue kind, whether this process runs jobs, the job lease. */
  video: { queue: 'embedded' | 'pg-boss'; runJobs: boolean; leaseMs: number };
  /** FACEVAULT_JOB_LEASE_SECONDS: lease on model upgrade jobs and deletion requests; a dead process's are taken over after it. */
  jobLeaseMs: number;
  /** FACEVAULT_DB_QUERY_TIMEOUT_SECONDS: a PostgreSQL query without an answer this long fails with ServiceUnavailable.Database/KeyStore. */
  dbQueryTimeoutMs: number;
  /** FACEVAULT_SQLITE_FLUSH: where SQLite's commit flushes run (store/db/sqlite-durable.ts). */
  sqliteFlush: 'thread-pool' | 'event-loop';
  /** FACEVAULT_ORPHAN_GRACE_SECONDS: age after which an object no row names is deleted by the sweep (jobs/orphan-objects.ts). */
  orphanGraceMs: number;
  /** GET /metrics: off (default), on (anyone who reaches the port), or a bearer token. */
  metrics: { mode: 'off' } | { mode: 'on' } | { mode: 'token'; token: string };
  /** pino level of the JSON request log on stdout (silent = none). */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  modelSetDirs: string[]; // extra model sets, each a directory with a manifest.json
  /** Retention per data class and the sweep interval (FACEVAULT_RETAIN_*, docs/PRIVACY.md). */
  retention: RetentionSettings;
  errorLogMaxBytes: number;
  /** Deadline of one unit of image work in a worker (decode + analysis, or one fusion). */
  imageTaskTimeoutMs: number;
  /** Privacy defaults for AppIds without their own policy (SetPrivacyPolicy overrides per AppId). */
  privacy: { requireConsent: boolean; minAge: number; inactivePersonDays: number };
  /** The web console at /console: session lifetime and idle timeout (api/routes/console.ts). */
  console: { sessionTtlMs: number; idleTimeoutMs: number };
}

export { ConfigError };

export interface ConfigVar {
  name: string;
  default: string;
  description: string;
}

export const CONFIG_VARS: ConfigVar[] = [
  { name: 'FACEVAULT_PORT', default: '8080', description: 'TCP port to listen on (0 = any free port)' },
  { name: 'FACEVAULT_HOST', default: '127.0.0.1', description: 'Address to bind; use 0.0.0.0 to serve other machines' },
  { name: 'FACEVAULT_DATA_DIR', default: './data', description: 'Directory for the SQLite file, local objects, logs and the generated master key' },
  { name: 'FACEVAULT_DATABASE_URL', default: '(SQLite in the data dir)', description: 'postgres://user@host:port/db to use PostgreSQL instead of SQLite' },
  { name: 'FACEVAULT_OBJECT_STORE', default: '<data dir>/objects', description: 'A directory path, or s3://bucket[/prefix] for an S3-compatible store' },
  { name: 'FACEVAULT_S3_ENDPOINT', default: '(AWS default)', description: 'S3 endpoint URL for s3:// stores (e.g. http://127.0.0.1:9000)' },
  { name: 'FACEVAULT_S3_REGION', default: 'us-east-1', description: 'S3 region for s3:// stores' },
  { name: 'FACEVAULT_S3_ACCESS_KEY_ID', default: '(SDK default chain)', description: 'S3 access key id' },
  { name: 'FACEVAULT_S3_SECRET_ACCESS_KEY', default: '(SDK default chain)', description: 'S3 secret access key' },
  { name: 'FACEVAULT_REDIS_URL', default: '(none)', description: 'redis://host:port shared by every process of the deployment: a lock so the retention sweep runs once per period, and the per-activity fusion rate limits shared across processes (no job queue)' },
  { name: 'FACEVAULT_REGION', default: 'ap-guangzhou', description: 'The deployment region; requests naming another region are refused' },
  { name: 'FACEVAULT_MASTER_KEY', default: '(generated into <data dir>/master.key, mode 0600)', description: '32-byte key, base64 or hex; encrypts secret keys and face features at rest' },
  { name: 'FACEVAULT_KEYSTORE_URL', default: '(SQLite: <data dir>/keys/keys.sqlite; PostgreSQL: schema facevault_keys of the same database)', description: 'Where the per-AppId data keys live, apart from the data: a postgres:// URL or a SQLite file path. Back it up on its own policy, or not at all (docs/PRIVACY.md)' },
  { name: 'FACEVAULT_BODY_LIMIT', default: '10485760', description: 'Largest request body in bytes (Tencent: 10 MB for TC3 POST)' },
  { name: 'FACEVAULT_UPLOAD_LIMIT', default: '52428800', description: 'Largest multipart/form-data upload in bytes (CreateMaterial with a file part)' },
  { name: 'FACEVAULT_VIDEO_UPLOAD_LIMIT', default: '1074790400', description: 'Largest multipart/form-data upload in bytes whose TC3 signature can be checked from the headers before the body is read (X-TC-Content-SHA256: the body\'s hash or UNSIGNED-PAYLOAD): a video material of up to 1 GB plus 1 MiB for the other fields. Larger than FACEVAULT_UPLOAD_LIMIT, which bounds what a client that has not yet proved its key can make the server spool' },
  { name: 'FACEVAULT_REQUIRE_SIGNED_ACTION', default: '0', description: '1 = refuse requests whose TC3 signature does not cover X-TC-Action (SignedHeaders must list x-tc-action). Leave 0 for the official SDKs: they sign only content-type;host' },
  { name: 'FACEVAULT_BOOTSTRAP_SECRET_ID', default: '(none)', description: 'With FACEVAULT_BOOTSTRAP_SECRET_KEY: the root key created on first start when no account exists' },
  { name: 'FACEVAULT_BOOTSTRAP_SECRET_KEY', default: '(none)', description: 'See FACEVAULT_BOOTSTRAP_SECRET_ID' },
  { name: 'FACEVAULT_PUBLIC_URL', default: 'http://<host>:<port>', description: 'Base URL used in result links handed to clients' },
  { name: 'FACEVAULT_TLS_CERT', default: '(none: plain HTTP)', description: 'PEM certificate (chain) file; with FACEVAULT_TLS_KEY the server speaks HTTPS itself, so the SDKs\' default https:// works' },
  { name: 'FACEVAULT_TLS_KEY', default: '(none)', description: 'PEM private key file for FACEVAULT_TLS_CERT' },
  { name: 'FACEVAULT_TRUSTED_PROXIES', default: '(none)', description: 'Comma-separated IPs/CIDRs of reverse proxies: only from these peers are X-Forwarded-For/-Host/-Proto used (client IP, and the Host signatures are checked against)' },
  { name: 'FACEVAULT_URL_ALLOWLIST', default: '(none)', description: 'Comma-separated host[:port] or CIDR entries that Url inputs may reach even though they are private/loopback' },
  { name: 'FACEVAULT_INFERENCE_THREADS', default: '(number of cores)', description: 'Worker threads running the models (one ONNX intra-op thread each)' },
  { name: 'FACEVAULT_SEARCH_THREADS', default: '(half the cores, 1 to 4)', description: 'Worker threads that scan large 1:N search indexes over the shared index memory, so a search does not hold the event loop; 0 searches on the event loop' },
  { name: 'FACEVAULT_MAX_QUEUE', default: '(16 per inference thread)', description: 'Image tasks that may wait for a worker in each pool (inference, fusion); past it requests get RequestLimitExceeded at once instead of queueing (docs/OPERATIONS.md)' },
  { name: 'FACEVAULT_FUSION_THREADS', default: '(same as FACEVAULT_INFERENCE_THREADS)', description: 'Worker threads doing the fusion pixel work' },
  { name: 'FACEVAULT_FUSION_DRAFT_QPS', default: '1', description: 'FuseFace/FuseFaceUltra requests per second allowed per draft activity' },
  { name: 'FACEVAULT_FUSION_PUBLISHED_QPS', default: '50', description: 'Requests per second allowed per published activity' },
  { name: 'FACEVAULT_VIDEO_QUEUE', default: 'embedded', description: 'Who shares out video fusion jobs: embedded (this process runs them from the database rows) or pg-boss (PostgreSQL only; `facevault worker` processes take them)' },
  { name: 'FACEVAULT_VIDEO_RUN_JOBS', default: '1', description: 'Whether the server runs video jobs itself (0: only `facevault worker` processes do; pg-boss queue)' },
  { name: 'FACEVAULT_VIDEO_LEASE_SECONDS', default: '60', description: 'A running video job\'s lease, renewed with its progress; a job whose process died is taken over when it runs out' },
  { name: 'FACEVAULT_JOB_LEASE_SECONDS', default: '30', description: 'Lease of a running model upgrade job or deletion request, renewed while it runs; when its process dies another process takes it over after this' },
  { name: 'FACEVAULT_SQLITE_FLUSH', default: 'thread-pool', description: 'SQLite: thread-pool flushes each commit to disk off the event loop before it is acknowledged; event-loop lets SQLite flush inside the commit (synchronous = FULL, as before), which holds every other request for the flush' },
  { name: 'FACEVAULT_DB_QUERY_TIMEOUT_SECONDS', default: '15', description: 'PostgreSQL: a query that gets no answer this long (a hung server, a partition) fails with ServiceUnavailable.Database (or .KeyStore) and its connection is dropped' },
  { name: 'FACEVAULT_ORPHAN_GRACE_SECONDS', default: '3600', description: 'The retention sweep deletes objects (fusion results, materials, kept enrolment images) that no row names once they are this old: left by a process killed between writing an object and committing its row' },
  { name: 'FACEVAULT_FUSION_CACHE_MB', default: '256', description: 'Memory for decoded templates kept between fusion requests' },
  { name: 'FACEVAULT_IMAGE_TASK_TIMEOUT_MS', default: '30000', description: 'Deadline of one image task in a worker (decode and analysis, or one fusion); past it the request fails with FailedOperation.RequestTimeout and the worker is replaced' },
  { name: 'FACEVAULT_LIVENESS_MODEL', default: '(none)', description: 'Directory with manifest.json + an ONNX anti-spoofing model (MiniFASNet interface, docs/MODELS.md); without it DetectLiveFaceAccurate answers UnsupportedOperation' },
  { name: 'FACEVAULT_SWAP_MODEL', default: '(none)', description: 'Directory with manifest.json + model.onnx of a learned face-swap model you hold a licence for; FuseFace/FuseFaceUltra and video jobs (and `facevault fuse-video`) then swap with it inside the classical engine; the manifest may name the model\'s own identity encoder and emap (docs/MODELS.md). None is shipped' },
  { name: 'FACEVAULT_MODEL_SETS', default: '(none)', description: 'Comma-separated directories, each with a manifest.json naming ONNX files: extra FaceModelVersions (docs/MODELS.md)' },
  { name: 'FACEVAULT_REQUIRE_CONSENT', default: '0', description: 'Default for AppIds without a privacy policy: 1 = CreatePerson/CreateFace need a Consent record (docs/PRIVACY.md)' },
  { name: 'FACEVAULT_MIN_AGE', default: '0', description: 'Default minimum estimated age for enrolment and fusion (0 = no limit); the age estimate is rough (docs/MODELS.md)' },
  { name: 'FACEVAULT_PERSON_INACTIVE_DAYS', default: '1095', description: 'Persons not matched or changed for this many days are purged by the retention sweeper (0 = never; BIPA: 3 years)' },
  { name: 'FACEVAULT_METRICS', default: 'off', description: 'GET /metrics (Prometheus): off, on (anyone who can reach the port: bind to a private network), or token:<secret> (Authorization: Bearer <secret>)' },
  { name: 'FACEVAULT_LOG_LEVEL', default: 'info', description: 'JSON request log on stdout (pino): fatal, error, warn, info, debug, trace or silent. Lines carry the RequestId; never images, secrets or signed URLs' },
  { name: 'FACEVAULT_ERROR_LOG_MAX_BYTES', default: '2147483648', description: 'Size cap of the error log; oldest segments are deleted first' },
  { name: 'FACEVAULT_CONSOLE_SESSION_TTL', default: '28800', description: 'Seconds a web console sign-in lasts at most (then the user signs in again)' },
  { name: 'FACEVAULT_CONSOLE_IDLE_TIMEOUT', default: '1800', description: 'Seconds without use after which a web console session ends' },
  ...RETENTION_CONFIG_VARS,
];

function videoSettings(env: NodeJS.ProcessEnv, databaseUrl: string | null): Config['video'] {
  const q = str(env, 'FACEVAULT_VIDEO_QUEUE') ?? 'embedded';
  if (q !== 'embedded' && q !== 'pg-boss') throw new ConfigError('FACEVAULT_VIDEO_QUEUE', `must be embedded or pg-boss, got "${q}"`);
  if (q === 'pg-boss' && !databaseUrl) throw new ConfigError('FACEVAULT_VIDEO_QUEUE', 'pg-boss needs FACEVAULT_DATABASE_URL (PostgreSQL)');
  const run = str(env, 'FACEVAULT_VIDEO_RUN_JOBS') ?? '1';
  if (run !== '0' && run !== '1') throw new ConfigError('FACEVAULT_VIDEO_RUN_JOBS', `must be 0 or 1, got "${run}"`);
  if (run === '0' && q !== 'pg-boss') throw new ConfigError('FACEVAULT_VIDEO_RUN_JOBS', '0 needs FACEVAULT_VIDEO_QUEUE=pg-boss (else no process would run the jobs)');
  return { queue: q, runJobs: run === '1', leaseMs: intVar(env, 'FACEVAULT_VIDEO_LEASE_SECONDS', 60, 1, 3600) * 1000 };
}

function sqliteFlush(env: NodeJS.ProcessEnv): 'thread-pool' | 'event-loop' {
  const v = str(env, 'FACEVAULT_SQLITE_FLUSH') ?? 'thread-pool';
  if (v !== 'thread-pool' && v !== 'event-loop') throw new ConfigError('FACEVAULT_SQLITE_FLUSH', `must be thread-pool or event-loop, got "${v}"`);
  return v;
}

function intVar(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function str(env: NodeJS.ProcessEnv, name: string): string | null {
  const v = env[name];
  return v === undefined || v.trim() === '' ? null : v.trim();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cpuCount = 2): Config {
  const port = intVar(env, 'FACEVAULT_PORT', 8080, 0, 65535);
  const host = str(env, 'FACEVAULT_HOST') ?? '127.0.0.1';
  const dataDir = path.resolve(str(env, 'FACEVAULT_DATA_DIR') ?? './data');

  const databaseUrl = str(env, 'FACEVAULT_DATABASE_URL');
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('FACEVAULT_DATABASE_URL', `must be a postgres:// URL (leave unset for SQLite), got "${databaseUrl}"`);
  }

  const os = str(env, 'FACEVAULT_OBJECT_STORE');
  let objectStore: Config['objectStore'];
  if (os === null) objectStore = { kind: 'local', dir: path.join(dataDir, 'objects') };
  else if (os.startsWith('s3://')) {
    const rest = os.slice(5);
    const [bucket, ...prefixParts] = rest.split('/');
    if (!bucket || bucket.length < 3) throw new ConfigError('FACEVAULT_OBJECT_STORE', `s3:// needs a bucket name of at least 3 characters, got "${os}"`);
    const endpoint = str(env, 'FACEVAULT_S3_ENDPOINT') ?? undefined;
    if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) throw new ConfigError('FACEVAULT_S3_ENDPOINT', `must be an http(s) URL, got "${endpoint}"`);
    objectStore = {
      kind: 's3', bucket, prefix: prefixParts.filter(Boolean).join('/'), endpoint,
      region: str(env, 'FACEVAULT_S3_REGION') ?? 'us-east-1',
      accessKeyId: str(env, 'FACEVAULT_S3_ACCESS_KEY_ID') ?? undefined,
      secretAccessKey: str(env, 'FACEVAULT_S3_SECRET_ACCESS_KEY') ?? undefined,
      forcePathStyle: endpoint !== undefined,
    };
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(os)) {
    throw new ConfigError('FACEVAULT_OBJECT_STORE', `must be a directory or s3://bucket, got "${os}"`);
  } else objectStore = { kind: 'local', dir: path.resolve(os) };

  const redisUrl = str(env, 'FACEVAULT_REDIS_URL');
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('FACEVAULT_REDIS_URL', `must be a redis:// URL, got "${redisUrl}"`);

  const region = str(env, 'FACEVAULT_REGION') ?? 'ap-guangzhou';
  if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(region)) throw new ConfigError('FACEVAULT_REGION', `must look like ap-guangzhou, got "${region}"`);

  const masterKey = str(env, 'FACEVAULT_MASTER_KEY');
  if (masterKey !== null) parseMasterKey(masterKey); // throws ConfigError when malformed

  const ks = str(env, 'FACEVAULT_KEYSTORE_URL');
  if (ks !== null && /^[a-z][a-z0-9+.-]*:\/\//i.test(ks) && !/^postgres(ql)?:\/\//.test(ks)) {
    throw new ConfigError('FACEVAULT_KEYSTORE_URL', `must be a postgres:// URL or a file path, got "${ks}"`);
  }
  const keyStoreUrl = ks === null || /^postgres(ql)?:\/\//.test(ks) ? ks : path.resolve(ks);

  const bootstrapSecretId = str(env, 'FACEVAULT_BOOTSTRAP_SECRET_ID');
  const bootstrapSecretKey = str(env, 'FACEVAULT_BOOTSTRAP_SECRET_KEY');
  if ((bootstrapSecretId === null) !== (bootstrapSecretKey === null)) {
    throw new ConfigError(bootstrapSecretId === null ? 'FACEVAULT_BOOTSTRAP_SECRET_ID' : 'FACEVAULT_BOOTSTRAP_SECRET_KEY', 'both bootstrap variables must be set together');
  }
  if (bootstrapSecretId !== null && !/^[A-Za-z0-9]{8,64}$/.test(bootstrapSecretId)) {
    throw new ConfigError('FACEVAULT_BOOTSTRAP_SECRET_ID', 'must be 8-64 letters and digits');
  }
  if (bootstrapSecretKey !== null && bootstrapSecretKey.length < 16) {
    throw new ConfigError('FACEVAULT_BOOTSTRAP_SECRET_KEY', 'must be at least 16 characters');
  }

  const publicUrl = str(env, 'FACEVAULT_PUBLIC_URL');
  if (publicUrl !== null && !/^https?:\/\//.test(publicUrl)) throw new ConfigError('FACEVAULT_PUBLIC_URL', `must be an http(s) URL, got "${publicUrl}"`);

  const certFile = str(env, 'FACEVAULT_TLS_CERT');
  const keyFile = str(env, 'FACEVAULT_TLS_KEY');
  if ((certFile === null) !== (keyFile === null)) throw new ConfigError(certFile === null ? 'FACEVAULT_TLS_CERT' : 'FACEVAULT_TLS_KEY', 'FACEVAULT_TLS_CERT and FACEVAULT_TLS_KEY must be set together');
  const tls = certFile && keyFile ? { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) } : null;
  const trustedProxies = (str(env, 'FACEVAULT_TRUSTED_PROXIES') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of trustedProxies) {
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(p);
    if (!m || !(isIP(m[1]) && (m[2] === undefined || Number(m[2]) <= (isIP(m[1]) === 4 ? 32 : 128)))) {
      throw new ConfigError('FACEVAULT_TRUSTED_PROXIES', `"${p}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 127.0.0.1, ::1)`);
    }
  }

  const allow = str(env, 'FACEVAULT_URL_ALLOWLIST');
  const urlAllowList = allow === null ? [] : allow.split(',').map((s) => s.trim()).filter(Boolean);

  const threads = intVar(env, 'FACEVAULT_INFERENCE_THREADS', Math.max(1, cpuCount), 1, 256);
  const maxQueue = intVar(env, 'FACEVAULT_MAX_QUEUE', 16 * threads, 1, 1_000_000);
  const m = str(env, 'FACEVAULT_METRICS') ?? 'off';
  let metrics: Config['metrics'];
  if (m === 'off' || m === 'on') metrics = { mode: m };
  else if (m.startsWith('token:') && m.length >= 'token:'.length + 16) metrics = { mode: 'token', token: m.slice('token:'.length) };
  else throw new ConfigError('FACEVAULT_METRICS', 'must be off, on, or token:<secret> with a secret of at least 16 characters');
  const logLevel = (str(env, 'FACEVAULT_LOG_LEVEL') ?? 'info').toLowerCase();
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new ConfigError('FACEVAULT_LOG_LEVEL', `must be fatal, error, warn, info, debug, trace or silent, got "${logLevel}"`);

  return {
    port, host, dataDir, databaseUrl, objectStore, redisUrl, region, masterKey, keyStoreUrl,
    bodyLimitBytes: intVar(env, 'FACEVAULT_BODY_LIMIT', 10 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    uploadLimitBytes: intVar(env, 'FACEVAULT_UPLOAD_LIMIT', 50 * 1024 * 1024, 1024, 2 * 1024 ** 3),
    // Tencent's 1 GB video limit plus 1 MiB for the multipart envelope and the text fields.
    videoUploadLimitBytes: intVar(env, 'FACEVAULT_VIDEO_UPLOAD_LIMIT', 1024 ** 3 + 1024 ** 2, 1024, 4 * 1024 ** 3),
    requireSignedAction: intVar(env, 'FACEVAULT_REQUIRE_SIGNED_ACTION', 0, 0, 1) === 1,
    bootstrapSecretId, bootstrapSecretKey,
    publicUrl: publicUrl?.replace(/\/+$/, '') ?? null,
    tls, trustedProxies,
    urlAllowList,
    inferenceThreads: threads,
    searchThreads: intVar(env, 'FACEVAULT_SEARCH_THREADS', Math.min(4, Math.max(1, Math.floor(cpuCount / 2))), 0, 4),
    maxQueue, metrics, logLevel: logLevel as Config['logLevel'],
    fusion: {
      maxQueue,
      // 0 fusion threads = fuse on the main thread (tests); default: one per core.
      threads: intVar(env, 'FACEVAULT_FUSION_THREADS', intVar(env, 'FACEVAULT_INFERENCE_THREADS', Math.max(1, cpuCount), 1, 256), 0, 256),
      draftQps: intVar(env, 'FACEVAULT_FUSION_DRAFT_QPS', 1, 1, 100_000),
      publishedQps: intVar(env, 'FACEVAULT_FUSION_PUBLISHED_QPS', 50, 1, 100_000),
      cacheBytes: intVar(env, 'FACEVAULT_FUSION_CACHE_MB', 256, 0, 1_000_000) * 1024 * 1024,
      swapModelDir: str(env, 'FACEVAULT_SWAP_MODEL') ? path.resolve(str(env, 'FACEVAULT_SWAP_MODEL')!) : null,
    },
    livenessModelDir: str(env, 'FACEVAULT_LIVENESS_MODEL') ? path.resolve(str(env, 'FACEVAULT_LIVENESS_MODEL')!) : null,
    video: videoSettings(env, databaseUrl),
    jobLeaseMs: intVar(env, 'FACEVAULT_JOB_LEASE_SECONDS', 30, 2, 3600) * 1000,
    dbQueryTimeoutMs: intVar(env, 'FACEVAULT_DB_QUERY_TIMEOUT_SECONDS', 15, 1, 3600) * 1000,
    sqliteFlush: sqliteFlush(env),
    orphanGraceMs: intVar(env, 'FACEVAULT_ORPHAN_GRACE_SECONDS', 3600, 10, 30 * 86_400) * 1000,
    modelSetDirs: (str(env, 'FACEVAULT_MODEL_SETS') ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((d) => path.resolve(d)),
    retention: parseRetention(env),
    errorLogMaxBytes: intVar(env, 'FACEVAULT_ERROR_LOG_MAX_BYTES', 2 * 1024 ** 3, 1024 * 1024, 2 ** 50),
    imageTaskTimeoutMs: intVar(env, 'FACEVAULT_IMAGE_TASK_TIMEOUT_MS', 30_000, 100, 3_600_000),
    privacy: {
      requireConsent: intVar(env, 'FACEVAULT_REQUIRE_CONSENT', 0, 0, 1) === 1,
      minAge: intVar(env, 'FACEVAULT_MIN_AGE', 0, 0, 99),
      inactivePersonDays: intVar(env, 'FACEVAULT_PERSON_INACTIVE_DAYS', 1095, 0, 36500),
    },
    console: {
      sessionTtlMs: intVar(env, 'FACEVAULT_CONSOLE_SESSION_TTL', 8 * 3600, 60, 30 * 86400) * 1000,
      idleTimeoutMs: intVar(env, 'FACEVAULT_CONSOLE_IDLE_TIMEOUT', 1800, 60, 30 * 86400) * 1000,
    },
  };
}

export { parseMasterKey };
