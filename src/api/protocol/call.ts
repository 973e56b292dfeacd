// One action call once the caller is known: region, policy, declaration, parse, handler, then
// the running-log and error-log records. Shared by `POST /` (TC3-signed API calls) and the
// console's /console/api/call (session-authenticated), so both authorise with the same policy
// code, run the same declarations and land in the same logs.
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { Clock } from '../../domain/clock.ts';
import type { CallContext, ServiceName } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import { redactParams } from '../../services/logs/redact.ts';
import type { ErrorLog, RunningLog } from '../../services/logs/call-logs.ts';
import type { AccountsService, Authenticated } from '../../services/accounts/accounts.ts';
import { ownerOf } from '../actions/table.ts';
import type { ActionRegistry } from '../actions/registry.ts';
import type { CompiledAction } from '../actions/define.ts';
import type { AuthFailureLog } from './auth-failure-log.ts';
import { isSpooled } from './upload-spool.ts';
import { multipartBoundary, parseMultipartFile } from './multipart.ts';

export interface CallDeps {
  config: Pick<Config, 'region'>;
  clock: Clock;
  accounts: Pick<AccountsService, 'authorize'>;
  registry: Pick<ActionRegistry, 'get'>;
  runningLog: Pick<RunningLog, 'append'>;
  errorLog: Pick<ErrorLog, 'append'>;
}

export interface Attempt {
  requestId: string;
  started: number;
  service: string;
  action: string;
  region: string;
  auth: Authenticated | null;
  /** The key the request names, before its signature is known to hold. */
  key: { secretId: string; appId: number } | null;
  params: unknown;
  ctx: CallContext | null;
}

/** Region, policy (the action's owner: api/actions/table.ts ownerOf) and the declaration. */
export function authorizeCall(app: CallDeps, a: Attempt, auth: Authenticated, service: ServiceName, version?: string): CompiledAction {
  a.service = service;
  a.auth = auth;
  if (a.region !== app.config.region) throw new TcError('UnsupportedRegion', `region ${a.region} is not served here; this deployment serves ${app.config.region} only`);
  app.accounts.authorize(auth, ownerOf(service, a.action), a.action);
  // An older API version answers with its own declaration where it has one (iai 2018-03-01 …).
  const def = app.registry.get(service, a.action, version);
  if (!def) throw new TcError('UnsupportedOperation', `${service}:${a.action} is not implemented by this server yet`);
  return def;
}

/**
 * Parses the request object with the declaration and runs its handler. facevault's own admin
 * extensions (keys, privacy, usage) are never billed; handlers of the Tencent actions unset
 * `billed` themselves when, as Tencent bills, a call found nothing.
 */
export function runCall(
  def: CompiledAction, a: Attempt, params: unknown, clientIp: string, secretId?: string,
  /** Query and form parameters arrive as strings: their parse converts by the declaration. */
  parse: (p: Record<string, unknown>) => Record<string, unknown> = (p) => def.parse(p),
): Promise<Record<string, unknown>> {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new TcError('InvalidParameter', 'the request body must be a JSON object');
  a.params = params;
  a.ctx = { caller: a.auth!.caller, requestId: a.requestId, clientIp, region: a.region, service: a.service as ServiceName, action: a.action, ...(secretId ? { secretId } : {}), record: { billed: def.owner !== 'facevault' } };
  return def.handle(a.ctx, parse(params as Record<string, unknown>));
}

export async function recordCall(app: CallDeps, failures: AuthFailureLog, req: FastifyRequest, a: Attempt, error: { code: string; message: string; stack?: string } | null) {
  const now = app.clock.now();
  const latencyMs = performance.now() - a.started;
  if (!a.auth) {
    // Not authenticated (the signature failed): no account to bill or log for, and no body is kept.
    const key = a.key;
    failures.record({ requestId: a.requestId, code: error?.code ?? 'InternalError', message: error?.message ?? '', stage: 'authentication', clientIp: req.ip, service: a.service, action: a.action, secretId: key?.secretId, appId: key?.appId });
    return;
  }
  const caller = a.auth.caller;
  const rec = a.ctx?.record;
  try {
    await app.runningLog.append({
      requestId: a.requestId, time: now, appId: caller?.appId ?? null, uin: caller?.uin ?? null, subUin: caller?.subUin ?? null,
      clientIp: req.ip, service: a.service || 'unknown', action: a.action || 'unknown', region: a.region,
      // As Tencent bills: failed calls are free, and handlers unset `billed` when no face was found.
      billed: !error && (rec?.billed ?? false), code: error?.code ?? '', latencyMs,
      personId: rec?.personId, endUserId: rec?.endUserId, result: rec?.result,
    });
  } catch (e) {
    // A failing log must not turn a served request into an error; it is reported below.
    app.errorLog.append({ time: now, requestId: a.requestId, code: 'InternalError', message: `running log write failed: ${(e as Error).message}` });
  }
  if (error) {
    app.errorLog.append({
      time: now, requestId: a.requestId, appId: caller?.appId ?? null, uin: caller?.uin ?? null, subUin: caller?.subUin ?? null,
      region: a.region, service: a.service, action: a.action, clientIp: req.ip, latencyMs: Math.round(latencyMs),
      params: redactParams(a.params ?? bestEffortParams(req.body)), code: error.code, message: error.message, stack: error.stack,
    });
  }
}

/** For failures before the body was parsed (auth, region): log what it was, redacted. */
function bestEffortParams(body: unknown): unknown {
  if (isSpooled(body)) return { unparsedBody: { bytes: body.size } };
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return { unparsedBody: { bytes: body.length } };
  }
}

/**
 * The request body as the action's parameters, once the caller is known: a spooled multipart
 * upload parsed in place (small file parts read back, large ones left in the file), or JSON; none is {}. `tooLargeHint`
 * ends the message of a multipart body over the limit for an action that takes no uploads.
 */
export async function bodyParams(req: FastifyRequest, def: CompiledAction, bodyLimitBytes: number, tooLargeHint = ''): Promise<unknown> {
  const body = req.body;
  if (isSpooled(body)) {
    const ct = req.headers['content-type'];
    const boundary = multipartBoundary((Array.isArray(ct) ? ct[0] : ct) ?? '');
    if (!boundary) throw new TcError('InvalidParameter', 'the multipart/form-data Content-Type declares no boundary');
    if (!def.upload && body.size > bodyLimitBytes) throw new TcError('RequestSizeLimitExceeded', `request body exceeds the limit of ${bodyLimitBytes} bytes${tooLargeHint}`);
    return parseMultipartFile(body.path, boundary);
  }
  if (Buffer.isBuffer(body) && body.length > 0) {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new TcError('InvalidParameter', `the request body is not valid JSON: ${(e as Error).message}`);
    }
  }
  return {};
}
