import type { CustomerId } from '../../../core/ids.js';
import type { SqlRunner } from './sql-runner.js';

/**
 * The journeys of a customer merged into another (`DecideTx.moveJourneys`): each journey `to`
 * has no membership in moves over with its pending step (the work item keyed
 * `from|journey|ID`, keyed `to|journey|ID` now); where `to` has one (active, finished or
 * exited), `to`'s stands, and `from`'s pending step is cancelled. The same statements on
 * both databases.
 */
export const moveJourneys = async (
  db: SqlRunner,
  from: CustomerId,
  to: CustomerId,
  nowMs: number,
): Promise<void> => {
  const fromPrefix = `${from}|journey|`;
  const toPrefix = `${to}|journey|`;
  // Where the journey id starts in a `from|journey|ID` key (SQL counts from 1).
  const idAt = fromPrefix.length + 1;
  await db.run(
    `UPDATE work SET customer_id = ?, key = ? || substr(key, ?)
     WHERE customer_id = ? AND status = 'pending' AND substr(key, 1, ?) = ?
       AND substr(key, ?) NOT IN (SELECT journey_id FROM memberships WHERE customer_id = ?)
       AND NOT EXISTS (SELECT 1 FROM work w WHERE w.key = ? || substr(work.key, ?))`,
    [to, toPrefix, idAt, from, fromPrefix.length, fromPrefix, idAt, to, toPrefix, idAt],
  );
  await db.run(
    `UPDATE memberships SET customer_id = ?
     WHERE customer_id = ?
       AND journey_id NOT IN (SELECT journey_id FROM memberships WHERE customer_id = ?)`,
    [to, from, to],
  );
  await db.run(
    `UPDATE work SET status = 'cancelled', note = ?, updated_at_ms = ?
     WHERE customer_id = ? AND status = 'pending' AND substr(key, 1, ?) = ?`,
    [`merged into ${to}, who is in the journey already`, nowMs, from, fromPrefix.length, fromPrefix],
  );
  await db.run('DELETE FROM memberships WHERE customer_id = ?', [from]);
};
