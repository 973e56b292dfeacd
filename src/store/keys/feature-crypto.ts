// Seals face features under the owning AppId's data key. Unwrapped data keys are cached in
// memory (unwrapping is one AES-GCM open, but a rebuild opens millions of features).
// The aad binds each ciphertext to its AppId and row, so a sealed feature copied onto another
// face or tenant fails to open.
import { open, seal, type Keyring } from './keyring.ts';
import { DataKeyUnavailable, type KeyStore } from './key-store.ts';

export class FeatureCrypto {
  private readonly keys = new Map<number, Buffer>();

  constructor(private readonly keyStore: KeyStore, private readonly keyring: Keyring) {}

  async dataKey(appId: number): Promise<Buffer> {
    const cached = this.keys.get(appId);
    if (cached) return cached;
    const r = await this.keyStore.get(appId);
    if (r.state !== 'present') throw new DataKeyUnavailable(appId, r.state);
    const key = this.keyring.unwrapDataKey(appId, r.wrapped);
    this.keys.set(appId, key);
    return key;
  }

  /** Forget a cached key (after crypto-shredding an AppId). */
  forget(appId: number): void {
    this.keys.get(appId)?.fill(0);
    this.keys.delete(appId);
  }

  sealFace(key: Buffer, appId: number, faceId: string, v: Float32Array): Buffer {
    return seal(key, f32Bytes(v), `face:${appId}:${faceId}`);
  }

  openFace(key: Buffer, appId: number, faceId: string, sealed: Buffer): Float32Array {
    return bytesF32(open(key, sealed, `face:${appId}:${faceId}`));
  }

  sealPerson(key: Buffer, appId: number, personId: string, v: Float32Array): Buffer {
    return seal(key, f32Bytes(v), `person:${appId}:${personId}`);
  }

  openPerson(key: Buffer, appId: number, personId: string, sealed: Buffer): Float32Array {
    return bytesF32(open(key, sealed, `person:${appId}:${personId}`));
  }

  sealImage(key: Buffer, appId: number, faceId: string, image: Buffer): Buffer {
    return seal(key, image, `image:${appId}:${faceId}`);
  }

  openImage(key: Buffer, appId: number, faceId: string, sealed: Buffer): Buffer {
    return open(key, sealed, `image:${appId}:${faceId}`);
  }
}

function f32Bytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function bytesF32(b: Buffer): Float32Array {
  const out = new Float32Array(b.length / 4);
  new Uint8Array(out.buffer).set(b);
  b.fill(0);
  return out;
}

/** Mean of unit vectors, renormalised: a person's combined feature. */
export function combine(vs: Float32Array[]): Float32Array {
  const dim = vs[0].length;
  const out = new Float32Array(dim);
  for (const v of vs) for (let i = 0; i < dim; i++) out[i] += v[i];
  let n = 0;
  for (let i = 0; i < dim; i++) n += out[i] * out[i];
  n = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < dim; i++) out[i] *= n;
  return out;
}
