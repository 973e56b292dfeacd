// The product's data-processing promise as data: one rule per data class, with its default,
// its configurable bounds and the variable that sets it. DescribeRetentionPolicy serves this
// table and docs/PRIVACY.md is generated from it, so what we say is what the code does.
import { ConfigError } from '../config.ts';

const DAY = 24 * 3600 * 1000;

export interface RetentionRule {
  dataClass: string;
  holds: string;
  /** ms; null = kept until deleted by the customer or a deletion request. */
  retainMs: number | null;
  envVar?: string;
  minMs?: number;
  maxMs?: number;
  /** For size-capped classes. */
  maxBytes?: number;
  deletedBy: string;
}

export const BASE_RULES: RetentionRule[] = [
  { dataClass: 'face_feature', holds: "the model's template, stored as an encrypted binary string; never the face image by default", retainMs: null, deletedBy: 'DeleteFace/DeletePerson/DeleteGroup or a deletion request' },
  { dataClass: 'enrolment_image', holds: 'enrolment photos, only for groups that opt in (encrypted), for model upgrades', retainMs: null, deletedBy: 'with the face/person/group, or a deletion request' },
  { dataClass: 'error_log', holds: 'request/response with image payloads replaced by size and hash, API info, return code, algorithm output', retainMs: null, deletedBy: 'size cap (oldest segment first) or a deletion request' },
  { dataClass: 'running_log', holds: 'client IP, account, time, action, billed or not, PersonId, recognition result', retainMs: null, deletedBy: 'a deletion request' },
  { dataClass: 'fusion_log', holds: 'time, AppId, Uin, SubUin, RequestId, client IP, latency, region, action, image/video/result URLs', retainMs: 7 * DAY, envVar: 'FACEVAULT_RETAIN_FUSION_LOG_DAYS', minMs: 1 * DAY, maxMs: 30 * DAY, deletedBy: 'the retention sweeper' },
  { dataClass: 'material', holds: 'activity and material images/videos and activity–material records', retainMs: null, deletedBy: 'DeleteMaterial/DeleteActivity or a deletion request' },
  { dataClass: 'material_derivative', holds: 'resolution, size, face rectangles, landmarks, colour statistics, video/audio metadata, fuse parameters', retainMs: null, deletedBy: 'with its material, always' },
  { dataClass: 'fused_result', holds: 'FuseFace image results (FuseFaceUltra: see fused_result_ultra)', retainMs: 7 * DAY, envVar: 'FACEVAULT_RETAIN_FUSED_IMAGE_DAYS', minMs: 1 * DAY, maxMs: 7 * DAY, deletedBy: 'the retention sweeper; URLs stop working at expiry' },
  { dataClass: 'fused_result_ultra', holds: 'FuseFaceUltra image results', retainMs: 1 * DAY, envVar: 'FACEVAULT_RETAIN_FUSED_ULTRA_DAYS', minMs: 1 * DAY, maxMs: 7 * DAY, deletedBy: 'the retention sweeper; URLs stop working at expiry' },
  { dataClass: 'video_result', holds: 'video fusion results and jobs', retainMs: 1 * DAY, envVar: 'FACEVAULT_RETAIN_VIDEO_DAYS', minMs: 1 * DAY, maxMs: 1 * DAY, deletedBy: 'the retention sweeper; URLs stop working at expiry' },
];

export function retentionRules(env: NodeJS.ProcessEnv = process.env, errorLogMaxBytes = 2 * 1024 ** 3): RetentionRule[] {
  return BASE_RULES.map((r) => {
    const out = { ...r };
    if (r.dataClass === 'error_log') out.maxBytes = errorLogMaxBytes;
    if (r.envVar && env[r.envVar]) {
      const raw = env[r.envVar]!;
      if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(r.envVar, `must be a number of days, got "${raw}"`);
      const ms = Number(raw) * DAY;
      if (ms < (r.minMs ?? 0) || ms > (r.maxMs ?? Infinity)) throw new ConfigError(r.envVar, `must be between ${(r.minMs ?? 0) / DAY} and ${(r.maxMs ?? 0) / DAY} days, got ${raw}`);
      out.retainMs = ms;
    }
    return out;
  });
}

export function retentionFor(rules: RetentionRule[], dataClass: string): number | null {
  const r = rules.find((x) => x.dataClass === dataClass);
  if (!r) throw new Error(`no retention rule for data class ${dataClass}`);
  return r.retainMs;
}
