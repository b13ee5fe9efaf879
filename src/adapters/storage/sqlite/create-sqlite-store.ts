import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { CustomerId } from '../../../core/ids.js';
import type { ProfileState } from '../../../core/profile.js';
import type { IdentityKey, IngestTx, Store } from '../../../ports/store.js';
import { createReads } from '../shared/create-reads.js';
import { runMigrations } from '../shared/run-migrations.js';
import {
  toEventBody,
  toProfileColumns,
  toStoredEvent,
  type Database,
  type EventRow,
} from '../shared/tables.js';
import { createSqliteStatements } from './sqlite-statements.js';

export interface SqliteOptions {
  /** A file path, or `:memory:`. */
  file: string;
  /** `normal` survives a crash of the process; `full` also survives losing power (slower). */
  synchronous: 'normal' | 'full';
}

/** Runs async work one call at a time: SQLite has one connection and one writer. */
const createQueue = () => {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
};

/** Opens (creating if needed) the embedded SQLite database and applies pending migrations. */
export const createSqliteStore = async (options: SqliteOptions): Promise<Store> => {
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const sqlite = new BetterSqlite3(options.file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await runMigrations(db as Kysely<unknown>, 'sqlite');
  const s = createSqliteStatements(sqlite);
  const serialise = createQueue();
  // Reads use their own connection so they see only committed data and never wait for a writer
  // (WAL allows one writer beside many readers); an in-memory database has just the one.
  const readDb =
    options.file === ':memory:'
      ? db
      : new Kysely<Database>({
          dialect: new SqliteDialect({
            database: new BetterSqlite3(options.file, { readonly: true }),
          }),
        });

  const tx: IngestTx = {
    lock: () => Promise.resolve(),
    findLinks(keys) {
      const found = new Map<IdentityKey, CustomerId>();
      for (const key of keys) {
        const row = s.findLink.get(key) as { customer_id: string } | undefined;
        if (row !== undefined) found.set(key, row.customer_id as CustomerId);
      }
      return Promise.resolve(found);
    },
    addLinks(links) {
      for (const l of links) s.addLink.run(l.key, l.customerId, l.linkedAtMs);
      return Promise.resolve();
    },
    insertEvents(events) {
      return Promise.resolve(
        events.map(
          (e) =>
            s.insertEvent.run(
              e.sourceId,
              e.messageId,
              e.customerId,
              e.type,
              e.name,
              e.userId,
              e.anonymousId,
              e.timestampMs,
              e.receivedAtMs,
              toEventBody(e),
            ).changes === 1,
        ),
      );
    },
    insertOrders(orders) {
      return Promise.resolve(
        orders.map(
          (o) =>
            s.insertOrder.run(o.orderId, o.customerId, o.placedAtMs, o.totalCents).changes === 1,
        ),
      );
    },
    loadProfiles(ids) {
      const found = new Map<CustomerId, ProfileState>();
      for (const id of ids) {
        const row = s.loadProfile.get(id) as { state: string } | undefined;
        if (row !== undefined) found.set(id, JSON.parse(row.state) as ProfileState);
      }
      return Promise.resolve(found);
    },
    saveProfiles(rows) {
      for (const row of rows) s.saveProfile.run(toProfileColumns(row));
      return Promise.resolve();
    },
    mergeCustomer(from, to) {
      const moved = s.moveEvents.run(to, from).changes;
      s.moveOrders.run(to, from);
      s.moveLinks.run(to, from);
      s.deleteProfile.run(from);
      return Promise.resolve(moved > 0);
    },
    loadCustomerEvents(id) {
      return Promise.resolve((s.customerEvents.all(id) as EventRow[]).map(toStoredEvent));
    },
  };

  return {
    driver: 'sqlite',
    ...createReads(readDb),
    ingest: (work) =>
      serialise(async () => {
        s.begin.run();
        try {
          const result = await work(tx);
          s.commit.run();
          return result;
        } catch (error) {
          if (sqlite.inTransaction) s.rollback.run();
          throw error;
        }
      }),
    ping: () => Promise.resolve(void s.ping.get()),
    close: () =>
      serialise(async () => {
        if (readDb !== db) await readDb.destroy();
        await db.destroy();
      }),
  };
};
