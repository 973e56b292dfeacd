// Migrations in order. Each takes the dialect so that column types can differ where
// SQLite and PostgreSQL must (binary), while the queries that use them stay one code path.
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';
import { m001_foundation } from './001-foundation.ts';
import { m002_face_library } from './002-face-library.ts';
import { m003_fusion } from './003-fusion.ts';
import { m005_privacy } from './005-privacy.ts';
import { m004_audit_log } from './004-audit-log.ts';
import { m006_model_upgrades } from './006-model-upgrades.ts';
import { m007_console_sessions } from './007-console-sessions.ts';
import { m008_federation_tokens } from './008-federation-tokens.ts';
import { m009_video } from './009-video.ts';
import { m010_job_leases } from './010-job-leases.ts';
import { m011_group_counts } from './011-group-counts.ts';

export interface DialectMigration {
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

export const migrations: Record<string, DialectMigration> = {
  '001-foundation': m001_foundation,
  '002-face-library': m002_face_library,
  '003-fusion': m003_fusion,
  '005-privacy': m005_privacy,
  '004-audit-log': m004_audit_log,
  '006-model-upgrades': m006_model_upgrades,
  '007-console-sessions': m007_console_sessions,
  '008-federation-tokens': m008_federation_tokens,
  '009-video': m009_video,
  '010-job-leases': m010_job_leases,
  '011-group-counts': m011_group_counts,
};

