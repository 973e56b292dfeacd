/** The two SQL engines one Kysely code path serves. */
export type Dialect = 'sqlite' | 'postgres';
