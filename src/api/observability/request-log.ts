// The structured request log: pino (what Fastify itself is built on; JSON lines, cheap), one
// line per request with its RequestId, plus warnings and errors bound to the same request.
// What a line may hold is decided here, not at each call site: the URL's query values are
// replaced (a result link's Signature is a bearer credential), messages go through the URL
// redactor, and no header, body or parameter is serialised (the error log keeps redacted
// parameters; the RequestId finds them there).
import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { looksLikeSecretBearingUrl, redactUrl } from '../../services/logs/url-redact.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createRequestLogger(level: LogLevel, stream?: NodeJS.WritableStream): FastifyBaseLogger {
  return pino({
    level,
    base: { service: 'facevault' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Fastify binds `req` on its own child loggers; only what is safe of it is kept.
    serializers: { req: (req: { method?: string; url?: string }) => ({ method: req.method, url: safePath(req.url ?? '') }) },
  }, stream as pino.DestinationStream | undefined);
}

/** A request path as logs may keep it: query parameter names stay, their values do not. */
export function safePath(url: string): string {
  const q = url.indexOf('?');
  const p = q < 0 ? url : url.slice(0, q);
  if (q < 0) return p.slice(0, 256);
  const names = [...new URLSearchParams(url.slice(q + 1)).keys()].slice(0, 16);
  return `${p.slice(0, 256)}?${names.map((n) => `${encodeURIComponent(n)}=REDACTED`).join('&')}`;
}

/** An error message for the log: any URL in it loses its query and credentials. */
export function safeMessage(message: string): string {
  return message.slice(0, 500).replace(/\bhttps?:\/\/\S+/gi, (u) => (looksLikeSecretBearingUrl(u) ? redactUrl(u) : u));
}
