import type { Dialect } from '../dialect.ts';
/** SQLite calls binary `blob`, PostgreSQL `bytea`; both come back as Buffer. */
export const binary = (d: Dialect) => (d === 'postgres' ? 'bytea' : 'blob');
