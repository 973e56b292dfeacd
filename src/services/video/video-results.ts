// Fused videos handed out by URL: GET /video-results/<token>.mp4?Expires=<unix s>&Signature=<hex>,
// an HMAC under a key derived from the master key; the link dies with the result (1 day).
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../store/blobs/blob-store.ts';
import type { VideoRepo } from '../../store/video/video-repo.ts';
import type { Clock } from '../../domain/clock.ts';
import { checkSignedLink, type LinkRefusal } from '../media/signed-link.ts';

export class VideoResults {
  private baseUrl: () => string;

  constructor(private readonly repo: VideoRepo, private readonly blobs: BlobStore, private readonly clock: Clock, private readonly key: Buffer, private readonly publicUrl: string | null) {
    this.baseUrl = () => publicUrl ?? 'http://127.0.0.1';
  }

  private sign(name: string, expires: number): string {
    return crypto.createHmac('sha256', this.key).update(`GET\n/video-results/${name}\n${expires}`).digest('hex');
  }

  /** The signed link to a job's result (the job id is the token: unguessable, 32 url-safe characters). */
  url(jobId: string, expiresAt: number): string {
    const exp = Math.floor(expiresAt / 1000);
    const name = `${jobId}.mp4`;
    return `${this.baseUrl()}/video-results/${name}?Expires=${exp}&Signature=${this.sign(name, exp)}`;
  }

  /** Links point at FACEVAULT_PUBLIC_URL, or else at the address the server listens on. */
  useListenAddress(base: () => string): void {
    if (!this.publicUrl) this.baseUrl = base;
  }

  /** The result as a stream from the object store (a video is never read whole into memory); the caller sends or destroys it. */
  async open(name: string, expires: string | undefined, signature: string | undefined): Promise<{ stream: Readable } | LinkRefusal> {
    const now = this.clock.now();
    const link = checkSignedLink({ name, pattern: /^([A-Za-z0-9_-]{16,64})\.mp4$/, expires, signature, sign: (n, e) => this.sign(n, e), now });
    if ('refused' in link) return link;
    const row = await this.repo.jobById(link.id);
    if (!row || row.status !== 'done' || !row.result_key || (row.expires_at !== null && row.expires_at <= now)) return { refused: 'gone', why: 'not found' };
    const stream = await this.blobs.getStream(row.result_key);
    if (!stream) return { refused: 'gone', why: 'not found' };
    return { stream };
  }
}
