import type { CustomerId } from '../../../core/ids.js';
import type { SqlRunner } from './sql-runner.js';

/** Cancels a pending work row, with a note saying why (a merge moved or superseded it). */
export const cancelPendingWork = (
  db: SqlRunner,
  key: string,
  note: string,
  nowMs: number,
): Promise<number> =>
  db.run(
    "UPDATE work SET status = 'cancelled', note = ?, updated_at_ms = ? WHERE key = ? AND status = 'pending'",
    [note, nowMs, key],
  );

/** Which row already under the target key a copy may replace. */
const REPLACES = {
  none: '1 = 0',
  finished: "work.status <> 'pending'",
  // A finished row, or a pending one due before the copy (a cart timer set for an older cart).
  later: "work.status <> 'pending' OR work.due_at_ms < excluded.due_at_ms",
  any: '1 = 1',
} as const;

/**
 * Copies the work row `key` to `target`, pending for `to`, in one statement: where a row is
 * under `target` already, over it only as `over` allows (a row another transaction wrote
 * meanwhile is waited for and then judged the same way). True when the copy was written; the
 * caller cancels the original.
 */
export const copyWorkTo = async (
  db: SqlRunner,
  key: string,
  target: string,
  to: CustomerId,
  nowMs: number,
  over: keyof typeof REPLACES,
): Promise<boolean> =>
  (await db.run(
    `INSERT INTO work (key, customer_id, due_at_ms, trigger, status, attempts, note, updated_at_ms)
     SELECT ?, ?, due_at_ms, trigger, 'pending', 0, NULL, ? FROM work WHERE key = ?
     ON CONFLICT (key) DO UPDATE SET customer_id = excluded.customer_id,
       due_at_ms = excluded.due_at_ms, trigger = excluded.trigger, status = 'pending',
       attempts = 0, note = NULL, updated_at_ms = excluded.updated_at_ms
     WHERE ${REPLACES[over]}`,
    [target, to, nowMs, key],
  )) > 0;
