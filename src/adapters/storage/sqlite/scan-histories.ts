import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { StoredEvent } from '../../../core/event.js';
import type { CustomerId } from '../../../core/ids.js';
import type { CustomerHistory } from '../../../ports/store.js';
import { CREDITS, feedFlags, STOP, workerFeed } from '../../../core/worker-feed.js';
import { EVENT_COLUMNS, storedEventOf, type EventTuple } from './sqlite-statements.js';

/**
 * The page cache of the scan's connection, which also bounds the memory SQLite's sorter keeps
 * per thread before it writes a sorted run to a temporary file (in `SQLITE_TMPDIR`, else
 * `TMPDIR`, else /var/tmp or /tmp). Sorting a 1,000,000-event table in a scratch loop: 16 MB
 * took 2.9–3.0 s at 118 MB peak RSS, 4 MB 3.4–3.6 s at 70 MB, the process alone about 50 MB.
 */
const SCAN_CACHE_KB = 4096;

/**
 * Rows the thread hands over at a time (whole customers, so a chunk can hold more). A chunk
 * arrives whole in this thread's heap and lives until its last customer is used: chunks of 4,000
 * rows lived long enough to be promoted by the collector (the bench import's settle took
 * 16.4–17.0 s with them, 9.7–12.8 s with chunks of 500 and transactions of 50 customers).
 */
const CHUNK_ROWS = 500;

/** Chunks the thread may read ahead of the one being used. */
const READ_AHEAD = 2;

// Plain JavaScript run by the worker (as the checkpoint thread's: no TypeScript loader needed).
// It owns its own read-only connection; rows go over as one flat array a chunk (strings and
// numbers, cloned without per-row objects) with the number of rows of each customer.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { driver, file, wanted, sql, cacheKb, chunkRows, shared } = workerData;
const flags = new Int32Array(shared);
const stopped = () => Atomics.load(flags, ${STOP}) !== 0;
// Waits until the reader takes another chunk; false when it has stopped.
const mayPost = () => {
  for (;;) {
    if (stopped()) return false;
    const credits = Atomics.load(flags, ${CREDITS});
    if (credits > 0) return true;
    Atomics.wait(flags, ${CREDITS}, credits);
  }
};
let db = null;
try {
  const Database = require(driver);
  db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('cache_size = -' + cacheKb);
  db.pragma('threads = 2');
  const rows = db.prepare(sql).raw(true).iterate();
  let ids = [];
  let counts = [];
  let values = [];
  let customerId = null;
  let keep = false;
  const post = () => {
    if (!mayPost()) return false;
    Atomics.sub(flags, ${CREDITS}, 1);
    parentPort.postMessage({ ids, counts, values });
    ids = [];
    counts = [];
    values = [];
    return true;
  };
  let going = true;
  for (const row of rows) {
    const id = row[3];
    if (id !== customerId) {
      if (values.length >= chunkRows * row.length && !post()) {
        going = false;
        break;
      }
      customerId = id;
      keep = wanted.has(id);
      if (keep) {
        ids.push(id);
        counts.push(0);
      }
    }
    if (!keep) continue;
    counts[counts.length - 1] += 1;
    for (const value of row) values.push(value);
  }
  if (going && (ids.length === 0 || post())) parentPort.postMessage({ done: true });
} catch (error) {
  // Sent as text: SQLite's errors lose their message when cloned between threads.
  const code = error && error.code ? ' (' + error.code + ')' : '';
  parentPort.postMessage({ failed: String(error && error.message ? error.message : error) + code });
} finally {
  if (db !== null && db.open) db.close();
}
`;

type ScanMessage =
  { ids: CustomerId[]; counts: number[]; values: EventTuple[number][] } | { done: true };

/** How many values an events row has (EVENT_COLUMNS). */
const ROW_WIDTH = 11;

/**
 * The events of every customer in `wanted`, customer by customer in id order (SQLite's: the
 * bytes of the UTF-8), each customer's in the order they happened — the order and the rows
 * `loadEventsOf` gives. One sorting scan of the whole table on a read-only connection of its own,
 * which sees the database as it was at the first row. A customer's events are scattered over the
 * table (they arrive among everyone else's), so reading them by the customer index costs a page
 * read a row; the scan reads each page once and sorts (bench/README.md, 2026-12-03, night).
 *
 * The scan runs on a thread of its own, up to about 1,500 rows ahead of the caller (who parses
 * the bodies, where they are used): stepping through the sort was about 4 s of the bench
 * import's settle on the thread that replays the histories and writes the profiles. Fails (on
 * the first history asked for, when the sort runs) where the sort cannot, for want of temporary
 * space.
 * Stopping early (a `for await` left by `break` or a throw) stops the thread.
 */
export async function* scanHistories(
  file: string,
  wanted: ReadonlySet<CustomerId>,
): AsyncGenerator<CustomerHistory> {
  const flags = feedFlags(new SharedArrayBuffer(8), 0, READ_AHEAD);
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      file,
      wanted,
      // NOT INDEXED: the customer index would read the rows in order, each from its own page.
      sql: `SELECT ${EVENT_COLUMNS} FROM events NOT INDEXED ORDER BY customer_id, timestamp_ms, seq`,
      cacheKb: SCAN_CACHE_KB,
      chunkRows: CHUNK_ROWS,
      shared: flags.buffer,
    },
  });
  const feed = workerFeed<ScanMessage>(worker, "the scan's thread", flags);
  try {
    for (;;) {
      const message = await feed.next();
      if ('done' in message) return;
      if ('failed' in message) throw new Error(`scanning the events failed: ${message.failed}`);
      // The next chunk is read while this one is used.
      feed.more();
      const { ids, counts, values } = message;
      let at = 0;
      for (let i = 0; i < ids.length; i += 1) {
        const events: StoredEvent[] = [];
        for (let n = counts[i] ?? 0; n > 0; n -= 1) {
          events.push(storedEventOf(values.slice(at, at + ROW_WIDTH) as EventTuple));
          at += ROW_WIDTH;
        }
        yield { customerId: ids[i] as CustomerId, events };
      }
    }
  } finally {
    await feed.stop();
  }
}
