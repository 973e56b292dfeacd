// v1 replay protection: a (SecretId, Timestamp, Nonce) seen once within the clock window is
// refused again. The Node SDK draws Nonce from only 0..65535, so the key includes the key and
// the signed timestamp: a replay must repeat both, two honest requests collide only when the
// same key sends the same nonce in the same second. An entry is needed only while its
// timestamp is still inside the window, so memory is bounded by the traffic of one window,
// and by `maxEntries`: when full of live entries, new v1 requests are refused rather than an
// entry forgotten (forgetting would let that request be replayed).
import { TcError } from '../../domain/errors.ts';

export interface NonceStore {
  /** True when this key was not seen before (and is now remembered until `expiresAtMs`). */
  claim(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> | boolean;
}

export class MemoryNonceStore implements NonceStore {
  private readonly seen = new Map<string, number>();
  constructor(private readonly maxEntries = 200_000) {}

  claim(key: string, expiresAtMs: number, nowMs: number): boolean {
    const until = this.seen.get(key);
    if (until !== undefined && until > nowMs) return false;
    if (this.seen.size >= this.maxEntries) this.sweep(nowMs);
    if (this.seen.size >= this.maxEntries) throw new TcError('RequestLimitExceeded', 'too many v1-signed requests within the signature window; retry shortly or use TC3-HMAC-SHA256');
    this.seen.set(key, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(nowMs: number): void {
    for (const [k, until] of this.seen) if (until <= nowMs) this.seen.delete(k);
  }
}
