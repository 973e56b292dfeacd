// Temporary credentials, as Tencent's sts GetFederationToken issues them: a TmpSecretId and
// TmpSecretKey that sign like a key, plus a Token sent beside them (X-TC-Token, or the v1
// Token field). They act for the key that minted them, limited by the CAM-style policy given at
// minting, until they expire; disabling the parent key (or deleting its app) ends them at
// once, because every use re-reads the parent. The token is stored only as its SHA-256.
import crypto from 'node:crypto';
import type { AccountsRepo } from '../../store/accounts/accounts-repo.ts';
import type { FederationRepo } from '../../store/accounts/federation-repo.ts';
import type { Keyring } from '../../store/keys/keyring.ts';
import type { Clock } from '../../domain/clock.ts';
import { TcError } from '../../domain/errors.ts';
import type { Authenticated } from './accounts.ts';
import type { AuditLog } from './audit.ts';
import { validatePolicy, type SessionPolicy } from './policy.ts';

export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 7200;
export const DEFAULT_DURATION_SECONDS = 1800;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const random = (n: number) => Array.from(crypto.randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');
const sha256 = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest('hex');

export interface FederationToken {
  Credentials: { Token: string; TmpSecretId: string; TmpSecretKey: string };
  ExpiredTime: number;
  Expiration: string;
}

/**
 * A CAM policy document (https://cloud.tencent.com/document/product/598/10603) reduced to what
 * facevault can enforce: allow/deny statements over actions. Resource-level grants and
 * conditions cannot be enforced here, so they are refused rather than silently widened.
 */
export function parseCamPolicy(text: string): SessionPolicy {
  let doc: unknown;
  const decoded = /^\s*\{/.test(text) ? text : safeDecode(text);
  try {
    doc = JSON.parse(decoded);
  } catch {
    throw new TcError('InvalidParameterValue', 'Policy: not a JSON policy document (URL-encoded or plain)');
  }
  const d = doc as { version?: unknown; statement?: unknown };
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw bad('must be a JSON object');
  if (d.version !== '2.0') throw bad('version must be "2.0"');
  const statements = Array.isArray(d.statement) ? d.statement : d.statement && typeof d.statement === 'object' ? [d.statement] : null;
  if (!statements || statements.length === 0) throw bad('statement must list at least one statement');
  const out: SessionPolicy = { allow: [], deny: [] };
  for (const [i, st] of statements.entries()) {
    const s = st as Record<string, unknown>;
    if (!s || typeof s !== 'object') throw bad(`statement[${i}] must be an object`);
    for (const k of Object.keys(s)) {
      if (!['effect', 'action', 'resource'].includes(k)) throw bad(`statement[${i}].${k} is not supported here (only effect, action and resource "*")`);
    }
    if (s.effect !== 'allow' && s.effect !== 'deny') throw bad(`statement[${i}].effect must be "allow" or "deny"`);
    const resources = Array.isArray(s.resource) ? s.resource : [s.resource ?? '*'];
    if (resources.some((r) => r !== '*')) throw bad(`statement[${i}].resource: only "*" can be enforced by this server (it grants by action)`);
    const actions = Array.isArray(s.action) ? s.action : [s.action];
    if (actions.length === 0 || actions.some((a) => typeof a !== 'string')) throw bad(`statement[${i}].action must be a string or a list of strings`);
    // CAM writes actions as "iai:DetectFace" or "name/iai:DetectFace".
    const patterns = (actions as string[]).map((a) => a.replace(/^name\//, ''));
    const invalid = validatePolicy(patterns);
    if (invalid) throw bad(`statement[${i}].action: ${invalid}`);
    (s.effect === 'allow' ? out.allow : out.deny).push(...patterns);
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
const bad = (why: string) => new TcError('InvalidParameterValue', `Policy: ${why}`);

export class FederationTokens {
  constructor(
    private readonly repo: FederationRepo,
    private readonly accounts: Pick<AccountsRepo, 'getKey'>,
    private readonly keyring: Keyring,
    private readonly clock: Clock,
    private readonly audit?: AuditLog,
  ) {}

  /** sts GetFederationToken for the (already authorised) caller that signed with `secretId`. */
  async mint(secretId: string, req: { name: string; policy: string; durationSeconds?: number }): Promise<FederationToken> {
    const parent = await this.accounts.getKey(secretId);
    if (!parent) throw new TcError('UnauthorizedOperation', 'temporary credentials cannot mint further temporary credentials; call GetFederationToken with a permanent key');
    const duration = req.durationSeconds ?? DEFAULT_DURATION_SECONDS;
    const policy = parseCamPolicy(req.policy);
    const now = this.clock.now();
    // Whole seconds, so the reported ExpiredTime is exactly when they stop working.
    const expiresAt = Math.floor(now / 1000) * 1000 + duration * 1000;
    const tmpSecretId = 'AKID' + random(32);
    const tmpSecretKey = random(32);
    const token = random(64);
    await this.repo.insert({
      tmpSecretId, appId: parent.appId, parentSecretId: secretId, tokenHash: sha256(token),
      tmpSecretKeyEnc: this.keyring.sealSecret(tmpSecretKey, `tmpkey:${tmpSecretId}`), name: req.name,
      sessionPolicy: JSON.stringify(policy), createdAt: now, expiresAt,
    });
    await this.audit?.append({ actor: parent.subUin, action: 'sts.federation-token', appId: parent.appId, target: tmpSecretId, details: { parent: secretId, name: req.name, duration, policy } });
    const expiredTime = expiresAt / 1000;
    return { Credentials: { Token: token, TmpSecretId: tmpSecretId, TmpSecretKey: tmpSecretKey }, ExpiredTime: expiredTime, Expiration: new Date(expiredTime * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  /** The caller behind temporary credentials: the parent key's, with the session policy on top. */
  async authenticate(tmpSecretId: string, token: string): Promise<Authenticated> {
    const t = await this.repo.get(tmpSecretId);
    const given = Buffer.from(sha256(token), 'hex');
    if (!t || !crypto.timingSafeEqual(given, Buffer.from(t.tokenHash, 'hex'))) {
      throw new TcError('AuthFailure.TokenFailure', 'the token is not valid for this SecretId');
    }
    if (t.expiresAt <= this.clock.now()) throw new TcError('AuthFailure.TokenFailure', 'the temporary credentials have expired; request new ones with GetFederationToken');
    const k = await this.accounts.getKey(t.parentSecretId);
    if (!k || k.status !== 'active' || k.appStatus !== 'active' || k.appId !== t.appId) {
      throw new TcError('AuthFailure.TokenFailure', 'the key that issued these temporary credentials is disabled or gone');
    }
    return {
      caller: { appId: k.appId, uin: k.uin, subUin: k.subUin },
      secretId: tmpSecretId,
      secretKey: this.keyring.openSecret(t.tmpSecretKeyEnc, `tmpkey:${tmpSecretId}`),
      policy: k.policy,
      isRoot: k.isRoot,
      session: { policy: JSON.parse(t.sessionPolicy) as SessionPolicy, parentSecretId: t.parentSecretId },
    };
  }

  async sweepExpired(): Promise<number> {
    return this.repo.deleteExpired(this.clock.now());
  }
}
