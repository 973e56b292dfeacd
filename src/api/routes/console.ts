// The web console at /console: its built front end (console/, served from memory) and the small
// JSON API it talks to. Sign-in exchanges a SecretId/SecretKey pair for an HttpOnly,
// SameSite=Strict session cookie (services/accounts/console-sessions.ts); every other call
// carries that cookie plus a CSRF header token, and runs through the same authorisation,
// declarations and logs as a TC3-signed API call (api/protocol/call.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceName } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import { ConsoleSessions, type LiveSession } from '../../services/accounts/console-sessions.ts';
import { ownerOf, VERSIONS } from '../actions/table.ts';
import type { ActionRegistry } from '../actions/registry.ts';
import { AuthFailureLog } from '../protocol/auth-failure-log.ts';
import { authorizeCall, bodyParams, recordCall, runCall, type Attempt, type CallDeps } from '../protocol/call.ts';

export interface ConsoleDeps extends CallDeps {
  sessions: ConsoleSessions;
  accounts: CallDeps['accounts'];
  registry: Pick<ActionRegistry, 'get' | 'declarations'>;
  /** The built front end (console/dist), or null when it was not built. */
  assetsDir: string | null;
  config: CallDeps['config'] & { bodyLimitBytes: number; uploadLimitBytes: number; publicUrl: string | null };
}

export const SESSION_COOKIE = 'fv_console';
export const CSRF_HEADER = 'x-fv-csrf';

/**
 * Sent on every console response. Scripts and styles only from this origin (no inline script,
 * no eval); images the user drops are shown from blob:/data: URLs made in the page and sent
 * only to this origin (connect-src 'self'); never framed.
 */
export function securityHeaders(publicUrl: string | null): Record<string, string> {
  const results = publicUrl ? ` ${new URL(publicUrl).origin}` : '';
  return {
    'content-security-policy': [
      "default-src 'none'", "script-src 'self'", "style-src 'self'", `img-src 'self' data: blob:${results}`, `media-src 'self' blob:${results}`,
      "connect-src 'self'", "font-src 'self'", "manifest-src 'self'", "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
};

interface Asset { body: Buffer; type: string; etag: string }

/** Reads the built front end into memory: a few hundred KB, and no path from a URL ever reaches the file system. */
export function loadAssets(dir: string | null): Map<string, Asset> {
  const out = new Map<string, Asset>();
  if (!dir || !fs.existsSync(path.join(dir, 'index.html'))) return out;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else {
        const body = fs.readFileSync(f);
        const rel = path.relative(dir, f).split(path.sep).join('/');
        out.set(rel, { body, type: TYPES[path.extname(f)] ?? 'application/octet-stream', etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
      }
    }
  };
  walk(dir);
  return out;
}

function cookie(req: FastifyRequest, name: string): string | undefined {
  const h = req.headers.cookie;
  if (!h) return undefined;
  for (const part of h.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

const header = (req: FastifyRequest, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** A cross-site page can neither read our responses nor send JSON without a preflight; also refuse a foreign Origin outright. */
function sameOrigin(req: FastifyRequest): boolean {
  const origin = header(req, 'origin');
  if (!origin) return true;
  try {
    return new URL(origin).host === header(req, 'host');
  } catch {
    return false;
  }
}

type ApiError = { status: number; code: string; message: string };
const fail = (reply: FastifyReply, e: ApiError, requestId = crypto.randomUUID()) =>
  reply.code(e.status).header('content-type', 'application/json').send(JSON.stringify({ Response: { Error: { Code: e.code, Message: e.message }, RequestId: requestId } }));

const NOT_SIGNED_IN: ApiError = { status: 401, code: 'AuthFailure.SessionExpired', message: 'not signed in, or the session ended; sign in again' };
const BAD_CSRF: ApiError = { status: 403, code: 'AuthFailure.InvalidCsrfToken', message: `the ${CSRF_HEADER} header is missing or does not belong to this session` };

/** The one version each owner answers under; admin extensions answer under every version, the console uses iai's. */
const VERSION_OF: Record<string, string> = Object.fromEntries(Object.entries(VERSIONS).map(([v, s]) => [s, v]));

export function consoleRoutes(deps: ConsoleDeps): (server: FastifyInstance) => Promise<void> {
  const assets = loadAssets(deps.assetsDir);
  const headers = securityHeaders(deps.config.publicUrl);
  const secure = deps.config.publicUrl?.startsWith('https://') ?? false;
  const failures = new AuthFailureLog(deps.errorLog, () => deps.clock.now());
  const sessionOf = new WeakMap<object, LiveSession>();

  const setCookie = (reply: FastifyReply, value: string, maxAgeS: number) =>
    reply.header('set-cookie', `${SESSION_COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`);

  /** onRequest of every API route but sign-in: a live session and its CSRF token, before any body is read. */
  const requireSession = async (req: FastifyRequest, reply: FastifyReply) => {
    const token = cookie(req, SESSION_COOKIE);
    const s = await deps.sessions.resolve(token);
    if (!s || !token) return fail(reply, NOT_SIGNED_IN);
    if (req.method !== 'GET' && (!sameOrigin(req) || !ConsoleSessions.csrfMatches(token, header(req, CSRF_HEADER)))) return fail(reply, BAD_CSRF);
    sessionOf.set(req.raw, s);
  };

  const user = (s: LiveSession) => ({ AppId: s.auth.caller.appId, Uin: s.auth.caller.uin, SubUin: s.auth.caller.subUin, IsRoot: s.auth.isRoot, SecretId: s.secretId, ExpiresAt: new Date(s.expiresAt).toISOString() });

  return async (root) => {
    await root.register(async (server) => {
      server.addHook('onSend', async (_req, reply, payload) => {
        for (const [k, v] of Object.entries(headers)) reply.header(k, v);
        return payload;
      });

      server.post<{ Body: Buffer }>('/console/api/sign-in', async (req, reply) => {
        reply.header('cache-control', 'no-store');
        if (!sameOrigin(req)) return fail(reply, { status: 403, code: 'AuthFailure', message: 'sign-in from another origin is refused' });
        let b: { SecretId?: unknown; SecretKey?: unknown };
        try {
          b = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
        } catch {
          return fail(reply, { status: 400, code: 'InvalidParameter', message: 'the body must be JSON {"SecretId", "SecretKey"}' });
        }
        if (typeof b?.SecretId !== 'string' || typeof b.SecretKey !== 'string' || !b.SecretId || !b.SecretKey || b.SecretId.length > 128 || b.SecretKey.length > 128) {
          return fail(reply, { status: 400, code: 'MissingParameter', message: 'SecretId and SecretKey are required' });
        }
        try {
          const s = await deps.sessions.signIn(b.SecretId, b.SecretKey, req.ip);
          setCookie(reply, s.token, Math.ceil(deps.sessions.limits.ttlMs / 1000));
          return reply.header('content-type', 'application/json').send(JSON.stringify({ User: user({ auth: s.auth, secretId: s.secretId, expiresAt: s.expiresAt }), CsrfToken: s.csrf }));
        } catch (e) {
          const err = e instanceof TcError ? e : new TcError('InternalError', 'sign-in failed');
          const requestId = crypto.randomUUID();
          failures.record({ requestId, code: err.code, message: err.message, stage: 'authentication', clientIp: req.ip, action: 'console.signin' });
          return fail(reply, { status: err.code === 'RequestLimitExceeded' ? 429 : 401, code: err.code, message: err.message }, requestId);
        }
      });

      // Public: what the sign-in page tells the user about sessions.
      server.get('/console/api/config', async (_req, reply) =>
        reply.header('cache-control', 'no-store').send({ SessionTtlSeconds: Math.round(deps.sessions.limits.ttlMs / 1000), IdleTimeoutSeconds: Math.round(deps.sessions.limits.idleMs / 1000) }));

      server.get('/console/api/session', { onRequest: requireSession }, async (req, reply) => {
        const s = sessionOf.get(req.raw)!;
        const token = cookie(req, SESSION_COOKIE)!;
        return reply.header('cache-control', 'no-store').send({ User: user(s), CsrfToken: ConsoleSessions.csrfFor(token) });
      });

      server.post('/console/api/sign-out', { onRequest: requireSession }, async (req, reply) => {
        await deps.sessions.signOut(cookie(req, SESSION_COOKIE));
        setCookie(reply, '', 0);
        return reply.header('cache-control', 'no-store').send({ SignedOut: true });
      });

      // What this key may call: the console offers nothing else. The same authorize() as the API.
      server.get('/console/api/actions', { onRequest: requireSession }, async (req, reply) => {
        const s = sessionOf.get(req.raw)!;
        const seen = new Set<string>();
        const Actions: { Service: string; Action: string; Version: string }[] = [];
        for (const d of deps.registry.declarations()) {
          const owner = d.owner;
          if (seen.has(`${owner}:${d.name}`)) continue;
          seen.add(`${owner}:${d.name}`);
          try {
            deps.accounts.authorize(s.auth, ownerOf(owner === 'facevault' ? 'iai' : owner, d.name), d.name);
          } catch { continue; }
          Actions.push({ Service: owner, Action: d.name, Version: VERSION_OF[owner === 'facevault' ? 'iai' : owner] });
        }
        Actions.sort((a, b) => a.Service.localeCompare(b.Service) || a.Action.localeCompare(b.Action));
        return reply.header('cache-control', 'no-store').send({ Actions });
      });

      // An action call: X-TC-Action / X-TC-Version headers as on the API, the body the action's
      // parameters (JSON, or multipart/form-data for upload actions), the Tencent envelope back.
      server.post('/console/api/call', {
        onRequest: async (req, reply) => {
          await requireSession(req, reply);
          if (reply.sent) return;
          const declared = Number(header(req, 'content-length'));
          const service = VERSIONS[header(req, 'x-tc-version') ?? ''] as ServiceName | undefined;
          const upload = !!service && !!deps.registry.get(service, header(req, 'x-tc-action') ?? '')?.upload && /^multipart\/form-data/i.test(header(req, 'content-type') ?? '');
          const limit = upload ? Math.max(deps.config.uploadLimitBytes, deps.config.bodyLimitBytes) : deps.config.bodyLimitBytes;
          if (declared > limit) {
            reply.header('connection', 'close');
            return fail(reply, { status: 413, code: 'RequestSizeLimitExceeded', message: `request body exceeds the limit of ${limit} bytes` });
          }
        },
      }, async (req, reply) => {
        const s = sessionOf.get(req.raw)!;
        const a: Attempt = {
          requestId: crypto.randomUUID(), started: performance.now(), service: '', action: header(req, 'x-tc-action') ?? '',
          region: header(req, 'x-tc-region') || deps.config.region, auth: null, key: { secretId: s.secretId, appId: s.auth.caller.appId }, params: undefined, ctx: null,
        };
        reply.header('cache-control', 'no-store');
        try {
          const version = header(req, 'x-tc-version');
          const service = version ? (VERSIONS[version] as ServiceName | undefined) : undefined;
          if (!a.action) throw new TcError('MissingParameter', 'the X-TC-Action header is required');
          if (!service) throw new TcError('InvalidParameterValue', `X-TC-Version: must be one of ${Object.keys(VERSIONS).join(', ')}`);
          const def = authorizeCall(deps, a, s.auth, service);
          const params = await bodyParams(req, def, deps.config.bodyLimitBytes);
          const response = await runCall(def, a, params, req.ip);
          await recordCall(deps, failures, req, a, null);
          return reply.header('content-type', 'application/json').send(JSON.stringify({ Response: { ...response, RequestId: a.requestId } }));
        } catch (e) {
          const err = e instanceof TcError ? e : null;
          const code = err ? err.code : 'InternalError';
          const message = err ? err.message : 'an internal error occurred; the request changed nothing';
          if (!a.auth) a.auth = s.auth; // the session is authenticated even when the call failed early
          await recordCall(deps, failures, req, a, { code, message, stack: err ? undefined : (e as Error)?.stack });
          return reply.header('content-type', 'application/json').send(JSON.stringify({ Response: { Error: { Code: code, Message: message }, RequestId: a.requestId } }));
        }
      });

      // The front end: hashed assets cached for good, index.html never (it names the current assets).
      const page = async (req: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => {
        const rel = req.params['*'] ?? '';
        let a = assets.get(rel);
        let name = rel;
        if (!a && !rel.startsWith('assets/') && !rel.startsWith('api/')) { a = assets.get('index.html'); name = 'index.html'; } // client-side routes
        if (!a) {
          if (!assets.size) {
            return reply.code(503).header('content-type', 'text/plain; charset=utf-8')
              .send('The console is not built. Run "npm run build:console" (npm ci does it), then restart the server.');
          }
          return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('not found');
        }
        reply.header('cache-control', name === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable').header('etag', a.etag);
        if (header(req, 'if-none-match') === a.etag) return reply.code(304).send();
        return reply.header('content-type', a.type).send(a.body);
      };
      server.get('/console', async (_req, reply) => reply.redirect('/console/', 302));
      server.get('/console/', page);
      server.get('/console/*', page);
    });
  };
}

/** console/dist beside the package (src/api/routes -> repository root). */
export function defaultConsoleDir(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', 'console', 'dist');
}
