// The face library (iai groups, persons, faces) and its change log. Features are stored only
// sealed (AES-256-GCM under the AppId's data key); the in-memory search index is rebuilt from them.
import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.ts';
import { binary } from './column-types.ts';

export const m002_face_library = {
  async up(db: Kysely<any>, d: Dialect) {
    await db.schema.createTable('face_groups')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('group_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('ex_descriptions', 'text', (c) => c.notNull()) // JSON array of field names
      .addColumn('tag', 'text', (c) => c.notNull())
      .addColumn('face_model_version', 'text', (c) => c.notNull())
      .addColumn('keep_images', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('face_groups_pk', ['app_id', 'group_id'])
      .execute();
    await db.schema.createIndex('face_groups_name').on('face_groups').columns(['app_id', 'name']).unique().execute();
    await db.schema.createIndex('face_groups_created').on('face_groups').columns(['app_id', 'created_at']).execute();

    await db.schema.createTable('persons')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('gender', 'integer', (c) => c.notNull())
      .addColumn('face_model_version', 'text', (c) => c.notNull())
      .addColumn('combined_feature', binary(d)) // sealed mean of the face features (VerifyPerson, SearchPersons)
      .addColumn('end_user_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint', (c) => c.notNull()) // for inactivity purges (BIPA-style retention)
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('persons_pk', ['app_id', 'person_id'])
      .execute();
    await db.schema.createIndex('persons_last_used').on('persons').columns(['app_id', 'last_used_at']).execute();

    await db.schema.createTable('group_persons')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('group_id', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull())
      .addColumn('ex_descriptions', 'text', (c) => c.notNull()) // JSON array aligned with the group's fields
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('group_persons_pk', ['app_id', 'group_id', 'person_id'])
      .execute();
    await db.schema.createIndex('group_persons_person').on('group_persons').columns(['app_id', 'person_id']).execute();
    await db.schema.createIndex('group_persons_order').on('group_persons').columns(['app_id', 'group_id', 'created_at']).execute();

    await db.schema.createTable('faces')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('face_id', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull())
      .addColumn('feature', binary(d), (c) => c.notNull()) // sealed float32[512]
      .addColumn('face_rect', 'text', (c) => c.notNull()) // JSON {X,Y,Width,Height}
      .addColumn('image_key', 'text') // sealed enrolment image blob, only if the group keeps images
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('faces_pk', ['app_id', 'face_id'])
      .execute();
    await db.schema.createIndex('faces_person').on('faces').columns(['app_id', 'person_id']).execute();

    // Change log: every library write bumps the app's seq (a row lock that also serialises the
    // app's library writes, so seqs commit in order) and records which persons/groups it touched.
    // A search compares its index's seq with library_seq (one indexed SELECT) and replays the rest.
    await db.schema.createTable('library_seq')
      .addColumn('app_id', 'bigint', (c) => c.primaryKey())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('library_changes')
      .addColumn('app_id', 'bigint', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull()) // person | group
      .addColumn('ref', 'text', (c) => c.notNull()) // PersonId or GroupId
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('data_class', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('library_changes_pk', ['app_id', 'seq', 'kind', 'ref'])
      .execute();
    await db.schema.createIndex('library_changes_expiry').on('library_changes').columns(['expires_at']).execute();
  },
};
