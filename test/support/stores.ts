import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach } from 'vitest';
import { createPostgresStore } from '../../src/adapters/storage/postgres/create-postgres-store.js';
import { createSqliteStore } from '../../src/adapters/storage/sqlite/create-sqlite-store.js';
import type { AuditKey } from '../../src/core/audit.js';
import type { Store } from '../../src/ports/store.js';

/** The PostgreSQL the integration suites use; CI sets it, a laptop may not. */
export const testDatabaseUrl = process.env['HERALD_TEST_DATABASE_URL'];

/**
 * A schema of its own on the test PostgreSQL, for a suite whose several processes share it:
 * call inside its `describe`; after each test, what it put in `opened` is closed and the
 * schema dropped.
 */
export const sharedTestSchema = (prefix: string) => {
  const schema = `${prefix}_${String(process.pid)}_${Date.now().toString(36)}`;
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const one of opened.splice(0)) await one.close();
    const client = new pg.Client({ connectionString: testDatabaseUrl });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  });
  return { schema, opened };
};

export const postgresSkipNote =
  'PostgreSQL suite skipped: set HERALD_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it';

export type RawSql = (sql: string) => Promise<void>;

export interface StoreFactory {
  name: 'sqlite' | 'postgres';
  available: boolean;
  /**
   * A fresh, empty store; `cleanup` removes what it created. `raw` runs SQL on its database
   * over a connection of its own, as someone with direct database access would (tamper tests).
   * `auditKey` seals its audit entries (and those of the store `reopen` opens).
   */
  make(options?: { auditKey?: AuditKey | null }): Promise<{
    store: Store;
    cleanup: () => Promise<void>;
    raw: RawSql;
    /**
     * Closes the store and opens its database again (migrating it), as a restart does; with
     * `auditKey` given (null: none), as a restart with another audit key does.
     */
    reopen: (options?: { auditKey?: AuditKey | null }) => Promise<Store>;
    /** PostgreSQL: the schema the store works in (its advisory locks are named by it). */
    schema?: string;
  }>;
}

export const sqliteFactory: StoreFactory = {
  name: 'sqlite',
  available: true,
  async make(options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'herald-test-'));
    const file = join(dir, 'herald.db');
    let auditKey = options.auditKey ?? null;
    const open = () => createSqliteStore({ file, synchronous: 'normal', auditKey });
    let store = await open();
    return {
      store,
      reopen: async (next = {}) => {
        await store.close();
        if (next.auditKey !== undefined) auditKey = next.auditKey;
        store = await open();
        return store;
      },
      raw: async (sql) => {
        await Promise.resolve();
        const db = new BetterSqlite3(file);
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
      },
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

let schemaCounter = 0;

export const postgresFactory: StoreFactory = {
  name: 'postgres',
  available: testDatabaseUrl !== undefined,
  async make(options = {}) {
    const url = testDatabaseUrl ?? '';
    schemaCounter += 1;
    const schema = `herald_test_${process.pid}_${schemaCounter}_${Date.now().toString(36)}`;
    let auditKey = options.auditKey ?? null;
    const open = () => createPostgresStore({ url, poolSize: 8, schema, auditKey });
    let store = await open();
    return {
      store,
      schema,
      reopen: async (next = {}) => {
        await store.close();
        if (next.auditKey !== undefined) auditKey = next.auditKey;
        store = await open();
        return store;
      },
      raw: async (sql) => {
        const client = new pg.Client({
          connectionString: url,
          options: `-c search_path=${schema}`,
        });
        await client.connect();
        try {
          await client.query(sql);
        } finally {
          await client.end();
        }
      },
      cleanup: async () => {
        await store.close();
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      },
    };
  },
};

export const storeFactories: StoreFactory[] = [sqliteFactory, postgresFactory];

if (!postgresFactory.available) console.warn(postgresSkipNote);
