// Fused images handed out by URL: stored in the blob store for a limited time and served by
// GET /results/<token>.jpg?Expires=<unix s>&Signature=<hex>, an HMAC under a key derived from
// the master key. The URL is the credential, so it expires with the result.
import crypto from 'node:crypto';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { FusionRepo } from '../../store/fusion/fusion-repo.ts';
import type { Clock } from '../../domain/clock.ts';
import { checkSignedLink, type LinkRefusal } from '../media/signed-link.ts';

export interface StoredResult { url: string; token: string; blobKey: string; expiresAt: number }

export class FusionResults {
  private baseUrl: () => string = () => 'http://127.0.0.1';

  constructor(private readonly repo: FusionRepo, private readonly blobs: BlobStore, private readonly clock: Clock, private readonly key: Buffer, private readonly publicUrl: string | null) {
    if (publicUrl) this.baseUrl = () => publicUrl;
  }

  sign(name: string, expires: number): string {
    return crypto.createHmac('sha256', this.key).update(`GET\n/results/${name}\n${expires}`).digest('hex');
  }

  async store(o: { appId: number; requestId: string; activityId: string | null; materialId: string | null; jpeg: Buffer; dataClass: string; retainMs: number; endUserId?: string }): Promise<StoredResult> {
    const now = this.clock.now();
    const token = crypto.randomBytes(24).toString('base64url');
    const blobKey = `fusion/${o.appId}/results/${token}.jpg`;
    const expiresAt = now + o.retainMs;
    await this.blobs.put(blobKey, o.jpeg, 'image/jpeg');
    try {
      await this.repo.insertResult(
        { token, app_id: o.appId, blob_key: blobKey, request_id: o.requestId, activity_id: o.activityId, material_id: o.materialId, created_at: now, data_class: o.dataClass, expires_at: expiresAt, end_user_id: o.endUserId ?? null },
        { key: blobKey, dataClass: o.dataClass, expiresAt, size: o.jpeg.length, contentType: 'image/jpeg', ownerRef: o.materialId ?? o.requestId, createdAt: now },
      );
    } catch (e) {
      await this.blobs.delete(blobKey);
      throw e;
    }
    const exp = Math.floor(expiresAt / 1000);
    const name = `${token}.jpg`;
    return { url: `${this.baseUrl()}/results/${name}?Expires=${exp}&Signature=${this.sign(name, exp)}`, token, blobKey, expiresAt };
  }

  /**
   * Links point at FACEVAULT_PUBLIC_URL, or else at the address the server listens on, which
   * only the API layer knows once it listens (api/routes/results.ts tells us).
   */
  useListenAddress(base: () => string): void {
    if (!this.publicUrl) this.baseUrl = base;
  }

  /**
   * The stored result behind a signed link, or why not: 'malformed' (404), 'forbidden' (bad,
   * missing or expired signature: 403) or 'gone' (404). The URL is the credential.
   */
  async open(name: string, expires: string | undefined, signature: string | undefined): Promise<{ data: Buffer } | LinkRefusal> {
    const now = this.clock.now();
    const link = checkSignedLink({ name, pattern: /^([A-Za-z0-9_-]{32})\.jpg$/, expires, signature, sign: (n, e) => this.sign(n, e), now });
    if ('refused' in link) return link;
    const row = await this.repo.resultByToken(link.id);
    if (!row || (row.expires_at !== null && row.expires_at <= now)) return { refused: 'gone', why: 'not found' };
    const data = await this.blobs.get(row.blob_key);
    if (!data) return { refused: 'gone', why: 'not found' };
    return { data };
  }
}
