// Object storage behind one interface; the same test suite runs against each backend.
export interface BlobStore {
  readonly kind: 'local' | 's3';
  put(key: string, data: Buffer, contentType?: string): Promise<void>;
  /** Returns null when the object does not exist. */
  get(key: string): Promise<Buffer | null>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Every key under a prefix (for deletion scans and tests). */
  list(prefix: string): Promise<string[]>;
  /** Keys under a prefix with their last modification (ms), for the orphan sweep; optional for test doubles. */
  listModified?(prefix: string): Promise<{ key: string; modifiedAt: number }[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Keys are relative paths of safe characters; this keeps the local backend inside its root. */
export function assertKey(key: string): void {
  if (!/^[A-Za-z0-9_\-][A-Za-z0-9_\-./]*$/.test(key) || key.includes('..') || key.endsWith('/') || key.length > 512) {
    throw new Error(`invalid object key "${key}"`);
  }
}
