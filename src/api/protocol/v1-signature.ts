// Tencent's v1 signature (HmacSHA1 / HmacSHA256) as the SDKs compute it (Node:
// abstract_client.js formatRequestData/formatSignString, sign.js Sign.sign): every field but
// Signature, sorted by name, joined as k=v with no URL encoding, after METHOD + host + path + "?",
// HMAC'd with the SecretKey and base64-encoded. Signing (tests, tools) and verification live
// together so they cannot disagree.
import crypto from 'node:crypto';
import { hostCandidates, signaturesEqual } from './tc3-signature.ts';

export type V1Method = 'HmacSHA1' | 'HmacSHA256';
export const V1_METHODS: readonly V1Method[] = ['HmacSHA1', 'HmacSHA256'];

/** The common (non-action) fields of a v1 request; everything else is the action's parameters. */
export const V1_COMMON_FIELDS = new Set(['Action', 'Version', 'Region', 'Timestamp', 'Nonce', 'SecretId', 'Signature', 'SignatureMethod', 'Token', 'Language', 'RequestClient']);

export function v1StringToSign(method: 'GET' | 'POST', host: string, fields: Record<string, string>): string {
  const keys = Object.keys(fields).filter((k) => k !== 'Signature').sort();
  return `${method}${host}/?${keys.map((k) => `${k}=${fields[k]}`).join('&')}`;
}

export function v1Signature(secretKey: string, signatureMethod: V1Method, stringToSign: string): string {
  return crypto.createHmac(signatureMethod === 'HmacSHA1' ? 'sha1' : 'sha256', secretKey).update(stringToSign, 'utf8').digest('base64');
}

/** Signs `fields` (adds SignatureMethod's result as Signature), as the SDKs do: for tests and tools. */
export function signV1(secretKey: string, method: 'GET' | 'POST', host: string, fields: Record<string, string>): Record<string, string> {
  const sm = (fields.SignatureMethod as V1Method | undefined) ?? 'HmacSHA1';
  return { ...fields, Signature: v1Signature(secretKey, sm, v1StringToSign(method, host, fields)) };
}

/**
 * Verifies a v1 Signature. The Node SDK signs the endpoint as configured (with its port when it
 * has one), others sign the bare host name, so both forms are tried (at most two HMACs).
 */
export function verifyV1(i: { secretKey: string; method: 'GET' | 'POST'; host: string; fields: Record<string, string>; signatureMethod: V1Method }): boolean {
  const given = i.fields.Signature ?? '';
  for (const host of hostCandidates(i.host)) {
    if (signaturesEqual(v1Signature(i.secretKey, i.signatureMethod, v1StringToSign(i.method, host, i.fields)), given)) return true;
  }
  return false;
}
