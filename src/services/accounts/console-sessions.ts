// Console sign-in: a SecretId/SecretKey pair is exchanged for a session, so the browser never
// keeps the long-lived secret. The session token is random (256 bits) and lives only in the
// browser's HttpOnly cookie; the database keeps its SHA-256. A session ends at the first of:
// its absolute lifetime, an idle timeout, sign-out, or its key being disabled (checked on every
// use through authenticate(), so a key disabled by the CLI ends its sessions too).
// The CSRF token is derived from the session token (HMAC), so it needs no storage and is
// worthless without the cookie it belongs to.
import crypto from 'node:crypto';
import type { Clock } from '../../domain/clock.ts';
import { TcError } from '../../domain/errors.ts';
import type { ConsoleSessionsRepo } from '../../store/accounts/console-sessions-repo.ts';
import type { AccountsService, Authenticated } from './accounts.ts';
import type { AuditLog } from './audit.ts';
import { FAILURE_WINDOW_MS, MemorySignInFailures, type SignInFailures } from './sign-in-failures.ts';

export interface SessionLimits {
  /** Absolute lifetime of a session. */
  ttlMs: number;
  /** A session unused this long ends. */
  idleMs: number;
}

export interface SignedIn {
  token: string;
  csrf: string;
  expiresAt: number;
  auth: Authenticated;
  secretId: string;
}

export interface LiveSession {
  auth: Authenticated;
  secretId: string;
  expiresAt: number;
}

const hash = (token: string) => crypto.createHash('sha256').update(token).digest('hex');
/** Only refresh last_seen_at this often: one write a minute, not one per call. */
const TOUCH_EVERY_MS = 60_000;
const MAX_FAILURES = 10;

export class ConsoleSessions {
  constructor(
    private readonly repo: ConsoleSessionsRepo,
    private readonly accounts: Pick<AccountsService, 'authenticate'>,
    private readonly clock: Clock,
    readonly limits: SessionLimits,
    private readonly audit?: AuditLog,
    /** Failed sign-ins per client address (shared through Redis when the deployment has it). */
    private readonly failures: SignInFailures = new MemorySignInFailures(),
  ) {}

  static csrfFor(token: string): string {
    return crypto.createHmac('sha256', token).update('facevault-console-csrf').digest('base64url');
  }

  /** Constant-time check of the CSRF token a request carries against its session token. */
  static csrfMatches(token: string, given: string | undefined): boolean {
    if (!given) return false;
    const want = Buffer.from(ConsoleSessions.csrfFor(token));
    const got = Buffer.from(given);
    return want.length === got.length && crypto.timingSafeEqual(want, got);
  }

  async signIn(secretId: string, secretKey: string, clientIp: string): Promise<SignedIn> {
    const now = this.clock.now();
    const f = await this.failures.count(clientIp, now);
    if (f.n >= MAX_FAILURES) {
      throw new TcError('RequestLimitExceeded', `too many failed sign-ins from this address; try again in ${Math.ceil((f.since + FAILURE_WINDOW_MS - now) / 60_000)} minutes`);
    }
    let auth: Authenticated | null = null;
    try {
      auth = await this.accounts.authenticate(secretId);
    } catch { /* unknown or disabled: same answer as a wrong key, below */ }
    const want = Buffer.from(auth?.secretKey ?? crypto.randomBytes(32).toString('hex'));
    const got = Buffer.from(secretKey);
    const ok = auth !== null && want.length === got.length && crypto.timingSafeEqual(want, got);
    if (!ok || !auth) {
      await this.failures.add(clientIp, now);
      // One answer for an unknown SecretId, a disabled key and a wrong SecretKey.
      throw new TcError('AuthFailure.SecretIdNotFound', 'the SecretId or SecretKey is wrong, or the key is disabled');
    }
    await this.failures.clear(clientIp);
    const token = crypto.randomBytes(32).toString('base64url');
    const expiresAt = Math.min(now + this.limits.ttlMs, now + this.limits.idleMs);
    await this.repo.insert({
      token_hash: hash(token), app_id: auth.caller.appId, sub_uin: auth.caller.subUin, secret_id: secretId,
      created_at: now, last_seen_at: now, data_class: 'console_session', expires_at: expiresAt,
    });
    await this.audit?.append({ actor: `app:${auth.caller.appId}/uin:${auth.caller.subUin}`, action: 'console.signin', appId: auth.caller.appId, target: secretId });
    return { token, csrf: ConsoleSessions.csrfFor(token), expiresAt, auth, secretId };
  }

  /** The session's caller, or null when it ended (expired, signed out, key disabled, AppId erased). */
  async resolve(token: string | undefined): Promise<LiveSession | null> {
    if (!token || token.length > 128) return null;
    const now = this.clock.now();
    const th = hash(token);
    const row = await this.repo.live(th, now);
    if (!row) return null;
    let auth: Authenticated;
    try {
      auth = await this.accounts.authenticate(row.secret_id);
    } catch {
      await this.repo.delete(th);
      return null;
    }
    // The key must still belong to the user the session was opened for.
    if (auth.caller.appId !== row.app_id || auth.caller.subUin !== row.sub_uin) {
      await this.repo.delete(th);
      return null;
    }
    let expiresAt = row.expires_at;
    if (now - row.last_seen_at >= TOUCH_EVERY_MS) {
      expiresAt = Math.min(row.created_at + this.limits.ttlMs, now + this.limits.idleMs);
      await this.repo.touch(th, now, expiresAt);
    }
    return { auth, secretId: row.secret_id, expiresAt };
  }

  async signOut(token: string | undefined): Promise<boolean> {
    if (!token || token.length > 128) return false;
    return this.repo.delete(hash(token));
  }

  /** A disabled key's sessions end at once (resolve() would refuse them anyway). */
  async endSessionsOfKey(appId: number, secretId: string): Promise<number> {
    return this.repo.deleteByKey(appId, secretId);
  }
}
