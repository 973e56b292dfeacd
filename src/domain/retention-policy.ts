// The product's data-processing promise as data: one rule per data class, with its default,
// its configurable bounds and the variable that sets it. DescribeRetentionPolicy serves this
// table and docs/PRIVACY.md is generated from it, so what we say is what the code does.
import { ConfigError } from './config-error.ts';

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

/** What config loading keeps: per-class overrides (ms) and how often the sweeper runs. */
export interface RetentionSettings {
  retainMs: Record<string, number>;
  sweepIntervalMs: number;
}

export const SWEEP_INTERVAL_VAR = { name: 'FACEVAULT_RETENTION_SWEEP_SECONDS', default: 300, min: 10, max: 86_400 };

const days = (ms: number) => String(+(ms / DAY).toFixed(3));

/** The retention variables for the `serve --help` table and docs/PRIVACY.md. */
export const RETENTION_CONFIG_VARS = [
  ...BASE_RULES.filter((r) => r.envVar).map((r) => ({
    name: r.envVar!, default: days(r.retainMs!),
    description: `Days ${r.dataClass} is kept (${days(r.minMs ?? 0)} to ${days(r.maxMs!)}); ${r.deletedBy}`,
  })),
  { name: SWEEP_INTERVAL_VAR.name, default: String(SWEEP_INTERVAL_VAR.default), description: `Seconds between retention sweeps (${SWEEP_INTERVAL_VAR.min} to ${SWEEP_INTERVAL_VAR.max}); expired result links stop working at expiry regardless` },
];

/** Parses FACEVAULT_RETAIN_* at config load, so a bad value stops the start naming the variable. */
export function parseRetention(env: NodeJS.ProcessEnv): RetentionSettings {
  const retainMs: Record<string, number> = {};
  for (const r of BASE_RULES) {
    const raw = r.envVar ? env[r.envVar]?.trim() : undefined;
    if (!r.envVar || raw === undefined || raw === '') continue;
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(r.envVar, `must be a number of days, got "${raw}"`);
    const ms = Math.round(Number(raw) * DAY);
    if (ms < (r.minMs ?? 0) || ms > (r.maxMs ?? Infinity)) throw new ConfigError(r.envVar, `must be between ${days(r.minMs ?? 0)} and ${days(r.maxMs!)} days, got ${raw}`);
    retainMs[r.dataClass] = ms;
  }
  const v = SWEEP_INTERVAL_VAR;
  const raw = env[v.name]?.trim();
  let seconds = v.default;
  if (raw !== undefined && raw !== '') {
    if (!/^\d+$/.test(raw)) throw new ConfigError(v.name, `must be a whole number of seconds, got "${raw}"`);
    seconds = Number(raw);
    if (seconds < v.min || seconds > v.max) throw new ConfigError(v.name, `must be between ${v.min} and ${v.max}, got ${seconds}`);
  }
  return { retainMs, sweepIntervalMs: seconds * 1000 };
}

/** The effective rules of a loaded configuration. */
export function rulesFromConfig(config: { retention: RetentionSettings; errorLogMaxBytes: number }): RetentionRule[] {
  return BASE_RULES.map((r) => {
    const out = { ...r };
    if (r.dataClass === 'error_log') out.maxBytes = config.errorLogMaxBytes;
    if (config.retention.retainMs[r.dataClass] !== undefined) out.retainMs = config.retention.retainMs[r.dataClass];
    return out;
  });
}

export function retentionFor(rules: RetentionRule[], dataClass: string): number | null {
  const r = rules.find((x) => x.dataClass === dataClass);
  if (!r) throw new Error(`no retention rule for data class ${dataClass}`);
  return r.retainMs;
}
