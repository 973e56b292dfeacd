// The `consents` table (privacy owns it): one row per consent given at enrolment. Rows are
// written and removed inside the library's write transaction, so a person never exists
// without the consent it was admitted under, nor a consent outlive its person; the library
// writer calls these with its transaction (store/library/library-repo.ts).
import type { Executor } from '../db/executor.ts';
import type { ConsentsTable } from '../db/schema.ts';

export type ConsentRow = ConsentsTable;

export async function insertConsent(ex: Executor, row: Omit<ConsentRow, 'data_class' | 'expires_at'>, expiresAt: number | null): Promise<void> {
  await ex.insertInto('consents').values({ ...row, data_class: 'consent', expires_at: expiresAt }).execute();
}

export function consentsOf(ex: Executor, appId: number, personId: string): Promise<ConsentRow[]> {
  return ex.selectFrom('consents').selectAll().where('app_id', '=', appId).where('person_id', '=', personId).orderBy('given_at').execute();
}

export async function deleteConsentsOf(ex: Executor, appId: number, personIds: string[]): Promise<void> {
  if (personIds.length) await ex.deleteFrom('consents').where('app_id', '=', appId).where('person_id', 'in', personIds).execute();
}
