// Tenants as Tencent has them: an AppId with a root Uin and sub-users (SubUin), each with
// SecretId/SecretKey pairs. Secret keys are stored sealed (we need them in clear to check
// HMACs, so hashing is not an option) and shown once, at creation.
import crypto from 'node:crypto';
import type { AccountsRepo } from '../../store/accounts/accounts-repo.ts';
import type { Keyring } from '../../store/keys/keyring.ts';
import type { KeyStore } from '../../store/keys/key-store.ts';
import type { Clock } from '../../domain/clock.ts';
import type { AuditLog } from './audit.ts';
import { allows, policyWithin, sessionAllows, validatePolicy, type SessionPolicy } from './policy.ts';
import { auditActor } from './audit.ts';
import { TcError } from '../../domain/errors.ts';
import type { ActionOwner, Caller } from '../../domain/call.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomString(n: number): string {
  const bytes = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[bytes[i] % ALNUM.length];
  return s;
}
const randomDigits = (n: number) => Array.from(crypto.randomBytes(n), (b) => String(b % 10)).join('').replace(/^0/, '1');

export interface Credentials {
  AppId: number;
  Uin: string;
  SubUin: string;
  SecretId: string;
  SecretKey: string;
  Policy: string[];
}

export interface Authenticated {
  caller: Caller;
  /** The SecretId the request was signed with (a temporary one for federation credentials). */
  secretId: string;
  secretKey: string;
  policy: string[];
  /** The AppId's root user: may call every action, the administrative extensions included. */
  isRoot: boolean;
  /**
   * Temporary credentials: the policy they were minted with and the key that minted them. A call
   * needs both the parent's (current) policy and this one, so it has at most their intersection.
   */
  session?: { policy: SessionPolicy; parentSecretId: string };
}

export class AccountsService {
  // Accounts and keys are changed by the operator (CLI, bootstrap); each change is audited.
  constructor(private readonly repo: AccountsRepo, private readonly keyring: Keyring, private readonly keys: KeyStore, private readonly clock: Clock, private readonly audit?: AuditLog, private readonly actor = 'operator') {}

  async hasAccounts(): Promise<boolean> {
    return (await this.repo.countApps()) > 0;
  }

  async createAccount(name = 'default', fixedKey?: { secretId: string; secretKey: string }): Promise<Credentials> {
    let appId: number;
    // An AppId erased here (or in a database since restored to before it existed) keeps its
    // tombstone in the key store: never reused.
    do appId = Number('12' + randomDigits(8)); while ((await this.repo.appExists(appId)) || (await this.keys.get(appId)).state !== 'absent');
    const uin = '1000' + randomDigits(8);
    const secretId = fixedKey?.secretId ?? 'AKID' + randomString(32);
    const secretKey = fixedKey?.secretKey ?? randomString(32);
    const now = this.clock.now();
    // The key first: an app row is never without its key (a key without an app is harmless).
    await this.keys.put(appId, this.keyring.newWrappedDataKey(appId));
    await this.repo.createApp(
      { appId, name, rootUin: uin, createdAt: now },
      { subUin: uin, appId, uin, name: 'root', isRoot: true, policy: ['*'], createdAt: now },
      { secretId, appId, subUin: uin, secretKeyEnc: this.keyring.sealSecret(secretKey, `key:${secretId}`), createdAt: now },
    );
    await this.audit?.append({ actor: this.actor, action: 'account.create', appId, target: secretId, details: { uin } });
    return { AppId: appId, Uin: uin, SubUin: uin, SecretId: secretId, SecretKey: secretKey, Policy: ['*'] };
  }

  /**
   * A new key for the root user, or for a sub-user (created on first use of its name).
   * Passing a policy for an existing sub-user replaces that sub-user's policy.
   */
  async createKey(appId: number, opts: { subUser?: string; policy?: string[]; actor?: string } = {}): Promise<Credentials> {
    const root = await this.repo.rootUser(appId);
    if (!root) throw new TcError('ResourceNotFound', `AppId ${appId} does not exist`);
    if (opts.policy) {
      const bad = validatePolicy(opts.policy);
      if (bad) throw new TcError('InvalidParameterValue', `policy: ${bad}`);
    }
    const now = this.clock.now();
    let subUin = root.sub_uin;
    let policy: string[] = JSON.parse(root.policy);
    let newUser = null;
    if (opts.subUser) {
      if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(opts.subUser) || opts.subUser === 'root') throw new TcError('InvalidParameterValue', 'sub-user: 1-64 letters, digits or _.@- (and not "root")');
      const existing = await this.repo.findUser(appId, opts.subUser);
      if (existing) {
        subUin = existing.sub_uin;
        policy = opts.policy ?? JSON.parse(existing.policy);
        if (opts.policy) await this.repo.updateUserPolicy(appId, subUin, opts.policy);
      } else {
        subUin = '2000' + randomDigits(8);
        policy = opts.policy ?? [];
        newUser = { subUin, appId, uin: root.uin, name: opts.subUser, isRoot: false, policy, createdAt: now };
      }
    }
    const secretId = 'AKID' + randomString(32);
    const secretKey = randomString(32);
    await this.repo.createUserAndKey(newUser, { secretId, appId, subUin, secretKeyEnc: this.keyring.sealSecret(secretKey, `key:${secretId}`), createdAt: now });
    await this.audit?.append({ actor: opts.actor ?? this.actor, action: 'key.create', appId, target: secretId, details: { subUin, newSubUser: !!newUser, policy } });
    return { AppId: appId, Uin: root.uin, SubUin: subUin, SecretId: secretId, SecretKey: secretKey, Policy: policy };
  }

  async listKeys(appId: number) {
    const rows = await this.repo.listKeys(appId);
    return rows.map((r) => ({ SecretId: r.secret_id, SubUin: r.sub_uin, User: r.name, IsRoot: r.is_root === 1, Policy: JSON.parse(r.policy) as string[], Status: r.status, CreatedAt: new Date(Number(r.created_at)).toISOString() }));
  }

  async setKeyStatus(appId: number, secretId: string, status: 'active' | 'disabled', actor = this.actor): Promise<void> {
    if (!(await this.repo.setKeyStatus(appId, secretId, status))) throw new TcError('ResourceNotFound', `SecretId ${secretId} does not exist in AppId ${appId}`);
    await this.audit?.append({ actor, action: status === 'disabled' ? 'key.disable' : 'key.enable', appId, target: secretId });
  }

  // ---- key administration by an API caller (the console's Keys page). Root may do anything
  // in its AppId; a sub-user whose policy names these actions manages sub-users only, and
  // never grants more than its own policy.

  /** The caller's own policy and whether it is the AppId's root. */
  private async callerPolicy(caller: Caller): Promise<{ isRoot: boolean; policy: string[] }> {
    const keys = await this.repo.listKeys(caller.appId);
    const mine = keys.find((k) => k.sub_uin === caller.subUin);
    if (!mine) throw new TcError('AuthFailure.UnauthorizedOperation', 'your user no longer exists');
    return { isRoot: mine.is_root === 1, policy: JSON.parse(mine.policy) as string[] };
  }

  async adminCreateKey(caller: Caller, o: { subUser?: string; policy?: string[] }): Promise<Credentials> {
    if (o.policy) {
      const bad = validatePolicy(o.policy);
      if (bad) throw new TcError('InvalidParameterValue', `Policy: ${bad}`);
    }
    const me = await this.callerPolicy(caller);
    if (!me.isRoot) {
      if (!o.subUser) throw new TcError('AuthFailure.UnauthorizedOperation', 'SubUser: only the root user may create root keys; name a sub-user');
      const target = await this.repo.findUser(caller.appId, o.subUser);
      const policy = o.policy ?? (target ? JSON.parse(target.policy) as string[] : []);
      const bad = policyWithin(policy, me.policy);
      if (bad) throw new TcError('AuthFailure.UnauthorizedOperation', `Policy: ${bad}`);
    }
    return this.createKey(caller.appId, { subUser: o.subUser, policy: o.policy, actor: auditActor(caller) });
  }

  async adminSetKeyStatus(caller: Caller, secretId: string, status: 'active' | 'disabled'): Promise<void> {
    const me = await this.callerPolicy(caller);
    const keys = await this.repo.listKeys(caller.appId);
    const k = keys.find((x) => x.secret_id === secretId);
    if (!k) throw new TcError('ResourceNotFound', `SecretId: ${secretId} does not exist in AppId ${caller.appId}`);
    if (!me.isRoot && k.is_root === 1) throw new TcError('AuthFailure.UnauthorizedOperation', 'SecretId: only the root user may disable or enable root keys');
    if (status === 'disabled' && k.is_root === 1 && keys.filter((x) => x.is_root === 1 && x.status === 'active').length <= 1) {
      throw new TcError('FailedOperation.LastRootKey', 'SecretId: this is the last active root key; create another root key first');
    }
    await this.setKeyStatus(caller.appId, secretId, status, auditActor(caller));
  }

  async adminSetPolicy(caller: Caller, subUser: string, policy: string[]): Promise<string[]> {
    const bad = validatePolicy(policy);
    if (bad) throw new TcError('InvalidParameterValue', `Policy: ${bad}`);
    const me = await this.callerPolicy(caller);
    if (!me.isRoot) {
      const over = policyWithin(policy, me.policy);
      if (over) throw new TcError('AuthFailure.UnauthorizedOperation', `Policy: ${over}`);
    }
    const u = await this.repo.findUser(caller.appId, subUser);
    if (!u || u.is_root === 1) throw new TcError('ResourceNotFound', `SubUser: no sub-user named ${subUser} in AppId ${caller.appId}`);
    await this.repo.updateUserPolicy(caller.appId, u.sub_uin, policy);
    await this.audit?.append({ actor: auditActor(caller), action: 'user.policy', appId: caller.appId, target: u.sub_uin, details: { policy } });
    return policy;
  }

  /** Looks up a SecretId. Disabled keys and deleted apps are treated as unknown, as Tencent does. */
  async authenticate(secretId: string): Promise<Authenticated> {
    const k = await this.repo.getKey(secretId);
    if (!k || k.status !== 'active' || k.appStatus !== 'active') throw new TcError('AuthFailure.SecretIdNotFound', 'The SecretId is not found, please ensure that your SecretId is correct.');
    return {
      caller: { appId: k.appId, uin: k.uin, subUin: k.subUin },
      secretId,
      secretKey: this.keyring.openSecret(k.secretKeyEnc, `key:${secretId}`),
      policy: k.policy,
      isRoot: k.isRoot,
    };
  }

  /** `owner` is the action's one service for authorisation (api/actions/table.ts ownerOf). */
  authorize(auth: Authenticated, owner: ActionOwner, action: string): void {
    if (!auth.isRoot && !allows(auth.policy, owner, action)) {
      throw new TcError('AuthFailure.UnauthorizedOperation', `you are not authorized to perform operation (${owner}:${action}); check the sub-user's policy`);
    }
    if (auth.session && !sessionAllows(auth.session.policy, owner, action)) {
      throw new TcError('AuthFailure.UnauthorizedOperation', `you are not authorized to perform operation (${owner}:${action}); the temporary credentials' policy does not allow it`);
    }
  }
}
