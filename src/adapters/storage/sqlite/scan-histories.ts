import BetterSqlite3 from 'better-sqlite3';
import type { StoredEvent } from '../../../core/event.js';
import type { CustomerId } from '../../../core/ids.js';
import type { CustomerHistory } from '../../../ports/store.js';
import { EVENT_COLUMNS, storedEventOf, type EventTuple } from './sqlite-statements.js';

/**
 * The page cache of the scan's connection, which also bounds the memory SQLite's sorter keeps
 * per thread before it writes a sorted run to a temporary file (in `SQLITE_TMPDIR`, else
 * `TMPDIR`, else /var/tmp or /tmp). Sorting a 1,000,000-event table in a scratch loop: 16 MB
 * took 2.9–3.0 s at 118 MB peak RSS, 4 MB 3.4–3.6 s at 70 MB, the process alone about 50 MB.
 */
const SCAN_CACHE_KB = 4096;

/**
 * The events of every customer `wanted` accepts, customer by customer in id order (SQLite's:
 * the bytes of the UTF-8), each customer's in the order they happened — the order and the rows
 * `loadEventsOf` gives. One sorting scan of the whole table on a read-only connection of its own,
 * which sees the database as it was at the first row. A customer's events are scattered over the
 * table (they arrive among everyone else's), so reading them by the customer index costs a page
 * read a row; the scan reads each page once and sorts, on a second thread as well as this one
 * (`PRAGMA threads`). Reading the bench import's 1,000,000 events this way took about 5 s of
 * the settle against about 9 s through the index, parsing the bodies aside (bench/README.md,
 * 2026-12-03, night).
 */
export function* scanHistories(
  file: string,
  wanted: (customerId: CustomerId) => boolean,
): Generator<CustomerHistory> {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`cache_size = -${SCAN_CACHE_KB}`);
    db.pragma('threads = 2');
    // NOT INDEXED: the customer index would read the rows in order, each from its own page.
    const rows = db
      .prepare(
        `SELECT ${EVENT_COLUMNS} FROM events NOT INDEXED ORDER BY customer_id, timestamp_ms, seq`,
      )
      .raw(true)
      .iterate() as IterableIterator<EventTuple>;
    let customerId: CustomerId | null = null;
    let events: StoredEvent[] = [];
    let keep = false;
    for (const row of rows) {
      const id = row[3] as CustomerId;
      if (id !== customerId) {
        if (keep && customerId !== null) yield { customerId, events };
        customerId = id;
        events = [];
        keep = wanted(id);
      }
      // Parsing a body is most of a row's cost: only for the customers asked for.
      if (keep) events.push(storedEventOf(row));
    }
    if (keep && customerId !== null) yield { customerId, events };
  } finally {
    db.close();
  }
}
