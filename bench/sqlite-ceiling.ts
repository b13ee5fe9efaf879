import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { runMigrations } from '../src/adapters/storage/shared/run-migrations.js';
import {
  PAGE_SIZE,
  WRITER_CHECKPOINT_BYTES,
} from '../src/adapters/storage/sqlite/create-sqlite-store.js';
import type { createEventMix } from './event-mix.js';

type Mix = ReturnType<typeof createEventMix>;

/**
 * The ceiling: the same event rows, inserted with one prepared statement into a database with
 * Herald's schema, in transactions of `perTransaction` — no HTTP, no validation, no profiles.
 */
export const measureSqliteCeiling = async (
  file: string,
  mix: Mix,
  rows: number,
  perTransaction: number,
): Promise<number> => {
  const sqlite = new BetterSqlite3(file);
  // Herald's page size, and its writer's own checkpoint threshold in pages of that size.
  sqlite.pragma(`page_size = ${PAGE_SIZE}`);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma(`wal_autocheckpoint = ${Math.ceil(WRITER_CHECKPOINT_BYTES / PAGE_SIZE)}`);
  await runMigrations(
    new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) }),
    'sqlite',
  );
  const insert = sqlite.prepare(
    `INSERT INTO events (source_id, message_id, customer_id, type, name, user_id, anonymous_id, timestamp_ms, received_at_ms, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // Rows prepared up front so only the inserts are timed.
  const prepared = Array.from({ length: rows / perTransaction }, () =>
    (
      JSON.parse(mix.batch(perTransaction, Date.now())) as { batch: Record<string, unknown>[] }
    ).batch.map((e) => [
      'bench',
      e['messageId'],
      e['userId'],
      e['type'],
      (e['event'] ?? e['name'] ?? null) as string | null,
      e['userId'],
      null,
      Date.parse(e['timestamp'] as string),
      Date.now(),
      JSON.stringify({
        previousId: null,
        groupId: null,
        properties: e['properties'] ?? {},
        traits: e['traits'] ?? {},
        context: e['context'],
      }),
    ]),
  );
  const insertAll = sqlite.transaction((batch: unknown[][]) => {
    for (const row of batch) insert.run(...row);
  });
  const started = performance.now();
  for (const batch of prepared) insertAll(batch);
  const perSecond = rows / ((performance.now() - started) / 1000);
  sqlite.close();
  return perSecond;
};
