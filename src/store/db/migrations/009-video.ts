// Video face fusion: a video material's derivative data (video/audio metadata and the face
// tracks' blob; the material itself is a fusion_materials row), and video fusion jobs with
// their results. Jobs and results carry expires_at (24 h / 1 day), so the sweeper removes them.
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';

export const m009_video = {
  async up(db: Kysely<any>, _d: Dialect) {
    await db.schema.createTable('video_materials')
      .addColumn('material_id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('activity_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull()) // tracking | ready | failed
      .addColumn('info', 'text', (c) => c.notNull()) // JSON: codec, resolution, fps, duration, bitrate, audio channels/sample rate
      .addColumn('tracks_key', 'text') // blob of the face tracks (vision/video/track-codec.ts)
      .addColumn('error', 'text')
      .addColumn('tracking_ms', 'integer')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema.createIndex('video_materials_app').on('video_materials').columns(['app_id', 'material_id']).execute();
    await db.schema.createTable('video_jobs')
      .addColumn('job_id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('dialect', 'text', (c) => c.notNull()) // facefusion | vclm
      .addColumn('activity_id', 'text')
      .addColumn('material_id', 'text') // facefusion: the video material; vclm: null (its own template)
      .addColumn('status', 'text', (c) => c.notNull()) // queued | running | failed | done | cancelled
      .addColumn('params', 'text', (c) => c.notNull()) // JSON: merges (blob keys of the user photos), logo, designated URL
      .addColumn('input_keys', 'text', (c) => c.notNull()) // JSON array: blobs this job owns until it ends (user photos, vclm template)
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'bigint')
      .addColumn('frames_done', 'integer', (c) => c.notNull())
      .addColumn('frames_total', 'integer', (c) => c.notNull())
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .addColumn('result_key', 'text')
      .addColumn('result', 'text') // JSON: VideoUrl token, MD5, width, height, fps, duration, frames
      .addColumn('callback_url', 'text')
      .addColumn('end_user_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema.createIndex('video_jobs_queue').on('video_jobs').columns(['status', 'created_at']).execute();
    await db.schema.createIndex('video_jobs_material').on('video_jobs').columns(['app_id', 'material_id']).execute();
    await db.schema.createIndex('video_jobs_expiry').on('video_jobs').columns(['expires_at']).execute();
  },
};
