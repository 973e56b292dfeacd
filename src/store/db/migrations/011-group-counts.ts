// GetPersonList and GetPersonListNum on a large group. They counted the group's persons and
// faces on every call (a join of every member with its faces: 0.3 s for a 100k-face group on
// PostgreSQL, linear in the group), and the page of members joined every member to its person
// row before sorting (the order index lacked the PersonId tie-break). Now:
//  - face_groups keeps person_num and face_num, updated by every library write in its own
//    transaction (store/library/library-repo.ts LibraryWriter), back-filled here;
//  - group_persons_page orders a group's members completely (join time, then PersonId), so a
//    page is read from the index and only its rows are joined to persons. It replaces
//    group_persons_order, a prefix of it.
import { sql, type Kysely } from 'kysely';

export const m011_group_counts = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('face_groups').addColumn('person_num', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('face_groups').addColumn('face_num', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await sql`UPDATE face_groups SET
      person_num = (SELECT count(*) FROM group_persons m WHERE m.app_id = face_groups.app_id AND m.group_id = face_groups.group_id),
      face_num = (SELECT count(*) FROM group_persons m JOIN faces f ON f.app_id = m.app_id AND f.person_id = m.person_id
                  WHERE m.app_id = face_groups.app_id AND m.group_id = face_groups.group_id)`.execute(db);
    await db.schema.createIndex('group_persons_page').on('group_persons').columns(['app_id', 'group_id', 'created_at', 'person_id']).execute();
    await db.schema.dropIndex('group_persons_order').execute();
  },
};
