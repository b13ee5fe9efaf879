import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { RecordReads } from '../../ports/record-store.js';
import type { ReadSource } from '../../ports/store.js';
import { NamesOnlyPostgresDialect } from './postgres/names-only-dialect.js';
import { createPool } from './postgres/create-postgres-store.js';
import { createRecordReads } from './shared/create-record-reads.js';
import type { Database } from './shared/tables.js';

/**
 * The record stage's reads over a connection of their own to a store's database (its
 * `readSource`), for a thread that reads beside the store's own: SQLite read-only, or one
 * PostgreSQL connection in the store's schema. Nothing is migrated: the store opened it first.
 */
export const openRecordReads = (
  source: ReadSource,
): { reads: RecordReads; close: () => Promise<void> } => {
  const db =
    source.driver === 'sqlite'
      ? new Kysely<Database>({
          dialect: new SqliteDialect({
            database: new BetterSqlite3(source.file, { readonly: true, fileMustExist: true }),
          }),
        })
      : new Kysely<Database>({
          dialect: new NamesOnlyPostgresDialect({ pool: createPool(source.url, 1, source.schema) }),
        });
  return { reads: createRecordReads(db), close: () => db.destroy() };
};
