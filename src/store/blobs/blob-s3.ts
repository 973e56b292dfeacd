// S3-compatible object store (AWS, MinIO, Ceph RGW...). Path-style addressing when a custom
// endpoint is configured, since most self-hosted servers need it.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, DeleteObjectCommand, ListObjectsV2Command, HeadBucketCommand,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, AbortMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { assertKey, type BlobStore, type PutStreamOptions, type StreamedObject } from './blob-store.ts';
import { Meter, streamToFile } from './blob-stream.ts';
import { DependencyUnavailable, isConnectionError } from '../../domain/errors.ts';

export interface S3Options {
  bucket: string;
  prefix: string;
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** Part size of streamed (multipart) uploads; S3's minimum is 5 MiB. Default 8 MiB. */
  partBytes?: number;
}

export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly opts: S3Options) {
    this.client = new S3Client({
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.accessKeyId && opts.secretAccessKey ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } : undefined,
      // Fail fast when the store is down: two attempts, short connection timeout.
      maxAttempts: 2,
      // A store that accepts and then hangs fails each attempt after 10 s. smithy's
      // requestTimeout only logs a warning unless throwOnRequestTimeout is set: without it a
      // stalled store hung the request until the client gave up (measured: the SDK's 90 s).
      requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000, throwOnRequestTimeout: true },
    });
    // Unreachable store -> ServiceUnavailable.ObjectStore (not an InternalError); answers such as
    // NoSuchKey pass through as before.
    const send = this.client.send.bind(this.client) as (c: unknown) => Promise<unknown>;
    (this.client as unknown as { send: (c: unknown) => Promise<unknown> }).send = (c: unknown) =>
      send(c).catch((e: unknown) => { throw isConnectionError(e) || is5xx(e) ? new DependencyUnavailable('ObjectStore', e) : e; });
    this.prefix = opts.prefix ? opts.prefix.replace(/\/+$/, '') + '/' : '';
  }

  private k(key: string) {
    assertKey(key);
    return this.prefix + key;
  }

  async put(key: string, data: Buffer, contentType = 'application/octet-stream'): Promise<void> {
    // A single PUT is atomic in S3: the object appears whole or not at all.
    await this.client.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: this.k(key), Body: data, ContentType: contentType }));
  }

  /**
   * A stream up to one part long is one PUT; a longer one a multipart upload, part by part (one
   * part in memory at a time; @aws-sdk/lib-storage is not a dependency), completed only once
   * the whole stream was read: S3 shows the object whole or not at all. A failure or a stream
   * past maxBytes aborts the upload, so no parts are left billed.
   */
  async putStream(key: string, source: Readable, o: PutStreamOptions = {}): Promise<StreamedObject> {
    const Key = this.k(key);
    const Bucket = this.opts.bucket;
    const ContentType = o.contentType ?? 'application/octet-stream';
    const partBytes = Math.max(5 << 20, this.opts.partBytes ?? 8 << 20);
    const meter = new Meter(o.maxBytes);
    source.on('error', (e) => meter.destroy(e));
    source.pipe(meter);
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      const body = Buffer.concat(pending, pendingBytes);
      pending = []; pendingBytes = 0;
      uploadId ??= (await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType }))).UploadId!;
      const PartNumber = parts.length + 1;
      const r = await this.client.send(new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber, Body: body, ContentLength: body.length }));
      parts.push({ ETag: r.ETag!, PartNumber });
    };
    try {
      for await (const chunk of meter as AsyncIterable<Buffer>) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= partBytes) await flush();
      }
      if (uploadId === undefined) {
        await this.client.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.concat(pending, pendingBytes), ContentType }));
      } else {
        if (pendingBytes) await flush();
        await this.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
      }
    } catch (e) {
      if (!source.readableEnded) source.destroy();
      if (uploadId !== undefined) await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch(() => { /* the original error matters */ });
      throw e;
    }
    return meter.result();
  }

  putFile(key: string, file: string, contentType?: string): Promise<StreamedObject> {
    return this.putStream(key, createReadStream(file), { contentType });
  }

  async getStream(key: string): Promise<Readable | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.k(key) }));
      return r.Body as Readable;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async getToFile(key: string, file: string): Promise<boolean> {
    const src = await this.getStream(key);
    if (!src) return false;
    await streamToFile(src, file);
    return true;
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.k(key) }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.k(key) }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.k(key) }));
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key.slice(this.prefix.length));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async listModified(prefix: string): Promise<{ key: string; modifiedAt: number }[]> {
    const out: { key: string; modifiedAt: number }[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key) out.push({ key: o.Key.slice(this.prefix.length), modifiedAt: o.LastModified?.getTime() ?? 0 });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.opts.bucket }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
}

function is5xx(e: unknown): boolean {
  const s = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return typeof s === 'number' && s >= 500;
}
