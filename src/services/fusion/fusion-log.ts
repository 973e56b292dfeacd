// The fusion log (Tencent's console keeps one per call): who fused what, from which image URLs,
// with which outcome. Every FuseFace/FuseFaceUltra that reaches the service leaves a record,
// success or not; requests refused while parsing are in the running and error logs instead.
import type { CallContext } from '../../domain/call.ts';
import type { Clock } from '../../domain/clock.ts';
import { TcError } from '../../domain/errors.ts';
import type { FusionRepo } from '../../store/fusion/fusion-repo.ts';
import type { ImageInput, LogoRequest, MergeRequest } from './fusion.ts';
import { redactUrl } from '../logs/url-redact.ts';

/** What of the call context the log records. */
export type FusionCallInfo = Pick<CallContext, 'caller' | 'requestId' | 'clientIp' | 'region' | 'action'>;

export interface LoggedFusion {
  activityId: string | null;
  materialId: string | null;
  imageUrls: string[];
  endUserId?: string;
}

/** The Url inputs of a fusion request, in request order: merge infos, the model, the logo. */
export function imageUrls(r: { merges: MergeRequest[]; model?: ImageInput; logo?: LogoRequest }): string[] {
  const urls: string[] = [];
  for (const m of r.merges) if (m.input.url) urls.push(m.input.url);
  if (r.model?.url) urls.push(r.model.url);
  if (r.logo?.input.url) urls.push(r.logo.input.url);
  return urls;
}

export class FusionLog {
  constructor(
    private readonly repo: FusionRepo,
    private readonly clock: Clock,
    private readonly retainMs: number,
  ) {}

  /** Runs one fusion and records it, whatever the outcome; a failing log write does not fail the call. */
  async around<T extends { resultUrl: string | null }>(call: FusionCallInfo, what: LoggedFusion, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let code = '', resultUrl: string | null = null;
    try {
      const r = await run();
      resultUrl = r.resultUrl;
      return r;
    } catch (e) {
      code = e instanceof TcError ? e.code : 'InternalError';
      throw e;
    } finally {
      const now = this.clock.now();
      await this.repo.appendLog({
        time: now, appId: call.caller.appId, uin: call.caller.uin, subUin: call.caller.subUin, requestId: call.requestId, clientIp: call.clientIp,
        latencyMs: performance.now() - started, region: call.region, action: call.action, activityId: what.activityId, materialId: what.materialId,
        // Pre-signed inputs: the query values are credentials; names stay so support can read it.
        imageUrls: what.imageUrls.map(redactUrl),
        // The signature is a bearer credential; the log keeps the link without it.
        resultUrl: resultUrl ? resultUrl.replace(/&Signature=[0-9a-f]+/, '') : null, code, expiresAt: now + this.retainMs,
        endUserId: what.endUserId ?? null,
      }).catch(() => {});
    }
  }
}
