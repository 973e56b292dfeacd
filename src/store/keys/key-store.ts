// The per-AppId data keys (wrapped under the master key), kept apart from the data they
// protect. Erasing an AppId erases its key here; a backup of the data database then holds only
// ciphertext of that AppId, whenever it was taken, because the key was never in it.
// An erased AppId leaves a tombstone (its number and the time): a key for it is never stored
// again, so an old database restored with its key column (before keys moved here) cannot bring
// the tenant back. docs/PRIVACY.md says what each kind of backup can reveal.
export type StoredKey =
  | { state: 'present'; wrapped: Buffer }
  | { state: 'erased'; erasedAt: number }
  | { state: 'absent' };

export interface KeyStore {
  /** Where the keys live, e.g. "sqlite file data/keys/keys.sqlite" (for receipts and logs). */
  readonly kind: string;
  get(appId: number): Promise<StoredKey>;
  /**
   * Stores an AppId's wrapped data key, durably before it returns. Storing the same bytes again
   * is a no-op; a different key for an AppId that has one, or any key for an erased AppId, is
   * refused (KeyStoreRefusal): features sealed under the existing key would become unreadable,
   * or an erased tenant would come back.
   */
  put(appId: number, wrapped: Buffer): Promise<void>;
  /** Crypto-shredding: the key is overwritten and removed, a tombstone remains. True when a key was there. */
  erase(appId: number, at: number): Promise<boolean>;
  close(): Promise<void>;
}

export class KeyStoreRefusal extends Error {
  constructor(readonly appId: number, readonly reason: 'erased' | 'conflict') {
    super(reason === 'erased'
      ? `AppId ${appId} was erased: its data key is gone and is not stored again`
      : `AppId ${appId} already has a different data key`);
  }
}

/** Thrown when an AppId's features are asked for and its key store has no key for it. */
export class DataKeyUnavailable extends Error {
  constructor(readonly appId: number, readonly state: 'erased' | 'absent') {
    super(state === 'erased'
      ? `AppId ${appId} has no data key: it was erased (crypto-shredded), its features cannot be opened`
      : `AppId ${appId} has no data key in the key store (a key store from another deployment, or lost): its features cannot be opened`);
  }
}

export interface KeyStoreOptions {
  /** FACEVAULT_KEYSTORE_URL: a postgres:// URL, or a path of a SQLite file; null = the default. */
  url: string | null;
  /** The data database: its PostgreSQL URL, or null for SQLite. */
  databaseUrl: string | null;
  dataDir: string;
  /** The data schema on PostgreSQL (tests isolate themselves in one); keys go in "<schema>_keys". */
  pgSchema?: string;
  /** PostgreSQL: the query deadline (pg-guard.ts). */
  queryTimeoutMs?: number;
}

export const DEFAULT_PG_KEY_SCHEMA = 'facevault_keys';
export const keyStoreFile = (dataDir: string) => `${dataDir}/keys/keys.sqlite`;

