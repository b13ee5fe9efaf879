import type { Store } from '../../ports/store.js';
import { createPostgresStore, type PostgresOptions } from './postgres/create-postgres-store.js';
import { createSqliteStore, type SqliteOptions } from './sqlite/create-sqlite-store.js';

export type StoreOptions =
  ({ driver: 'sqlite' } & SqliteOptions) | ({ driver: 'postgres' } & PostgresOptions);

/** Opens the configured database and brings its schema up to date. */
export const createStore = (options: StoreOptions): Promise<Store> =>
  options.driver === 'sqlite' ? createSqliteStore(options) : createPostgresStore(options);
