// Face fusion: activities, materials (templates), their per-face analysis, fused results and
// the fusion log. Every row carries data_class/expires_at; blobs are listed in `blobs`.
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';
import { binary } from './column-types.ts';

export const m003_fusion = {
  async up(db: Kysely<any>, d: Dialect) {
    await db.schema.createTable('fusion_activities')
      .addColumn('activity_id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull()) // draft | published
      .addColumn('profile_degree', 'integer', (c) => c.notNull()) // defaults for FuseFace (Tencent: console values)
      .addColumn('face_degree', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema.createIndex('fusion_activities_app').on('fusion_activities').columns(['app_id', 'created_at']).execute();
    await db.schema.createTable('fusion_materials')
      .addColumn('material_id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('activity_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('blob_key', 'text', (c) => c.notNull())
      .addColumn('width', 'integer', (c) => c.notNull())
      .addColumn('height', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema.createIndex('fusion_materials_activity').on('fusion_materials').columns(['app_id', 'activity_id', 'created_at']).execute();
    await db.schema.createTable('fusion_material_faces')
      .addColumn('material_id', 'text', (c) => c.notNull())
      .addColumn('face_index', 'integer', (c) => c.notNull())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('x', 'integer', (c) => c.notNull())
      .addColumn('y', 'integer', (c) => c.notNull())
      .addColumn('width', 'integer', (c) => c.notNull())
      .addColumn('height', 'integer', (c) => c.notNull())
      .addColumn('geometry', binary(d), (c) => c.notNull()) // float32: 5 kps then the mesh, x/y interleaved
      .addColumn('stats', 'text', (c) => c.notNull()) // JSON colour statistics of the face skin
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('fusion_material_faces_pk', ['material_id', 'face_index'])
      .execute();
    await db.schema.createTable('fusion_results')
      .addColumn('token', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('blob_key', 'text', (c) => c.notNull())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('activity_id', 'text')
      .addColumn('material_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema.createIndex('fusion_results_material').on('fusion_results').columns(['app_id', 'material_id']).execute();
    await db.schema.createIndex('fusion_results_expiry').on('fusion_results').columns(['expires_at']).execute();
    await db.schema.createTable('fusion_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('uin', 'text', (c) => c.notNull())
      .addColumn('sub_uin', 'text', (c) => c.notNull())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('client_ip', 'text', (c) => c.notNull())
      .addColumn('latency_ms', 'integer', (c) => c.notNull())
      .addColumn('region', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('activity_id', 'text')
      .addColumn('material_id', 'text')
      .addColumn('image_urls', 'text', (c) => c.notNull()) // JSON array of the Url inputs (never image bytes)
      .addColumn('result_url', 'text')
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema.createIndex('fusion_log_app_time').on('fusion_log').columns(['app_id', 'time']).execute();
    await db.schema.createIndex('fusion_log_expiry').on('fusion_log').columns(['expires_at']).execute();
  },
};
