// URLs as logs may keep them. A Url input is often pre-signed (S3 X-Amz-Signature, COS
// q-signature, Azure sig, CDN sign/token...): its query is a bearer credential for the object.
// Parameter names stay (they tell an operator what kind of link it was); every value is
// replaced, since no list of signature names is complete. Credentials in the authority and the
// fragment go too.
const MARK = 'REDACTED';

export function redactUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    // Not a URL the parser accepts: keep what comes before any query or fragment.
    const cut = raw.search(/[?#]/);
    return cut < 0 ? raw : raw.slice(0, cut) + (raw[cut] === '?' ? `?${MARK}` : '');
  }
  u.username = '';
  u.password = '';
  u.hash = '';
  if (u.search) {
    const names = [...new URLSearchParams(u.search).keys()];
    u.search = names.map((n) => `${encodeURIComponent(n)}=${MARK}`).join('&');
  }
  return u.href;
}

/** A string that looks like an http(s) URL with a query, fragment or credentials: worth redacting. */
export function looksLikeSecretBearingUrl(s: string): boolean {
  return /^\s*https?:\/\//i.test(s) && /[?#@]/.test(s);
}
