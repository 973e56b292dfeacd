// The master key's text form, shared by config validation and the keyring that loads it.
import { ConfigError } from './config-error.ts';

/** Accepts 32 bytes as base64 (44 chars) or hex (64 chars). */
export function parseMasterKey(text: string): Buffer {
  const t = text.trim();
  let buf: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(t)) buf = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/]{43}=?$/.test(t)) buf = Buffer.from(t, 'base64');
  if (!buf || buf.length !== 32) throw new ConfigError('FACEVAULT_MASTER_KEY', 'must be 32 bytes as 64 hex digits or base64');
  return buf;
}
