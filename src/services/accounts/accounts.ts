// Tenants as Tencent has them: an AppId with a root Uin and sub-users (SubUin), each with
// SecretId/SecretKey pairs. Secret keys are stored sealed (we need them in clear to check
// HMACs, so hashing is not an option) and shown once, at creation.
import crypto from 'node:crypto';
import type { AccountsRepo } from '../../store/accounts/accounts-repo.ts';
import type { Keyring } from '../../store/keys/keyring.ts';
import type { KeyStore } from '../../store/keys/key-store.ts';
import type { Clock } from '../../domain/clock.ts';
import type { AuditLog } from './audit.ts';
import { allows, sessionAllows, validatePolicy, type SessionPolicy } from './policy.ts';
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
  async createKey(appId: number, opts: { subUser?: string; policy?: string[] } = {}): Promise<Credentials> {
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
    await this.audit?.append({ actor: this.actor, action: 'key.create', appId, target: secretId, details: { subUin, newSubUser: !!newUser, policy } });
    return { AppId: appId, Uin: root.uin, SubUin: subUin, SecretId: secretId, SecretKey: secretKey, Policy: policy };
  }

  async listKeys(appId: number) {
    const rows = await this.repo.listKeys(appId);
    return rows.map((r) => ({ SecretId: r.secret_id, SubUin: r.sub_uin, User: r.name, IsRoot: r.is_root === 1, Policy: JSON.parse(r.policy) as string[], Status: r.status, CreatedAt: new Date(Number(r.created_at)).toISOString() }));
  }

  async setKeyStatus(appId: number, secretId: string, status: 'active' | 'disabled'): Promise<void> {
    if (!(await this.repo.setKeyStatus(appId, secretId, status))) throw new TcError('ResourceNotFound', `SecretId ${secretId} does not exist in AppId ${appId}`);
    await this.audit?.append({ actor: this.actor, action: status === 'disabled' ? 'key.disable' : 'key.enable', appId, target: secretId });
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
