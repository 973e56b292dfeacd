// The console's only way to the server: the session endpoints and /console/api/call, which runs
// an action exactly as a signed API call would (same policy, same logs). The session cookie is
// HttpOnly (this code never sees it); the CSRF token lives in memory only.
export interface User { AppId: number; Uin: string; SubUin: string; IsRoot: boolean; SecretId: string; ExpiresAt: string }
export interface ActionInfo { Service: string; Action: string; Version: string }

export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly requestId = '') {
    super(message);
  }
}

let csrf = '';
let onExpired: () => void = () => {};
const versions = new Map<string, string>();
const allowed = new Set<string>();

export function onSessionEnded(fn: () => void): void {
  onExpired = fn;
}

async function json(res: Response): Promise<any> {
  const body = await res.json().catch(() => null);
  if (res.status === 401) {
    csrf = '';
    onExpired();
  }
  const err = body?.Response?.Error;
  if (err) throw new ApiError(err.Code, err.Message, body.Response.RequestId);
  if (!res.ok) throw new ApiError(`HTTP${res.status}`, body?.error ?? res.statusText);
  return body;
}

export async function consoleConfig(): Promise<{ SessionTtlSeconds: number; IdleTimeoutSeconds: number }> {
  return (await fetch('/console/api/config')).json();
}

export async function currentSession(): Promise<User | null> {
  const res = await fetch('/console/api/session', { credentials: 'same-origin' });
  if (res.status === 401) return null;
  const b = await json(res);
  csrf = b.CsrfToken;
  return b.User;
}

export async function signIn(secretId: string, secretKey: string): Promise<User> {
  const res = await fetch('/console/api/sign-in', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ SecretId: secretId, SecretKey: secretKey }) });
  const body = await res.json().catch(() => null);
  const err = body?.Response?.Error;
  if (err) throw new ApiError(err.Code, err.Message, body.Response.RequestId);
  csrf = body.CsrfToken;
  return body.User;
}

export async function signOut(): Promise<void> {
  await fetch('/console/api/sign-out', { method: 'POST', credentials: 'same-origin', headers: { 'x-fv-csrf': csrf } }).catch(() => {});
  csrf = '';
}

/** Which actions this key may call; the console offers nothing else. */
export async function loadActions(): Promise<Set<string>> {
  const b = await json(await fetch('/console/api/actions', { credentials: 'same-origin' }));
  allowed.clear();
  for (const a of b.Actions as ActionInfo[]) {
    allowed.add(`${a.Service}:${a.Action}`);
    versions.set(`${a.Service}:${a.Action}`, a.Version);
  }
  return allowed;
}

export const can = (service: string, action: string) => allowed.has(`${service}:${action}`);

const VERSION: Record<string, string> = { iai: '2020-03-03', facefusion: '2022-09-27', vclm: '2024-05-23', facevault: '2020-03-03' };

/** Runs service:Action with these parameters; resolves to the Response without its RequestId. */
export async function call<T = any>(service: string, action: string, params: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch('/console/api/call', {
    method: 'POST', credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-tc-action': action, 'x-tc-version': versions.get(`${service}:${action}`) ?? VERSION[service], 'x-fv-csrf': csrf },
    body: JSON.stringify(params),
  });
  return (await json(res)).Response as T;
}

/** A multipart upload (CreateMaterial) with upload progress, which fetch() cannot report. */
export function upload<T = any>(service: string, action: string, fields: Record<string, string>, fileField: string, file: File, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append(fileField, file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/console/api/call');
    xhr.setRequestHeader('x-tc-action', action);
    xhr.setRequestHeader('x-tc-version', versions.get(`${service}:${action}`) ?? VERSION[service]);
    xhr.setRequestHeader('x-fv-csrf', csrf);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError('NetworkError', 'the upload did not reach the server'));
    xhr.onload = () => {
      let body: any = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* below */ }
      if (xhr.status === 401) { csrf = ''; onExpired(); }
      const err = body?.Response?.Error;
      if (err) reject(new ApiError(err.Code, err.Message, body.Response.RequestId));
      else if (xhr.status !== 200 || !body?.Response) reject(new ApiError(`HTTP${xhr.status}`, body?.error ?? 'upload failed'));
      else resolve(body.Response as T);
    };
    xhr.send(form);
  });
}

/** A file as base64 without the data: prefix (the API's Image fields). */
export function fileBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

/** Result links name this server; load them from this origin so the CSP allows them. */
export function sameOriginUrl(url: string): string {
  try {
    const u = new URL(url, location.href);
    return u.pathname.startsWith('/results/') ? u.pathname + u.search : url;
  } catch {
    return url;
  }
}
