// What can be refused from the headers alone is refused before the body is read: a body
// size over the limit, a missing or unknown action/version, a missing or malformed
// Authorization, an expired timestamp and an unknown SecretId. So an unauthenticated client
// cannot make the server read, spool or parse its body; it gets the Tencent envelope and, if
// a large body is still coming, the connection is closed. Only the signature needs the body
// (verifySignature, once it is in).
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { Clock } from '../../domain/clock.ts';
import type { ServiceName } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import type { AccountsService, Authenticated } from '../../services/accounts/accounts.ts';
import { ACTIONS, VERSIONS } from '../actions/table.ts';
import type { ActionRegistry } from '../actions/registry.ts';
import type { AuthFailureLog } from './auth-failure-log.ts';
import { isSpooled } from './upload-spool.ts';
import { parseAuthorization, utcDate, verifyTc3, type ParsedAuthorization } from './tc3-signature.ts';

const MAX_SKEW_SECONDS = 300;
/** Actions that take a file part in a multipart/form-data body, up to FACEVAULT_UPLOAD_LIMIT. */
/** What the gate reads: limits, the clock, the keys and which actions take uploads. */
export interface GateDeps {
  config: Pick<Config, 'bodyLimitBytes' | 'uploadLimitBytes' | 'requireSignedAction'>;
  clock: Clock;
  accounts: Pick<AccountsService, 'authenticate'>;
  registry: Pick<ActionRegistry, 'get' | 'declarations'>;
  /**
   * Overload shed before the body is read: a refusal message when this action's image work
   * could not even queue now (the inference queue is at FACEVAULT_MAX_QUEUE), else null. The
   * body of a refused request is then never hashed, parsed or decoded.
   */
  overloaded?(service: ServiceName, action: string): string | null;
}
/** Up to this much of a refused body is read and discarded so the connection can be kept; more, and it is closed. */
const DRAIN_BYTES = 64 * 1024;

export interface Preauth {
  service: ServiceName;
  action: string;
  auth: ParsedAuthorization;
  timestamp: number;
  /** The key named by the SecretId; the caller is authenticated only once verifySignature passed. */
  key: Authenticated;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export const isMultipart = (req: FastifyRequest) => /^multipart\/form-data/i.test(header(req, 'content-type') ?? '');

type Send = (reply: FastifyReply, body: Record<string, unknown>, traceId: string | undefined) => void;

export interface RequestGate {
  /** onRequest hook of `POST /`. */
  onRequest(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /** What onRequest established for a request it let through. */
  passed(req: FastifyRequest): Preauth;
}

export function createRequestGate(app: GateDeps, failures: AuthFailureLog, send: Send): RequestGate {
  const checked = new WeakMap<object, Preauth>();
  const bodyLimit = app.config.bodyLimitBytes;
  const uploads = () => app.registry.declarations().filter((d) => d.upload).map((d) => `${d.owner}:${d.name}`).join(', ');
  const uploadLimit = Math.max(app.config.uploadLimitBytes, app.config.bodyLimitBytes);

  async function check(req: FastifyRequest, seen: { service: string; action: string; secretId?: string; appId?: number }): Promise<Preauth> {
    const action = seen.action;
    const version = header(req, 'x-tc-version');
    const service = version ? (VERSIONS[version] as ServiceName | undefined) : undefined;
    seen.service = service ?? '';

    const declared = header(req, 'content-length');
    if (declared !== undefined && /^\d+$/.test(declared)) {
      const n = Number(declared);
      if (isMultipart(req) && service && app.registry.get(service, action)?.upload) {
        if (n > uploadLimit) throw new TcError('RequestSizeLimitExceeded', `the multipart body exceeds the upload limit of ${uploadLimit} bytes`);
      } else if (n > bodyLimit) {
        throw new TcError('RequestSizeLimitExceeded', `request body exceeds the limit of ${bodyLimit} bytes${isMultipart(req) ? ` (larger multipart uploads are for ${uploads()})` : ''}`);
      }
    }

    if (!action) throw new TcError('MissingParameter', 'the X-TC-Action header is required');
    if (!version) throw new TcError('MissingParameter', 'the X-TC-Version header is required');
    if (!service) throw new TcError('NoSuchVersion', `version ${version.slice(0, 32)} is not supported; use one of ${Object.keys(VERSIONS).join(', ')}`);
    if (!ACTIONS[service].has(action)) throw new TcError('InvalidAction', `action ${action.slice(0, 64)} does not exist in ${service} ${version}`);

    const auth = parseAuthorization(header(req, 'authorization'));
    if (!auth) throw new TcError('AuthFailure.InvalidAuthorization', 'the Authorization header is missing or is not a TC3-HMAC-SHA256 authorization');
    seen.secretId = auth.secretId;
    const signed = auth.signedHeaders;
    if (!signed.includes('content-type') || !signed.includes('host')) throw new TcError('AuthFailure.InvalidAuthorization', 'SignedHeaders must include content-type and host');
    if (app.config.requireSignedAction && !signed.includes('x-tc-action')) {
      throw new TcError('AuthFailure.InvalidAuthorization', 'SignedHeaders must include x-tc-action: this server refuses signatures that do not cover the action (FACEVAULT_REQUIRE_SIGNED_ACTION)');
    }

    const tsText = header(req, 'x-tc-timestamp');
    if (!tsText || !/^\d{1,12}$/.test(tsText)) throw new TcError('MissingParameter', 'the X-TC-Timestamp header is required (unix seconds)');
    const ts = Number(tsText);
    const now = Math.floor(app.clock.now() / 1000);
    if (Math.abs(now - ts) > MAX_SKEW_SECONDS) throw new TcError('AuthFailure.SignatureExpire', `the request timestamp ${ts} is more than ${MAX_SKEW_SECONDS} seconds from the server time ${now}`);
    if (auth.date !== utcDate(ts)) throw new TcError('AuthFailure.SignatureFailure', `the credential scope date ${auth.date} is not the UTC date of X-TC-Timestamp`);

    const key = await app.accounts.authenticate(auth.secretId);
    seen.appId = key.caller.appId;
    const busy = app.overloaded?.(service, action);
    if (busy) throw new TcError('RequestLimitExceeded', busy);
    return { service, action, auth, timestamp: ts, key };
  }

  return {
    async onRequest(req, reply) {
      const seen: { service: string; action: string; secretId?: string; appId?: number } = { service: '', action: header(req, 'x-tc-action') ?? '' };
      try {
        checked.set(req.raw, await check(req, seen));
        return undefined;
      } catch (e) {
        const err = e instanceof TcError ? e : null;
        const code = err ? err.code : 'InternalError';
        const message = err ? err.message : 'an internal error occurred; the request changed nothing';
        const requestId = req.id; // the same id as the request's log line
        // Shed load is not an authentication failure (it is counted in /metrics instead).
        if (code !== 'RequestLimitExceeded') failures.record({ requestId, code, message: err ? message : `${message}: ${(e as Error)?.message}`, clientIp: req.ip, stage: 'authentication', ...seen });
        if (largeBodyPending(req)) reply.header('connection', 'close');
        send(reply, { Error: { Code: code, Message: message }, RequestId: requestId }, header(req, 'x-tc-traceid'));
        return reply;
      }
    },
    passed(req) {
      const p = checked.get(req.raw);
      if (!p) throw new TcError('InternalError', 'the request skipped the header checks');
      return p;
    },
  };
}

/** A body still to come that is not worth reading: Node would drain it after the reply unless the connection closes. */
function largeBodyPending(req: FastifyRequest): boolean {
  const declared = header(req, 'content-length');
  if (declared !== undefined) return Number(declared) > DRAIN_BYTES;
  return header(req, 'transfer-encoding') !== undefined;
}

/** The caller is authenticated once the signature over the headers it lists and the body it sent holds. */
export function verifySignature(req: FastifyRequest, pre: Preauth): Authenticated {
  const body = req.body;
  const payloadHash = isSpooled(body) ? body.sha256 : crypto.createHash('sha256').update(Buffer.isBuffer(body) ? body : Buffer.alloc(0)).digest('hex');
  const ok = verifyTc3({
    secretKey: pre.key.secretKey, service: pre.auth.service, timestamp: pre.timestamp, signedHeaders: pre.auth.signedHeaders,
    value: (n) => header(req, n) ?? '', payloadHash, unsignedPayload: header(req, 'x-tc-content-sha256') === 'UNSIGNED-PAYLOAD', signature: pre.auth.signature,
  });
  if (!ok) throw new TcError('AuthFailure.SignatureFailure', 'the provided credentials could not be validated; check your signature is correct');
  return pre.key;
}
