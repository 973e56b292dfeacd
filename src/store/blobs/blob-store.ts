// Object storage behind one interface; the same test suite runs against each backend.
import type { Readable } from 'node:stream';

export interface PutStreamOptions {
  contentType?: string;
  /** The object is refused (ObjectTooLarge, nothing stored) once the stream passes this many bytes. */
  maxBytes?: number;
}

/** What a streamed put stored: its size and MD5 (hex), counted on the way through. */
export interface StreamedObject { size: number; md5: string }

export class ObjectTooLarge extends Error {
  constructor(readonly maxBytes: number) { super(`the object exceeds ${maxBytes} bytes`); }
}

export interface BlobStore {
  readonly kind: 'local' | 's3';
  put(key: string, data: Buffer, contentType?: string): Promise<void>;
  /**
   * Stores a stream without holding it in memory (videos up to 1 GB). All or nothing: a stream
   * that fails or passes maxBytes leaves no object (and keeps an old one under the key).
   */
  putStream(key: string, source: Readable, o?: PutStreamOptions): Promise<StreamedObject>;
  /** putStream of a file's contents. */
  putFile(key: string, file: string, contentType?: string): Promise<StreamedObject>;
  /** Returns null when the object does not exist. */
  get(key: string): Promise<Buffer | null>;
  /** The object as a stream (null when it does not exist); the caller must consume or destroy it. */
  getStream(key: string): Promise<Readable | null>;
  /** Copies the object into `file` (created 0600); false when the object does not exist. A failed copy removes the file. */
  getToFile(key: string, file: string): Promise<boolean>;
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
