import { PostgresDialect, sql, type DatabaseIntrospector, type TableMetadata } from 'kysely';

type IntrospectedDb = Parameters<PostgresDialect['createIntrospector']>[0];

/**
 * Schema and table names, from catalog joins alone. Kysely's own PostgreSQL introspector
 * reads every column of every schema and calls `pg_get_serial_sequence` with each schema's
 * name, which fails ("schema … does not exist") when another session drops a schema or table
 * meanwhile; its migrator looks Herald's bookkeeping tables up that way, so a start in a
 * shared database failed at random. Herald needs the names only.
 */
const namesIntrospector = (db: IntrospectedDb): DatabaseIntrospector => {
  const getTables = async (): Promise<TableMetadata[]> => {
    const { rows } = await sql<{ schema: string; name: string; is_view: boolean }>`
      SELECT n.nspname AS schema, c.relname AS name, c.relkind = 'v' AS is_view
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'v', 'p')
        AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'`.execute(db);
    return rows.map((r) => ({ schema: r.schema, name: r.name, isView: r.is_view, columns: [] }));
  };
  return {
    getSchemas: async () =>
      (await sql<{ name: string }>`SELECT nspname AS name FROM pg_catalog.pg_namespace`.execute(db))
        .rows,
    getTables,
    // Still part of the interface Kysely asks for, though it calls getTables itself.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    getMetadata: async () => ({ tables: await getTables() }),
  };
};

/** Kysely's PostgreSQL dialect, introspecting names only (`namesIntrospector`). */
export class NamesOnlyPostgresDialect extends PostgresDialect {
  override createIntrospector(db: IntrospectedDb): DatabaseIntrospector {
    return namesIntrospector(db);
  }
}
