import { Migrator, type Kysely } from 'kysely';
import { AppError } from '../../../core/errors.js';
import { migrationProvider, type Dialect } from './migrations.js';

/**
 * Applies pending migrations in order; returns the names applied. Fails loudly on any error,
 * as `unavailable` naming the migration that failed (when one did) and the database's reason.
 * On PostgreSQL the migrator's bookkeeping tables are looked up in `schema` (the one Herald
 * works in) only: Kysely otherwise finds another schema's `herald_migrations_lock`, skips
 * creating its own and then fails to read it (two Herald schemas in one database).
 * `redact` takes out of the reason what must not be repeated (the connection URL).
 */
export const runMigrations = async (
  db: Kysely<unknown>,
  dialect: Dialect,
  schema?: string,
  redact: (text: string) => string = (text) => text,
): Promise<string[]> => {
  const migrator = new Migrator({
    db,
    provider: migrationProvider(dialect),
    migrationTableName: 'herald_migrations',
    migrationLockTableName: 'herald_migrations_lock',
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    // No migration failed: the migrator's own bookkeeping did (its tables, its lock).
    const what =
      failed === undefined ? 'database migrations failed' : `database migration ${failed} failed`;
    throw new AppError('unavailable', `${what}: ${redact(reasonOf(error))}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
};

/** The driver's message: what the database said (a table already there, no schema selected). */
const reasonOf = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error);
  return message.trim() === '' ? 'no reason given' : (message.split('\n')[0]?.trim() ?? message);
};
