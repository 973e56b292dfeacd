// `facevault doctor`: what this installation runs on — media library and FFmpeg version,
// model sets (files present), database and object store — without starting a server.
import fs from 'node:fs';
import type { Config } from '../config.ts';
import { loadModelSets, verifyModelSet } from '../vision/model-set.ts';
import { mediaLibrary } from '../vision/video/media.ts';

export interface DoctorReport {
  node: string;
  media: { library: string; version: string; ffmpeg: string; libraries: Record<string, string> } | { error: string };
  models: { version: string; description: string; ok: boolean; problem?: string }[];
  database: string;
  objectStore: string;
  queue: string;
}

export function doctorReport(config: Config): DoctorReport {
  let media: DoctorReport['media'];
  try {
    const m = mediaLibrary();
    media = { library: m.name, version: m.ffmpeg.binding, ffmpeg: m.ffmpeg.ffmpeg, libraries: m.ffmpeg.libraries };
  } catch (e) { media = { error: (e as Error).message }; }
  const models: DoctorReport['models'] = [];
  try {
    for (const s of loadModelSets(config.modelSetDirs).values()) {
      try { verifyModelSet(s); models.push({ version: s.version, description: s.description, ok: true }); } catch (e) { models.push({ version: s.version, description: s.description, ok: false, problem: (e as Error).message }); }
    }
  } catch (e) { models.push({ version: '?', description: '', ok: false, problem: (e as Error).message }); }
  // Credentials never appear: only the kind and where (host/database or path).
  const database = config.databaseUrl ? `PostgreSQL ${redactUrl(config.databaseUrl)}` : `SQLite ${config.dataDir}/facevault.sqlite${fs.existsSync(config.dataDir) ? '' : ' (not created yet)'}`;
  const o = config.objectStore;
  const objectStore = o.kind === 'local' ? `local directory ${o.dir}` : `S3 bucket ${o.bucket}${o.prefix ? `/${o.prefix}` : ''}${o.endpoint ? ` at ${redactUrl(o.endpoint)}` : ''}`;
  const queue = config.databaseUrl ? 'video jobs: database rows, shared with `facevault worker` processes through pg-boss' : 'video jobs: database rows, run in process (embedded)';
  return { node: process.version, media, models, database, objectStore, queue };
}

function redactUrl(u: string): string {
  try { const x = new URL(u); x.username = ''; x.password = ''; x.search = ''; return x.toString(); } catch { return '(unparsable URL)'; }
}

export function formatDoctor(r: DoctorReport): string {
  const m = r.media;
  const media = 'error' in m ? `UNAVAILABLE: ${m.error}` : `${m.library} ${m.version} (FFmpeg ${m.ffmpeg}; ${Object.entries(m.libraries).map(([k, v]) => `${k} ${v}`).join(', ')})`;
  const lines = [`node            ${r.node}`, `media           ${media}`];
  for (const s of r.models) lines.push(`models          ${s.version}${s.ok ? '' : ` MISSING: ${s.problem}`} — ${s.description}`);
  lines.push(`database        ${r.database}`, `object store    ${r.objectStore}`, `queue           ${r.queue}`);
  return lines.join('\n');
}
