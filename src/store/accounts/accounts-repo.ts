// Accounts, sub-users and API keys. Every read that serves a request is scoped by AppId.
import type { Db } from '../db/db.ts';
import { deleted, type Executor } from '../db/executor.ts';

export interface KeyRecord {
  secretId: string;
  appId: number;
  subUin: string;
  uin: string;
  isRoot: boolean;
  policy: string[];
  secretKeyEnc: Buffer;
  status: string;
  appStatus: string;
}

// The app's data key is not here: it lives in the key store (key-store.ts), apart from the data.
export interface NewApp { appId: number; name: string; rootUin: string; createdAt: number }
export interface NewUser { subUin: string; appId: number; uin: string; name: string; isRoot: boolean; policy: string[]; createdAt: number }
export interface NewKey { secretId: string; appId: number; subUin: string; secretKeyEnc: Buffer; createdAt: number }

export class AccountsRepo {
  constructor(private readonly db: Db) {}

  async countApps(): Promise<number> {
    const r = await this.db.kysely.selectFrom('apps').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async appExists(appId: number): Promise<boolean> {
    return !!(await this.db.kysely.selectFrom('apps').select('app_id').where('app_id', '=', appId).executeTakeFirst());
  }

  /** Creates an app with its root user and first key, atomically. */
  async createApp(app: NewApp, root: NewUser, key: NewKey): Promise<void> {
    await this.db.kysely.transaction().execute(async (tx) => {
      await tx.insertInto('apps').values({ app_id: app.appId, name: app.name, root_uin: app.rootUin, status: 'active', data_key_wrapped: null, created_at: app.createdAt }).execute();
      await tx.insertInto('users').values(userRow(root)).execute();
      await tx.insertInto('api_keys').values(keyRow(key)).execute();
    });
  }

  async findUser(appId: number, name: string) {
    return this.db.kysely.selectFrom('users').selectAll().where('app_id', '=', appId).where('name', '=', name).executeTakeFirst();
  }

  async rootUser(appId: number) {
    return this.db.kysely.selectFrom('users').selectAll().where('app_id', '=', appId).where('is_root', '=', 1).executeTakeFirst();
  }

  async createUserAndKey(user: NewUser | null, key: NewKey): Promise<void> {
    await this.db.kysely.transaction().execute(async (tx) => {
      if (user) await tx.insertInto('users').values(userRow(user)).execute();
      await tx.insertInto('api_keys').values(keyRow(key)).execute();
    });
  }

  async updateUserPolicy(appId: number, subUin: string, policy: string[]): Promise<void> {
    await this.db.kysely.updateTable('users').set({ policy: JSON.stringify(policy) }).where('app_id', '=', appId).where('sub_uin', '=', subUin).execute();
  }

  async getKey(secretId: string): Promise<KeyRecord | undefined> {
    const r = await this.db.kysely.selectFrom('api_keys as k')
      .innerJoin('users as u', 'u.sub_uin', 'k.sub_uin')
      .innerJoin('apps as a', 'a.app_id', 'k.app_id')
      .select(['k.secret_id', 'k.app_id', 'k.sub_uin', 'k.secret_key_enc', 'k.status', 'u.uin', 'u.is_root', 'u.policy', 'a.status as app_status'])
      .where('k.secret_id', '=', secretId)
      .executeTakeFirst();
    if (!r) return undefined;
    return {
      secretId: r.secret_id, appId: Number(r.app_id), subUin: r.sub_uin, uin: r.uin, isRoot: r.is_root === 1,
      policy: JSON.parse(r.policy) as string[], secretKeyEnc: r.secret_key_enc, status: r.status, appStatus: r.app_status,
    };
  }

  async listKeys(appId: number) {
    return this.db.kysely.selectFrom('api_keys as k')
      .innerJoin('users as u', 'u.sub_uin', 'k.sub_uin')
      .select(['k.secret_id', 'k.sub_uin', 'k.status', 'k.created_at', 'u.name', 'u.is_root', 'u.policy'])
      .where('k.app_id', '=', appId)
      .orderBy('k.created_at').orderBy('k.secret_id')
      .execute();
  }

  /** Returns false when no such key exists in this app. */
  async setKeyStatus(appId: number, secretId: string, status: 'active' | 'disabled'): Promise<boolean> {
    const r = await this.db.kysely.updateTable('api_keys').set({ status }).where('app_id', '=', appId).where('secret_id', '=', secretId).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  // ---- erasure of a whole AppId (deletion requests)
  /** Stops the app's keys at once: authentication refuses keys of an app that is not active. */
  async markAppDeleted(appId: number): Promise<void> {
    await this.db.kysely.updateTable('apps').set({ status: 'deleted' }).where('app_id', '=', appId).execute();
  }

  /** The app's keys and users on `ex` (its `apps` row stays, marked deleted, so the AppId is never reused). */
  /** The app's keys, users, console sessions and temporary credentials (store/accounts owns these tables). */
  async eraseApp(ex: Executor, appId: number): Promise<{ console_sessions: number; federation_tokens: number; api_keys: number; users: number }> {
    const sessions = deleted(await ex.deleteFrom('console_sessions').where('app_id', '=', appId).executeTakeFirst());
    const tokens = deleted(await ex.deleteFrom('federation_tokens').where('app_id', '=', appId).executeTakeFirst());
    const keys = deleted(await ex.deleteFrom('api_keys').where('app_id', '=', appId).executeTakeFirst());
    const users = deleted(await ex.deleteFrom('users').where('app_id', '=', appId).executeTakeFirst());
    return { console_sessions: sessions, federation_tokens: tokens, api_keys: keys, users };
  }

  /** Clears a copy of the data key left in the database (before the key store); the key store erases its own. */
  async shredDataKey(appId: number): Promise<boolean> {
    const r = await this.db.kysely.updateTable('apps').set({ data_key_wrapped: null, status: 'deleted' }).where('app_id', '=', appId).where('data_key_wrapped', 'is not', null).executeTakeFirst();
    return Number(r.numUpdatedRows ?? 0) > 0;
  }
}

function userRow(u: NewUser) {
  return { sub_uin: u.subUin, app_id: u.appId, uin: u.uin, name: u.name, is_root: u.isRoot ? 1 : 0, policy: JSON.stringify(u.policy), created_at: u.createdAt };
}
function keyRow(k: NewKey) {
  return { secret_id: k.secretId, app_id: k.appId, sub_uin: k.subUin, secret_key_enc: k.secretKeyEnc, status: 'active', created_at: k.createdAt };
}
