// Temporary credentials minted by sts GetFederationToken (services/accounts/federation.ts).
import type { Db } from '../db/db.ts';

export interface FederationTokenRecord {
  tmpSecretId: string;
  appId: number;
  parentSecretId: string;
  tokenHash: string;
  tmpSecretKeyEnc: Buffer;
  name: string;
  sessionPolicy: string;
  createdAt: number;
  expiresAt: number;
}

export class FederationRepo {
  constructor(private readonly db: Db) {}

  async insert(r: FederationTokenRecord): Promise<void> {
    await this.db.kysely.insertInto('federation_tokens').values({
      tmp_secret_id: r.tmpSecretId, app_id: r.appId, parent_secret_id: r.parentSecretId, token_hash: r.tokenHash, tmp_secret_key_enc: r.tmpSecretKeyEnc,
      name: r.name, session_policy: r.sessionPolicy, created_at: r.createdAt, expires_at: r.expiresAt,
    }).execute();
  }

  async get(tmpSecretId: string): Promise<FederationTokenRecord | undefined> {
    const r = await this.db.kysely.selectFrom('federation_tokens').selectAll().where('tmp_secret_id', '=', tmpSecretId).executeTakeFirst();
    if (!r) return undefined;
    return {
      tmpSecretId: r.tmp_secret_id, appId: Number(r.app_id), parentSecretId: r.parent_secret_id, tokenHash: r.token_hash, tmpSecretKeyEnc: r.tmp_secret_key_enc,
      name: r.name, sessionPolicy: r.session_policy, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at),
    };
  }

  /** Expired rows; returns how many went. */
  async deleteExpired(now: number): Promise<number> {
    const r = await this.db.kysely.deleteFrom('federation_tokens').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteApp(appId: number): Promise<void> {
    await this.db.kysely.deleteFrom('federation_tokens').where('app_id', '=', appId).execute();
  }
}
