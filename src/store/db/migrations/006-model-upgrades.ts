// Group model upgrades (UpgradeGroupFaceModelVersion): the job rows (restart-safe: a running
// job resumes on start) and features computed under a model version other than the one a face
// or person currently serves with (the upgrade's new features until the switch, the old ones
// after it until a revert). Sealed like faces.feature, with the same aad (face:/person:).
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';
import { binary } from './column-types.ts';

export const m006_model_upgrades = {
  async up(db: Kysely<any>, d: Dialect) {
    await db.schema.createTable('face_upgrade_jobs')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('group_id', 'text', (c) => c.notNull())
      .addColumn('from_version', 'text', (c) => c.notNull())
      .addColumn('to_version', 'text', (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull()) // 0 running, 1 done, 2 reverted, 3 failed
      .addColumn('progress', 'integer', (c) => c.notNull()) // 0-100
      .addColumn('error', 'text')
      .addColumn('start_time', 'bigint', (c) => c.notNull())
      .addColumn('end_time', 'bigint', (c) => c.notNull()) // 0 while running
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('face_upgrade_jobs_pk', ['app_id', 'job_id'])
      .execute();
    await db.schema.createIndex('face_upgrade_jobs_group').on('face_upgrade_jobs').columns(['app_id', 'group_id']).execute();
    await db.schema.createIndex('face_upgrade_jobs_status').on('face_upgrade_jobs').columns(['status']).execute();

    await db.schema.createTable('face_alt_features')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull())
      .addColumn('face_id', 'text', (c) => c.notNull()) // '' = the person's combined feature
      .addColumn('model_version', 'text', (c) => c.notNull())
      .addColumn('feature', binary(d), (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('face_alt_features_pk', ['app_id', 'person_id', 'face_id', 'model_version'])
      .execute();
  },
};
