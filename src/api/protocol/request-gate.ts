// What can be refused from the headers alone is refused before the body is read: a body
// size over the limit, a missing or unknown action/version, a missing or malformed
// Authorization, an expired timestamp and an unknown SecretId. So an unauthenticated client
// cannot make the server read, spool or parse its body; it gets the Tencent envelope and, if
// a large body is still coming, the connection is closed. Only the signature needs the body
// (verify, once it is in). A v1 request (HmacSHA1/HmacSHA256) carries these as fields: of the
// query for GET (checked here too), of the form body for POST (checked once that is read,
// bounded by the ordinary body limit).
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import type { Clock } from '../../domain/clock.ts';
import type { ServiceName } from '../../domain/call.ts';
import { TcError } from '../../domain/errors.ts';
import type { AccountsService, Authenticated } from '../../services/accounts/accounts.ts';
import { VERSION_ACTIONS, VERSIONS } from '../actions/table.ts';
import type { ActionRegistry } from '../actions/registry.ts';
import type { AuthFailureLog } from './auth-failure-log.ts';
import { isSpooled } from './upload-spool.ts';
import { EMPTY_PAYLOAD_HASH, parseAuthorization, utcDate, verifyTc3, type ParsedAuthorization } from './tc3-signature.ts';
import { V1_COMMON_FIELDS, V1_METHODS, verifyV1, type V1Method } from './v1-signature.ts';
import { formFields, unflatten } from './form-params.ts';
import { MemoryNonceStore, type NonceStore } from './nonce-cache.ts';
import type { FederationTokens } from '../../services/accounts/federation.ts';

const MAX_SKEW_SECONDS = 300;
/** Tencent: POST with the v1 signature ≤ 1 MB. */
export const V1_BODY_LIMIT = 1024 * 1024;
/** Tencent: a GET request's query ≤ 32 KB. */
export const GET_QUERY_LIMIT = 32 * 1024;
/** What the gate reads: limits, the clock, the keys and which actions take uploads. */
export interface GateDeps {
  config: Pick<Config, 'bodyLimitBytes' | 'uploadLimitBytes' | 'videoUploadLimitBytes' | 'requireSignedAction'>;
  clock: Clock;
  accounts: Pick<AccountsService, 'authenticate'>;
  /** Temporary credentials (X-TC-Token / v1 Token); without it a token is refused. */
  tokens?: Pick<FederationTokens, 'authenticate'>;
  registry: Pick<ActionRegistry, 'get' | 'declarations'>;
  /**
   * Overload shed before the body is read: a refusal message when this action's image work
   * could not even queue now (the inference queue is at FACEVAULT_MAX_QUEUE), else null. The
   * body of a refused request is then never hashed, parsed or decoded.
   */
  overloaded?(service: ServiceName, action: string): string | null;
  /** v1 nonces seen within the window (default: in this process's memory). */
  nonces?: NonceStore;
  /** The Host a trusted proxy forwarded (X-Forwarded-Host), if any (FACEVAULT_TRUSTED_PROXIES). */
  trustedHost?: (req: FastifyRequest) => string | undefined;
}
/** Up to this much of a refused body is read and discarded so the connection can be kept; more, and it is closed. */
const DRAIN_BYTES = 64 * 1024;

/** How the request was signed: TC3 (Authorization header) or v1 (Signature among the fields). */
export type Signing =
  | { kind: 'tc3'; auth: ParsedAuthorization }
  | { kind: 'v1'; signatureMethod: V1Method; fields: Record<string, string> };

export interface Preauth {
  service: ServiceName;
  /** The X-TC-Version (or v1 Version) the call names: the registry serves older versions their own declarations. */
  version: string;
  action: string;
  method: 'GET' | 'POST';
  signing: Signing;
  secretId: string;
  timestamp: number;
  /** X-TC-Region or the v1 Region field ('' when absent). */
  region: string;
  /** The action's parameters when they came as a query or form (flattened, rebuilt); null for a JSON or multipart body. */
  formParams: Record<string, unknown> | null;
  /** The key named by the SecretId; the caller is authenticated only once verify() passed. */
  key: Authenticated;
  /**
   * The most a multipart upload body may have: FACEVAULT_UPLOAD_LIMIT, or FACEVAULT_VIDEO_UPLOAD_LIMIT
   * when the signature was already checked from the headers (X-TC-Content-SHA256); 0 for other requests.
   */
  uploadLimit: number;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export const isMultipart = (req: FastifyRequest) => /^multipart\/form-data/i.test(header(req, 'content-type') ?? '');
export const isForm = (req: FastifyRequest) => /^application\/x-www-form-urlencoded/i.test(header(req, 'content-type') ?? '');
const rawQuery = (req: FastifyRequest) => { const i = req.url.indexOf('?'); return i < 0 ? '' : req.url.slice(i + 1); };

type Send = (reply: FastifyReply, body: Record<string, unknown>, traceId: string | undefined) => void;

export interface RequestGate {
  /** onRequest hook of `/`: everything that can be checked before the body is read. */
  onRequest(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /** preHandler hook of `/`: a v1 form POST carries its Action, SecretId and timestamp in the body. */
  preHandler(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /** What the hooks established for a request they let through. */
  passed(req: FastifyRequest): Preauth;
  /** The most a multipart body of this request may have (Preauth.uploadLimit, else FACEVAULT_UPLOAD_LIMIT). */
  uploadLimit(req: FastifyRequest): number;
  /** The caller is authenticated once the signature holds (and, for v1, its Nonce is new). */
  verify(req: FastifyRequest, pre: Preauth): Promise<Authenticated>;
  /** The Host the client signed: the forwarded one from a trusted proxy, else the Host header. */
  host(req: FastifyRequest): string;
}

export function createRequestGate(app: GateDeps, failures: AuthFailureLog, send: Send): RequestGate {
  const checked = new WeakMap<object, Preauth>();
  /** v1 form POSTs whose checks wait for the body (preHandler). */
  const deferred = new WeakSet<object>();
  const bodyLimit = app.config.bodyLimitBytes;
  const uploads = () => app.registry.declarations().filter((d) => d.upload).map((d) => `${d.owner}:${d.name}`).join(', ');
  const uploadLimit = Math.max(app.config.uploadLimitBytes, app.config.bodyLimitBytes);
  const videoUploadLimit = Math.max(app.config.videoUploadLimitBytes, uploadLimit);
  const nonces = app.nonces ?? new MemoryNonceStore();
  const hostOf = (req: FastifyRequest) => (app.trustedHost?.(req)) ?? header(req, 'host') ?? '';

  type Seen = { service: string; action: string; secretId?: string; appId?: number };

  const isUpload = (req: FastifyRequest, service: ServiceName | undefined, action: string) => isMultipart(req) && !!service && !!app.registry.get(service, action)?.upload;

  /** True when the declared size is over FACEVAULT_UPLOAD_LIMIT but within the video limit: allowed only once the signature holds from the headers. */
  function sizeCheck(req: FastifyRequest, service: ServiceName | undefined, action: string): boolean {
    const declared = header(req, 'content-length');
    if (declared !== undefined && /^\d+$/.test(declared)) {
      const n = Number(declared);
      if (isUpload(req, service, action)) {
        if (n > videoUploadLimit) throw new TcError('RequestSizeLimitExceeded', `the multipart body of ${n} bytes exceeds the upload limit of ${videoUploadLimit} bytes (${action}'s file part Image: a video of at most 1 GB)`);
        return n > uploadLimit;
      } else if (n > bodyLimit) {
        throw new TcError('RequestSizeLimitExceeded', `request body exceeds the limit of ${bodyLimit} bytes${isMultipart(req) ? ` (larger multipart uploads are for ${uploads()})` : ''}`);
      }
    }
    return false;
  }

  /**
   * An upload whose signature can be checked before its body is read: the client declared the
   * payload hash it signed in X-TC-Content-SHA256 (its hex SHA-256, or Tencent's UNSIGNED-PAYLOAD).
   * Checked here against the key, so such a body may be up to the video limit: only a client
   * that holds the secret key can make the server spool more than FACEVAULT_UPLOAD_LIMIT. The
   * body is hashed as it arrives and verify() checks the signature again over that hash, so a
   * body that is not the one declared fails there.
   */
  function uploadLimitFor(req: FastifyRequest, pre: Omit<Preauth, 'uploadLimit'>, large: boolean): number {
    const declared = header(req, 'x-tc-content-sha256');
    const checkable = declared === 'UNSIGNED-PAYLOAD' || (declared !== undefined && /^[0-9a-f]{64}$/i.test(declared));
    if (!checkable) {
      if (large) {
        throw new TcError('RequestSizeLimitExceeded', `the multipart body exceeds ${uploadLimit} bytes, the most accepted before the signature is checked: for a larger upload (${pre.action}'s Image, a video of up to 1 GB) send X-TC-Content-SHA256 with the body's SHA-256 (hex, the hash the signature covers) or UNSIGNED-PAYLOAD, so the signature is checked from the headers`);
      }
      return uploadLimit;
    }
    if (pre.signing.kind !== 'tc3') return uploadLimit;
    const auth = pre.signing.auth;
    const ok = verifyTc3({
      secretKey: pre.key.secretKey, service: auth.service, timestamp: pre.timestamp, signedHeaders: auth.signedHeaders,
      value: (n) => (n === 'host' ? hostOf(req) : header(req, n) ?? ''), payloadHash: declared.toLowerCase(), unsignedPayload: declared === 'UNSIGNED-PAYLOAD',
      signature: auth.signature, method: 'POST', query: '',
    });
    if (!ok) throw signatureFailure();
    return videoUploadLimit;
  }

  function actionCheck(action: string | undefined, version: string | undefined, where: 'header' | 'field'): ServiceName {
    // (version is checked to be a key of VERSIONS before VERSION_ACTIONS is read)
    const names = where === 'header' ? { a: 'the X-TC-Action header', v: 'the X-TC-Version header' } : { a: 'the Action parameter', v: 'the Version parameter' };
    if (!action) throw new TcError('MissingParameter', `${names.a} is required`);
    if (!version) throw new TcError('MissingParameter', `${names.v} is required`);
    const service = VERSIONS[version] as ServiceName | undefined;
    if (!service) throw new TcError('NoSuchVersion', `version ${version.slice(0, 32)} is not supported; use one of ${Object.keys(VERSIONS).join(', ')}`);
    if (!VERSION_ACTIONS[version].has(action)) throw new TcError('InvalidAction', `action ${action.slice(0, 64)} does not exist in ${service} ${version}`);
    return service;
  }

  function timestampCheck(tsText: string | undefined, name: string): number {
    if (!tsText || !/^\d{1,12}$/.test(tsText)) throw new TcError('MissingParameter', `${name} is required (unix seconds)`);
    const ts = Number(tsText);
    const now = Math.floor(app.clock.now() / 1000);
    if (Math.abs(now - ts) > MAX_SKEW_SECONDS) throw new TcError('AuthFailure.SignatureExpire', `the request timestamp ${ts} is more than ${MAX_SKEW_SECONDS} seconds from the server time ${now}`);
    return ts;
  }

  async function keyFor(secretId: string, token: string | undefined, seen: Seen): Promise<Authenticated> {
    seen.secretId = secretId;
    let key: Authenticated;
    if (token) {
      if (!app.tokens) throw new TcError('AuthFailure.TokenFailure', 'temporary credentials are not served by this deployment');
      key = await app.tokens.authenticate(secretId, token);
    } else {
      key = await app.accounts.authenticate(secretId);
    }
    seen.appId = key.caller.appId;
    return key;
  }

  /** TC3: everything is in the headers (GET: the parameters are the query). */
  async function checkTc3(req: FastifyRequest, seen: Seen): Promise<Preauth> {
    const method = req.method === 'GET' ? 'GET' : 'POST';
    const action = seen.action;
    const version = header(req, 'x-tc-version');
    const service0 = version ? (VERSIONS[version] as ServiceName | undefined) : undefined;
    seen.service = service0 ?? '';
    const large = sizeCheck(req, service0, action);
    const service = actionCheck(action, version, 'header');

    const auth = parseAuthorization(header(req, 'authorization'));
    if (!auth) throw new TcError('AuthFailure.InvalidAuthorization', 'the Authorization header is missing or is not a TC3-HMAC-SHA256 authorization (v1 requests carry Signature among the parameters)');
    seen.secretId = auth.secretId;
    const signed = auth.signedHeaders;
    if (!signed.includes('content-type') || !signed.includes('host')) throw new TcError('AuthFailure.InvalidAuthorization', 'SignedHeaders must include content-type and host');
    if (app.config.requireSignedAction && !signed.includes('x-tc-action')) {
      throw new TcError('AuthFailure.InvalidAuthorization', 'SignedHeaders must include x-tc-action: this server refuses signatures that do not cover the action (FACEVAULT_REQUIRE_SIGNED_ACTION)');
    }
    const ts = timestampCheck(header(req, 'x-tc-timestamp'), 'the X-TC-Timestamp header');
    if (auth.date !== utcDate(ts)) throw new TcError('AuthFailure.SignatureFailure', `the credential scope date ${auth.date} is not the UTC date of X-TC-Timestamp`);
    const key = await keyFor(auth.secretId, header(req, 'x-tc-token') || undefined, seen);
    shed(service, seen.action);
    const formParams = method === 'GET' ? unflatten(formFields(rawQuery(req))) : null;
    const pre: Omit<Preauth, 'uploadLimit'> = { service, version: version!, action, method, signing: { kind: 'tc3', auth }, secretId: auth.secretId, timestamp: ts, region: header(req, 'x-tc-region') ?? '', formParams, key };
    return { ...pre, uploadLimit: method === 'POST' && isUpload(req, service, action) ? uploadLimitFor(req, pre, large) : 0 };
  }

  /** v1: the common parameters are fields of the query (GET) or of the form body (POST). */
  async function checkV1(req: FastifyRequest, fields: Record<string, string>, seen: Seen): Promise<Preauth> {
    const method = req.method === 'GET' ? 'GET' : 'POST';
    seen.action = fields.Action ?? '';
    const service = actionCheck(fields.Action, fields.Version, 'field');
    seen.service = service;
    const sm = fields.SignatureMethod ?? 'HmacSHA1'; // Tencent's default when absent
    if (!V1_METHODS.includes(sm as V1Method)) throw new TcError('AuthFailure.SignatureFailure', `SignatureMethod must be one of ${V1_METHODS.join(', ')} (or TC3-HMAC-SHA256 in the Authorization header)`);
    if (!fields.SecretId) throw new TcError('MissingParameter', 'the SecretId parameter is required');
    if (!fields.Signature) throw new TcError('MissingParameter', 'the Signature parameter is required');
    if (!fields.Nonce || !/^\d{1,20}$/.test(fields.Nonce)) throw new TcError('MissingParameter', 'the Nonce parameter is required (a positive integer)');
    const ts = timestampCheck(fields.Timestamp, 'the Timestamp parameter');
    const key = await keyFor(fields.SecretId, fields.Token || undefined, seen);
    shed(service, fields.Action!);
    const params: Record<string, string> = Object.create(null);
    for (const [k, v] of Object.entries(fields)) if (!V1_COMMON_FIELDS.has(k)) params[k] = v;
    return {
      service, version: fields.Version!, action: fields.Action!, method, signing: { kind: 'v1', signatureMethod: sm as V1Method, fields }, secretId: fields.SecretId,
      timestamp: ts, region: fields.Region ?? '', formParams: unflatten(params), key, uploadLimit: 0,
    };
  }

  /** A v1 request: no Authorization header, and its fields in the query (GET) or a form body (POST). */
  const v1Query = (req: FastifyRequest) => req.method === 'GET' && !header(req, 'authorization') && /(^|&)Signature=/.test(rawQuery(req));
  const v1Form = (req: FastifyRequest) => req.method === 'POST' && !header(req, 'authorization') && isForm(req);

  function shed(service: ServiceName, action: string): void {
    const busy = app.overloaded?.(service, action);
    if (busy) throw new TcError('RequestLimitExceeded', busy);
  }

  function refuse(req: FastifyRequest, reply: FastifyReply, e: unknown, seen: Seen): FastifyReply {
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

  return {
    async onRequest(req, reply) {
      const seen: Seen = { service: '', action: header(req, 'x-tc-action') ?? '' };
      try {
        if (v1Form(req)) {
          // The fields are in the body: only its size can be refused now (v1 bodies are never
          // uploads). Tencent limits v1 POST bodies to 1 MB, which also bounds what an
          // unauthenticated client can make the server read here.
          sizeCheck(req, undefined, '');
          const declared = header(req, 'content-length');
          if (declared !== undefined && Number(declared) > V1_BODY_LIMIT) {
            throw new TcError('RequestSizeLimitExceeded', `a v1-signed (form) body may be at most ${V1_BODY_LIMIT} bytes, as at Tencent; send larger requests as JSON with TC3-HMAC-SHA256`);
          }
          deferred.add(req.raw);
          return undefined;
        }
        if (req.method === 'GET' && rawQuery(req).length > GET_QUERY_LIMIT) {
          throw new TcError('RequestSizeLimitExceeded', `a GET query may be at most ${GET_QUERY_LIMIT} bytes, as at Tencent; send larger requests as POST`);
        }
        checked.set(req.raw, v1Query(req) ? await checkV1(req, formFields(rawQuery(req)), seen) : await checkTc3(req, seen));
        return undefined;
      } catch (e) {
        return refuse(req, reply, e, seen);
      }
    },
    async preHandler(req, reply) {
      if (!deferred.has(req.raw)) return undefined;
      const seen: Seen = { service: '', action: '' };
      try {
        const body = req.body;
        const text = Buffer.isBuffer(body) ? body.toString('utf8') : '';
        checked.set(req.raw, await checkV1(req, formFields(text), seen));
        return undefined;
      } catch (e) {
        return refuse(req, reply, e, seen);
      }
    },
    passed(req) {
      const p = checked.get(req.raw);
      if (!p) throw new TcError('InternalError', 'the request skipped the header checks');
      return p;
    },
    uploadLimit(req) {
      return checked.get(req.raw)?.uploadLimit || uploadLimit;
    },
    async verify(req, pre) {
      const host = hostOf(req);
      if (pre.signing.kind === 'v1') {
        const s = pre.signing;
        if (!verifyV1({ secretKey: pre.key.secretKey, method: pre.method, host, fields: s.fields, signatureMethod: s.signatureMethod })) throw signatureFailure();
        // Only a request whose signature holds spends its nonce (others could not replay it anyway).
        // The signature is part of the key: a replay repeats it, while two honest requests that
        // drew the same Nonce in the same second (the Node SDK draws from 0..65535) differ in it;
        // keyed without it, one of them was refused as a replay (seen in CI, 1 in ~10 runs).
        const fresh = await nonces.claim(`${pre.secretId}|${pre.timestamp}|${s.fields.Nonce}|${s.fields.Signature}`, (pre.timestamp + MAX_SKEW_SECONDS + 1) * 1000, app.clock.now());
        if (!fresh) throw new TcError('AuthFailure.SignatureFailure', `the Nonce ${s.fields.Nonce} was already used with this SecretId and Timestamp: the request is a replay`);
        return pre.key;
      }
      const body = req.body;
      const payloadHash = pre.method === 'GET' ? EMPTY_PAYLOAD_HASH
        : isSpooled(body) ? body.sha256 : crypto.createHash('sha256').update(Buffer.isBuffer(body) ? body : Buffer.alloc(0)).digest('hex');
      const auth = pre.signing.auth;
      const ok = verifyTc3({
        secretKey: pre.key.secretKey, service: auth.service, timestamp: pre.timestamp, signedHeaders: auth.signedHeaders,
        value: (n) => (n === 'host' ? host : header(req, n) ?? ''), payloadHash, unsignedPayload: header(req, 'x-tc-content-sha256') === 'UNSIGNED-PAYLOAD',
        signature: auth.signature, method: pre.method, query: pre.method === 'GET' ? rawQuery(req) : '',
      });
      if (!ok) throw signatureFailure();
      return pre.key;
    },
    host: hostOf,
  };
}

const signatureFailure = () => new TcError('AuthFailure.SignatureFailure', 'the provided credentials could not be validated; check your signature is correct');

/** A body still to come that is not worth reading: Node would drain it after the reply unless the connection closes. */
function largeBodyPending(req: FastifyRequest): boolean {
  const declared = header(req, 'content-length');
  if (declared !== undefined) return Number(declared) > DRAIN_BYTES;
  return header(req, 'transfer-encoding') !== undefined;
}
