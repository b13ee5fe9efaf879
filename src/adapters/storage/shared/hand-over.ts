import type { CustomerId } from '../../../core/ids.js';
import { moveJourneys } from './move-journeys.js';
import type { SqlRunner } from './sql-runner.js';

interface KeyRow {
  key: string;
}

interface UnitRow {
  experiment_id: string;
  customer_id: string;
  assigned_at_ms: number;
}

/**
 * Everything the decide and record stages keep about a customer merged into another
 * (`DecideTx.handOver`), so that one person has one history — what Herald decided and sent,
 * what it may still send, and what an erasure or an export must find:
 * - journeys, as `moveJourneys` says;
 * - pending work re-keyed from `from|…` to `to|…` (a timer or an event of interest goes on as
 *   the survivor's), or cancelled when the survivor has work of that key already; finished
 *   work is kept as history;
 * - decisions, messages (a queued one still passes the hand-off's checks on the survivor's
 *   profile: consent, unsubscribes, suppressions) and conversions;
 * - experiment units: one per person and experiment, the one assigned first;
 * - the audit pseudonym, which the survivor holds beside their own.
 * The stage marks of `from` go: the survivor's are their own. The same statements on both
 * databases; matching keys in JavaScript, not by SQL string length (ids may hold any character).
 */
export const handOver = async (
  db: SqlRunner,
  from: CustomerId,
  to: CustomerId,
  nowMs: number,
): Promise<void> => {
  await moveJourneys(db, from, to, nowMs);
  const prefix = `${from}|`;
  const pending = await db.all<KeyRow>(
    "SELECT key FROM work WHERE customer_id = ? AND status = 'pending'",
    [from],
  );
  for (const { key } of pending) {
    if (!key.startsWith(prefix)) continue;
    const target = `${to}|${key.slice(prefix.length)}`;
    const [taken] = await db.all<KeyRow>('SELECT key FROM work WHERE key = ?', [target]);
    if (taken === undefined)
      await db.run('UPDATE work SET key = ?, customer_id = ?, updated_at_ms = ? WHERE key = ?', [
        target,
        to,
        nowMs,
        key,
      ]);
    else
      await db.run(
        "UPDATE work SET status = 'cancelled', note = ?, updated_at_ms = ? WHERE key = ?",
        [`merged into ${to}, who has this work already`, nowMs, key],
      );
  }
  for (const table of ['work', 'decisions', 'messages', 'conversions', 'pseudonyms'])
    await db.run(`UPDATE ${table} SET customer_id = ? WHERE customer_id = ?`, [to, from]);
  const units = await db.all<UnitRow>(
    'SELECT experiment_id, customer_id, assigned_at_ms FROM experiment_units WHERE customer_id IN (?, ?)',
    [from, to],
  );
  const theirs = new Map(
    units.filter((u) => u.customer_id === to).map((u) => [u.experiment_id, u.assigned_at_ms]),
  );
  const unitOf = 'experiment_id = ? AND customer_id = ?';
  for (const unit of units) {
    if (unit.customer_id !== from) continue;
    const other = theirs.get(unit.experiment_id);
    if (other !== undefined && other <= unit.assigned_at_ms) {
      await db.run(`DELETE FROM experiment_units WHERE ${unitOf}`, [unit.experiment_id, from]);
      continue;
    }
    if (other !== undefined)
      await db.run(`DELETE FROM experiment_units WHERE ${unitOf}`, [unit.experiment_id, to]);
    await db.run(`UPDATE experiment_units SET customer_id = ? WHERE ${unitOf}`, [
      to,
      unit.experiment_id,
      from,
    ]);
  }
  await db.run('DELETE FROM customer_marks WHERE customer_id = ?', [from]);
};
