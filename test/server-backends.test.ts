// The server on its scale-out backends: PostgreSQL for the database and an S3-compatible
// object store, configured through the same environment variables a deployment uses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import { startTestServer, errorCode, tempDir, type TestServer } from './helpers/server.ts';
import { PG_URL, freshPgSchema, pgSkipReason } from './helpers/backends.ts';

describe.skipIf(!PG_URL)(`server on PostgreSQL + S3${PG_URL ? '' : ` (${pgSkipReason})`}`, () => {
  let s3: any;
  let t: TestServer;
  const schema = freshPgSchema();
  beforeAll(async () => {
    s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: tempDir('s3rver-') });
    const { port } = await s3.run();
    const endpoint = `http://127.0.0.1:${port}`;
    const c = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await c.send(new CreateBucketCommand({ Bucket: 'fv-objects' }));
    c.destroy();
    t = await startTestServer({
      FACEVAULT_DATABASE_URL: PG_URL, FACEVAULT_OBJECT_STORE: 's3://fv-objects/deploy1', FACEVAULT_S3_ENDPOINT: endpoint,
      FACEVAULT_S3_ACCESS_KEY_ID: 'S3RVER', FACEVAULT_S3_SECRET_ACCESS_KEY: 'S3RVER',
    }, { pgSchema: schema });
  });
  afterAll(async () => {
    if (t) {
      await sql.raw(`DROP SCHEMA "${schema}" CASCADE`).execute(t.run.app.db.kysely).catch(() => {});
      await t.stop();
    }
    await s3?.close();
  });

  it('serves SDK calls, checks both backends in /readyz, and records the call in PostgreSQL', async () => {
    expect(t.run.app.db.dialect).toBe('postgres');
    expect(t.run.app.blobs.kind).toBe('s3');
    const r = await t.common('iai').request('DescribeRetentionPolicy', {});
    const row = await t.run.app.runningLog.byRequestId(r.RequestId);
    expect(row).toMatchObject({ app_id: t.creds.AppId, action: 'DescribeRetentionPolicy', code: '' });
    const ready = (await (await fetch(`${t.url}/readyz`)).json()) as any;
    expect(ready.checks).toMatchObject({ database: 'ok', objectStore: 'ok' });
  });

  it('auth errors behave the same on PostgreSQL', async () => {
    expect(await errorCode(t.common('iai', { SecretId: 'AKIDnope', SecretKey: 'x'.repeat(32) }).request('DescribeRetentionPolicy', {}))).toBe('AuthFailure.SecretIdNotFound');
    expect(await errorCode(t.common('iai', { SecretId: t.creds.SecretId, SecretKey: 'z'.repeat(32) }).request('DescribeRetentionPolicy', {}))).toBe('AuthFailure.SignatureFailure');
  });
});
