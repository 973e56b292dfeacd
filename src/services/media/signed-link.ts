// Result links are their own credential: GET /<route>/<name>?Expires=<unix s>&Signature=<hex>,
// an HMAC under a key derived from the master key. One check for image and video results.
import crypto from 'node:crypto';

export type LinkRefusal = { refused: 'malformed' | 'forbidden' | 'gone'; why: string };

/**
 * The link's id (the name's first capture group) when `name` has the expected form and the
 * signature holds and has not expired; otherwise why not: 'malformed' (404) or 'forbidden' (403).
 */
export function checkSignedLink(o: {
  name: string; pattern: RegExp; expires: string | undefined; signature: string | undefined;
  sign: (name: string, expires: number) => string; now: number;
}): { id: string } | LinkRefusal {
  const m = o.pattern.exec(o.name);
  if (!m) return { refused: 'malformed', why: 'not found' };
  const { expires, signature } = o;
  if (!expires || !/^\d{1,12}$/.test(expires) || !signature || !/^[0-9a-f]{64}$/.test(signature)) return { refused: 'forbidden', why: 'missing or malformed signature' };
  const expected = Buffer.from(o.sign(o.name, Number(expires)), 'hex');
  if (!crypto.timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return { refused: 'forbidden', why: 'signature does not match' };
  if (Number(expires) * 1000 <= o.now) return { refused: 'forbidden', why: 'the link has expired' };
  return { id: m[1] };
}
