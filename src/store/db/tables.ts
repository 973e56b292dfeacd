// The tables of this deployment's schema, with their columns. On PostgreSQL this reads the
// catalog for one schema only: Kysely's introspection lists every schema of the database and
// fails ("schema … does not exist") when another schema is dropped while it runs — which other
// deployments or test runs sharing the database do.
import { sql } from 'kysely';
import type { Db } from './db.ts';

export interface TableInfo { name: string; columns: string[] }

export async function schemaTables(db: Db): Promise<TableInfo[]> {
  if (db.dialect === 'postgres') {
    const schema = db.pgSchema ?? 'public';
    const r = await sql<{ table_name: string; column_name: string }>`
      select c.relname as table_name, a.attname as column_name
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_attribute a on a.attrelid = c.oid
      where n.nspname = ${schema} and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
      order by c.relname, a.attnum`.execute(db.kysely);
    const byTable = new Map<string, string[]>();
    for (const row of r.rows) byTable.set(row.table_name, [...(byTable.get(row.table_name) ?? []), row.column_name]);
    return [...byTable].map(([name, columns]) => ({ name, columns }));
  }
  const all = await db.kysely.introspection.getTables();
  return all.filter((t) => !t.isView).map((t) => ({ name: t.name, columns: t.columns.map((c) => c.name) }));
}
