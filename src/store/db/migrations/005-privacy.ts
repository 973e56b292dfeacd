// Privacy: per-AppId policy (consent, minimum age, inactivity purge), consent records of
// enrolled persons, and deletion requests with their receipts. A running deletion request
// keeps its subject sealed under the master key so a restart can finish it; once it completes
// only a keyed hash of the subject remains.
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';
import { binary } from './column-types.ts';

export const m005_privacy = {
  async up(db: Kysely<any>, d: Dialect) {
    await db.schema.createTable('privacy_policies')
      .addColumn('app_id', 'bigint', (c) => c.primaryKey())
      .addColumn('require_consent', 'integer') // null = deployment default
      .addColumn('min_age', 'integer') // null = deployment default; 0 = no limit
      .addColumn('inactive_person_days', 'integer') // null = deployment default; 0 = never purge
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull()) // SubUin
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();

    await db.schema.createTable('consents')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('consent_id', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull())
      .addColumn('face_ids', 'text', (c) => c.notNull()) // JSON string[]: the faces enrolled under it
      .addColumn('reference', 'text', (c) => c.notNull()) // the customer's consent/release record
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('notice_version', 'text', (c) => c.notNull())
      .addColumn('retention_days', 'integer')
      .addColumn('parental_reference', 'text') // verified parental consent, when asserted
      .addColumn('sub_uin', 'text', (c) => c.notNull()) // who recorded it
      .addColumn('given_at', 'bigint', (c) => c.notNull())
      .addColumn('end_user_id', 'text')
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('consents_pk', ['app_id', 'consent_id'])
      .execute();
    await db.schema.createIndex('consents_person').on('consents').columns(['app_id', 'person_id']).execute();

    await db.schema.createTable('deletion_requests')
      .addColumn('request_id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull()) // person | end_user | app
      .addColumn('subject_digest', 'text', (c) => c.notNull()) // HMAC-SHA256 of the subject
      .addColumn('subject_sealed', binary(d)) // only while running; null once done
      .addColumn('status', 'text', (c) => c.notNull()) // running | done
      .addColumn('requested_by', 'text', (c) => c.notNull()) // SubUin, "cli" or "system"
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('completed_at', 'bigint')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('receipt', 'text') // JSON, no personal data
      .addColumn('digest', 'text') // SHA-256 over the receipt
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema.createIndex('deletion_requests_app').on('deletion_requests').columns(['app_id', 'created_at']).execute();
    await db.schema.createIndex('deletion_requests_status').on('deletion_requests').columns(['status']).execute();

    // FuseFace/FuseFaceUltra record the caller's EndUserId on what they write.
    await db.schema.alterTable('fusion_results').addColumn('end_user_id', 'text').execute();
    await db.schema.alterTable('fusion_log').addColumn('end_user_id', 'text').execute();
    await db.schema.createIndex('running_log_end_user').on('running_log').columns(['app_id', 'end_user_id']).execute();
    await db.schema.createIndex('persons_end_user').on('persons').columns(['app_id', 'end_user_id']).execute();
  },
};
