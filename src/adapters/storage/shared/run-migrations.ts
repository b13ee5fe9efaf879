import { Migrator, type Kysely } from 'kysely';
import { AppError } from '../../../core/errors.js';
import { migrationProvider, type Dialect } from './migrations.js';

/**
 * Applies pending migrations in order; returns the names applied. Fails loudly on any error.
 * On PostgreSQL the migrator's bookkeeping tables are looked up in `schema` (the one Herald
 * works in) only: Kysely otherwise finds another schema's `herald_migrations_lock`, skips
 * creating its own and then fails to read it (two Herald schemas in one database).
 */
export const runMigrations = async (
  db: Kysely<unknown>,
  dialect: Dialect,
  schema?: string,
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
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new AppError('unavailable', `database migration ${failed} failed`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
};
