// Envelope encryption. The master key (config or <data>/master.key) wraps one data key per
// AppId; data keys encrypt that AppId's face features. Deleting an AppId's wrapped data key
// makes every copy of its features unreadable at once (crypto-shredding), backups included.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseMasterKey } from '../../domain/master-key.ts';

const VERSION = 1;

/** AES-256-GCM; output = version(1) | iv(12) | tag(16) | ciphertext. `aad` binds the blob to its owner. */
export function seal(key: Buffer, plain: Buffer, aad: string): Buffer {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, c.getAuthTag(), body]);
}

export function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < 29 || sealed[0] !== VERSION) throw new Error('sealed data has an unknown format');
  const d = crypto.createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(sealed.subarray(13, 29));
  // GCM's final() only checks the tag and yields no bytes; skipping the concat copy matters
  // when an index rebuild opens millions of features.
  const out = d.update(sealed.subarray(29));
  const rest = d.final();
  return rest.length ? Buffer.concat([out, rest]) : out;
}

export function loadOrCreateMasterKey(configured: string | null, dataDir: string): Buffer {
  if (configured) return parseMasterKey(configured);
  const file = path.join(dataDir, 'master.key');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    return parseMasterKey(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = crypto.randomBytes(32);
  // 'wx' fails if another process created it meanwhile; then use theirs.
  try {
    fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return parseMasterKey(fs.readFileSync(file, 'utf8'));
    throw e;
  }
  return key;
}

export class Keyring {
  constructor(private readonly master: Buffer) {}

  sealSecret(plain: string, aad: string): Buffer {
    return seal(this.master, Buffer.from(plain, 'utf8'), aad);
  }

  openSecret(sealed: Buffer, aad: string): string {
    return open(this.master, sealed, aad).toString('utf8');
  }

  /** A purpose-bound key derived from the master key (e.g. for signing result URLs). */
  deriveKey(purpose: string): Buffer {
    return crypto.createHmac('sha256', this.master).update(`facevault:derive:${purpose}`).digest();
  }

  newWrappedDataKey(appId: number): Buffer {
    return seal(this.master, crypto.randomBytes(32), `datakey:${appId}`);
  }

  unwrapDataKey(appId: number, wrapped: Buffer): Buffer {
    return open(this.master, wrapped, `datakey:${appId}`);
  }
}
