// HTTP: Tencent Cloud API v3 on `POST /`, plus health endpoints. Protocol order follows
// what Tencent's gateway does: action/version, then authentication, region and policy,
// then the body. Every reply is HTTP 200 with the {"Response":{...,"RequestId"}} envelope.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Clock } from '../domain/clock.ts';
import { TcError } from '../domain/errors.ts';
import type { ServiceName } from '../domain/call.ts';
import { VERSIONS } from './actions/table.ts';
import type { ActionRegistry } from './actions/registry.ts';
import { isSpooled, spoolUpload, uploadTooLarge, UploadError } from './protocol/upload-spool.ts';
import { AuthFailureLog } from './protocol/auth-failure-log.ts';
import { createRequestGate, GET_QUERY_LIMIT, type Preauth, type RequestGate } from './protocol/request-gate.ts';
import { formFields, parseFormParams, unflatten } from './protocol/form-params.ts';
import type { NonceStore } from './protocol/nonce-cache.ts';
import type { FederationTokens } from '../services/accounts/federation.ts';
import { dropSilentConnections, listenerLimits, listenerOptions, type ListenerLimits } from './protocol/listener-limits.ts';
import { authorizeCall, bodyParams, recordCall, runCall, type Attempt } from './protocol/call.ts';
import type { ErrorLog, RunningLog } from '../services/logs/call-logs.ts';
import type { AccountsService } from '../services/accounts/accounts.ts';
import type { VisionEngine } from '../services/media/vision-engine.ts';
import { workerReadiness, type WorkerPools } from '../services/media/worker-readiness.ts';
import { indexReadiness } from '../services/library/index-readiness.ts';
import type { LibraryIndex } from '../services/library/library-index.ts';
import { Metrics, type MetricSources } from './observability/metrics.ts';
import { createRequestLogger, safeMessage, type LogLevel } from './observability/request-log.ts';
import { metricsRoute } from './routes/metrics.ts';

/** A capability's plain-HTTP routes (signed result links), added next to the API. */
export type HttpRoutes = (server: FastifyInstance) => void | Promise<void>;

/** What the HTTP layer uses; the composition root's App provides it. */
export interface ServerDeps {
  config: Config;
  clock: Clock;
  accounts: AccountsService;
  /** Temporary credentials (X-TC-Token); absent: tokens are refused. */
  tokens?: Pick<FederationTokens, 'authenticate'>;
  /** v1 nonce replay cache shared by the deployment's processes (default: this process's memory). */
  nonces?: NonceStore;
  registry: ActionRegistry;
  runningLog: Pick<RunningLog, 'append'>;
  errorLog: Pick<ErrorLog, 'append'>;
  db: { ping(): Promise<unknown> };
  blobs: { ping(): Promise<unknown> };
  vision: Pick<VisionEngine, 'status' | 'health'>;
  fusion?: WorkerPools['fusion'];
  /** Index sizes for /metrics; its start-up load for /readyz. */
  library?: { index: NonNullable<MetricSources['index']> & Pick<LibraryIndex, 'loadStatus'> };
  /** The last sweep's report for /metrics. */
  retention?: MetricSources['retention'];
  /** Probed by /readyz and /metrics (a read of AppId 0, which never exists). */
  keyStore?: { get(appId: number): Promise<unknown> };
  /** Probed by /readyz and /metrics when the deployment has Redis (FACEVAULT_REDIS_URL). */
  redis?: { ping(): Promise<unknown> } | null;
  httpRoutes: HttpRoutes[];
}

export interface ServerOptions {
  listener?: Partial<ListenerLimits>;
  /** Where the JSON request log goes (default stdout) and its level (default config.logLevel). */
  log?: { stream?: NodeJS.WritableStream; level?: LogLevel };
}

/** How long /readyz waits for each dependency's probe. */
const READY_PROBE_MS = 3000;
const PROBE_TIMEOUT = Symbol('probe timeout');
const PROBE_DEPENDENCY: Record<string, string> = { database: 'ServiceUnavailable.Database', objectStore: 'ServiceUnavailable.ObjectStore', keyStore: 'ServiceUnavailable.KeyStore', redis: 'ServiceUnavailable.Redis' };
function probeWithin(fn: () => Promise<unknown>, ms: number): Promise<unknown> {
  let t: NodeJS.Timeout;
  return Promise.race([fn(), new Promise((_, reject) => { t = setTimeout(() => reject(PROBE_TIMEOUT), ms); })]).finally(() => clearTimeout(t));
}

/** What a request became, for its log line and its metrics (set as the envelope goes out). */
interface CallNote { service: string; action: string; code: string; appId?: number }
const notes = new WeakMap<object, CallNote>();

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function sendEnvelope(reply: FastifyReply, body: Record<string, unknown>, traceId: string | undefined) {
  const req = reply.request;
  const error = body.Error as { Code?: string } | undefined;
  const note = notes.get(req) ?? { service: VERSIONS[header(req, 'x-tc-version') ?? ''] ?? '', action: header(req, 'x-tc-action') ?? '', code: '' };
  note.code = error?.Code ?? 'OK';
  notes.set(req, note);
  if (traceId) reply.header('X-TC-TraceId', traceId);
  // Exactly application/json: the Python SDK only parses errors for that content type.
  // Sent as a Buffer so Fastify does not append "; charset=utf-8".
  reply.code(200).header('content-type', 'application/json').send(Buffer.from(JSON.stringify({ Response: body }), 'utf8'));
}

export async function buildServer(app: ServerDeps, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const listener = listenerLimits(opts.listener);
  // Slow clients must not hold a connection forever (listener-limits.ts); the request line may
  // carry a GET query up to Tencent's 32 KB (Node's default header limit is 16 KiB).
  const lo = listenerOptions(listener);
  const nodeServer = { ...lo.http, maxHeaderSize: GET_QUERY_LIMIT + 8 * 1024 };
  // With TLS, Fastify builds an https server from `https` alone: the same limits go there.
  const tls = app.config.tls ? { https: { cert: fs.readFileSync(app.config.tls.certFile), key: fs.readFileSync(app.config.tls.keyFile), ...nodeServer } } : {};
  const trusted = app.config.trustedProxies;
  const server = Fastify({
    loggerInstance: createRequestLogger(opts.log?.level ?? app.config.logLevel, opts.log?.stream),
    // One id per request: the envelope's RequestId, the running/error logs' and every log line's.
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: false, // never taken from the client: it must be unique
    // One line per request, written in onResponse below.
    logController: new LogController({ requestIdLogLabel: 'RequestId', disableRequestLogging: true }),
    bodyLimit: app.config.bodyLimitBytes,
    // Forwarded client IP, Host and proto only from the listed proxies (FACEVAULT_TRUSTED_PROXIES);
    // from anyone else X-Forwarded-* is ignored, so a client cannot pick the Host it is verified against.
    trustProxy: trusted.length ? trusted : false,
    forceCloseConnections: 'idle',
    ...lo,
    http: nodeServer,
    ...tls,
  });
  dropSilentConnections(server.server, listener.headersTimeoutMs);
  const failures = new AuthFailureLog(app.errorLog, () => app.clock.now());
  const gate = createRequestGate({
    config: app.config, clock: app.clock, accounts: app.accounts, registry: app.registry, nonces: app.nonces, tokens: app.tokens,
    overloaded: overloadCheck(app),
    // Fastify's req.host is X-Forwarded-Host only when the peer is a trusted proxy.
    trustedHost: trusted.length ? (req) => (req.headers['x-forwarded-host'] ? req.host : undefined) : undefined,
  }, failures, sendEnvelope);
  const probes: Record<string, () => Promise<unknown>> = { database: () => app.db.ping(), objectStore: () => app.blobs.ping() };
  if (app.keyStore) { const ks = app.keyStore; probes.keyStore = () => ks.get(0); }
  if (app.redis) { const rd = app.redis; probes.redis = () => rd.ping(); }
  const metrics = new Metrics({ vision: app.vision, fusion: app.fusion, index: app.library?.index, retention: app.retention, dependencies: probes });

  // The request's one log line and its metrics, once the reply is out.
  server.addHook('onResponse', async (req, reply) => {
    const note = notes.get(req);
    const ms = reply.elapsedTime;
    if (note) metrics.observe(note.service, note.action, note.code, ms / 1000);
    const line = { req, statusCode: reply.statusCode, ms: Math.round(ms * 10) / 10, ...(note ? { service: note.service, action: note.action, code: note.code, appId: note.appId } : {}) };
    if (note?.code === 'InternalError') req.log.error(line, 'call failed');
    else req.log.info(line, note ? 'call' : 'request');
  });

  // While shutting down, tell keep-alive clients to go away after their
  // reply; otherwise close() would wait for their idle sockets to time out.
  let closing = false;
  server.addHook('preClose', async () => {
    closing = true;
    // A connection answered before shutdown (refused from its headers) may still be receiving
    // its body; once that ends it sits idle on keep-alive, and close() would wait for it.
    const sweep = setInterval(() => server.server.closeIdleConnections(), 100);
    sweep.unref();
    server.server.once('close', () => clearInterval(sweep));
  });
  server.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  // A spooled upload's temp file goes when the response is done or the connection dropped,
  // whatever happened in between (see upload-spool.ts for failures while it streams in).
  const spoolDir = path.join(app.config.dataDir, 'tmp', 'uploads');
  removeStaleUploads(spoolDir, app.clock.now());
  const spooled = new WeakMap<object, { file: string | null; closed: boolean }>();
  server.addHook('onRequest', async (req, reply) => {
    if (!/^multipart\/form-data/i.test(header(req, 'content-type') ?? '')) return;
    const t = { file: null as string | null, closed: false };
    spooled.set(req.raw, t);
    reply.raw.once('close', () => {
      t.closed = true;
      if (t.file) void fs.promises.rm(t.file, { force: true });
    });
  });

  server.removeAllContentTypeParsers();
  // The signature covers the exact body bytes, so keep them raw and parse JSON ourselves.
  server.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // Uploads may be larger than ordinary calls (which actions accept them is checked in handle()):
  // they stream to a temp file, hashed for the signature on the way, instead of into memory.
  // The limit is the gate's: FACEVAULT_UPLOAD_LIMIT, or the video limit for an upload whose
  // signature it already checked from the headers.
  server.addContentTypeParser(/^multipart\/form-data/i, async (req: FastifyRequest, payload: NodeJS.ReadableStream) => {
    const uploadLimit = gate.uploadLimit(req);
    const declared = Number(header(req, 'content-length'));
    if (declared > uploadLimit) throw uploadTooLarge(uploadLimit);
    const t = spooled.get(req.raw);
    const body = await spoolUpload(payload as import('node:stream').Readable, spoolDir, uploadLimit, (file) => { if (t) t.file = file; });
    if (!t || t.closed) { // no one would remove it later (the request ended while the last bytes were written)
      await fs.promises.rm(body.path, { force: true });
      throw new UploadError('FV_UPLOAD_ABORTED', 'the request ended before the upload was processed', 400);
    }
    return body;
  });

  server.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    const traceId = header(req, 'x-tc-traceid');
    const requestId = req.id;
    let code = 'InternalError';
    let message = 'internal error';
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      code = 'RequestSizeLimitExceeded';
      message = `request body exceeds the limit of ${app.config.bodyLimitBytes} bytes`;
      reply.header('connection', 'close'); // a chunked body may go on forever: do not drain it
    } else if (err.code === 'FV_UPLOAD_TOO_LARGE') {
      code = 'RequestSizeLimitExceeded';
      message = err.message;
      reply.header('connection', 'close'); // the rest of the upload is not worth reading
    } else if (err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' || err.statusCode === 400) {
      code = 'InvalidRequest';
      message = err.message;
    }
    if (req.url === '/' || req.url.startsWith('/?')) {
      // Bodies are read before the signature is checked: whoever sent this is not authenticated.
      failures.record({ requestId, code, message, stage: 'transport', clientIp: req.ip, action: header(req, 'x-tc-action') });
      sendEnvelope(reply, { Error: { Code: code, Message: message }, RequestId: requestId }, traceId);
    } else {
      reply.code(err.statusCode ?? 500).send({ error: message });
    }
  });

  server.get('/healthz', async () => ({ status: 'ok' }));
  metricsRoute(server, app.config.metrics, metrics);
  server.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    let ok = true;
    // In parallel and each bounded: a dependency that hangs makes the node not ready within
    // READY_PROBE_MS instead of hanging the load balancer's probe.
    const results = await Promise.all(Object.entries(probes).map(([name, fn]) => probeWithin(fn, READY_PROBE_MS).then(() => [name, 'ok'] as const, (e: unknown) => {
      // Unauthenticated callers read this: the error's code only, never a host or address.
      const code = e === PROBE_TIMEOUT ? `${PROBE_DEPENDENCY[name] ?? name} (no answer within ${READY_PROBE_MS} ms)` : (e as NodeJS.ErrnoException).code ?? (e as Error).name ?? 'failed';
      return [name, `error: ${code}`] as const;
    })));
    for (const [name, v] of results) {
      checks[name] = v;
      if (v !== 'ok') ok = false;
    }
    // Models: "idle" (loads on first use) does not block readiness; loading or failed does, and
    // ready means every default model (optional tasks too) is loaded in every worker.
    const v = app.vision.status();
    checks.models = v.state === 'ready' ? (v.allLoaded ? 'ok' : 'loading (core models serve; optional models still loading)') : v.state === 'failed' ? `error: ${v.error}` : v.state;
    if (v.state === 'loading' || v.state === 'failed' || (v.state === 'ready' && !v.allLoaded)) ok = false;
    const w = workerReadiness(app);
    checks.workers = w.detail;
    if (!w.ok) ok = false;
    // The search index: a node that has not loaded it would hold every search until it has.
    if (app.library) {
      const ix = indexReadiness(app.library.index.loadStatus());
      checks.index = ix.detail;
      if (!ix.ok) ok = false;
    }
    reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
  });

  // POST (JSON, multipart, or a v1 form) and GET (the query form) share one path.
  const api = async (req: FastifyRequest, reply: FastifyReply) => {
    const traceId = header(req, 'x-tc-traceid');
    const a: Attempt = {
      requestId: req.id, started: performance.now(), service: '', action: header(req, 'x-tc-action') ?? '',
      region: header(req, 'x-tc-region') || app.config.region, auth: null, key: null, params: undefined, ctx: null,
    };
    try {
      const pre = gate.passed(req);
      a.action = pre.action;
      a.region = pre.region || app.config.region;
      a.key = { secretId: pre.secretId, appId: pre.key.caller.appId };
      const response = await handle(app, gate, req, a, pre);
      await recordCall(app, failures, req, a, null);
      sendEnvelope(reply, { ...response, RequestId: a.requestId }, traceId);
    } catch (e) {
      const err = e instanceof TcError ? e : null;
      const code = err ? err.code : 'InternalError';
      const message = err ? err.message : 'an internal error occurred; the request changed nothing';
      // The stack goes to the error log only; stdout gets the message, URLs redacted.
      if (!err) req.log.error({ err: { type: (e as Error)?.name, message: safeMessage(String((e as Error)?.message ?? e)) } }, 'internal error');
      await recordCall(app, failures, req, a, { code, message, stack: err ? undefined : (e as Error)?.stack });
      sendEnvelope(reply, { Error: { Code: code, Message: message }, RequestId: a.requestId }, traceId);
    }
    return reply;
  };
  server.post('/', { onRequest: gate.onRequest, preHandler: gate.preHandler }, api);
  // No automatic HEAD twin: a HEAD would run the action and drop its answer.
  server.get('/', { onRequest: gate.onRequest, exposeHeadRoute: false }, api);

  // Capabilities that serve plain HTTP (signed result URLs, uploads) add their routes.
  for (const routes of app.httpRoutes) await routes(server);
  return server;
}

// Fields that carry an image into the inference pool.
const IMAGE_FIELD = /^(Image|Url)[AB]?$|^(Model|Input)(Image|Url)$|^MergeInfos$|^Images$|^Urls$/;

/**
 * Past the knee, image requests are refused from their headers: once the inference queue is
 * full, reading, hashing and decoding a multi-megabyte body only to refuse it would spend the
 * event loop that management calls and /healthz need. (Requests that pass here may still be
 * refused by the pool itself when it fills in the meantime.)
 */
function overloadCheck(app: ServerDeps): (service: ServiceName, action: string) => string | null {
  const usesImages = new Map<string, boolean>();
  return (service, action) => {
    const k = `${service}:${action}`;
    let uses = usesImages.get(k);
    if (uses === undefined) {
      uses = Object.keys(app.registry.get(service, action)?.params ?? {}).some((f) => IMAGE_FIELD.test(f));
      usesImages.set(k, uses);
    }
    if (!uses) return null;
    const h = app.vision.health()[0];
    if (!h || h.maxQueue === null || h.queued < h.maxQueue) return null;
    return `the server is at capacity (${h.queued} image analysis task(s) already waiting); retry later with backoff`;
  };
}

async function handle(app: ServerDeps, gate: RequestGate, req: FastifyRequest, a: Attempt, pre: Preauth): Promise<Record<string, unknown>> {
  // Action, version, Authorization, timestamp and SecretId were checked before the body was read (request-gate.ts).
  a.service = pre.service;
  const auth = await gate.verify(req, pre);
  notes.set(req, { service: pre.service, action: a.action, code: '', appId: auth.caller.appId });
  const def = authorizeCall(app, a, auth, pre.service, pre.version);

  const body = req.body;
  if (pre.formParams) {
    // Query or form parameters: every value a string; the declaration decides which are numbers.
    return runCall(def, a, pre.formParams, req.ip, pre.secretId, (p) => parseFormParams(p, (x) => def.parse(x)));
  }
  if (req.method === 'POST' && /^application\/x-www-form-urlencoded/i.test(header(req, 'content-type') ?? '') && Buffer.isBuffer(body) && body.length > 0) {
    // A TC3-signed form body (unusual, but Tencent's gateway takes it): the same rebuilding.
    const p = unflatten(formFields(body.toString('utf8')));
    return runCall(def, a, p, req.ip, pre.secretId, (q) => parseFormParams(q, (x) => def.parse(x)));
  }
  const uploads = () => app.registry.declarations().filter((d) => d.upload).map((d) => `${d.owner}:${d.name}`).join(', ');
  const params = await bodyParams(req, def, app.config.bodyLimitBytes, isSpooled(body) && !def.upload ? ` (larger multipart uploads are for ${uploads()})` : '');
  return runCall(def, a, params, req.ip, pre.secretId);
}

/**
 * Spooled uploads left by a crash. Only files older than any request can live (requestTimeout
 * is 120 s) go, so another process sharing the data dir keeps its in-flight uploads.
 */
function removeStaleUploads(dir: string, now: number): void {
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return; }
  for (const n of names) {
    const f = path.join(dir, n);
    try {
      if (now - fs.statSync(f).mtimeMs > 10 * 60_000) fs.rmSync(f, { force: true });
    } catch { /* gone meanwhile */ }
  }
}
