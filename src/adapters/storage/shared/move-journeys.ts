import type { CustomerId } from '../../../core/ids.js';
import { DAY_MS } from '../../../core/time.js';
import type { SqlRunner } from './sql-runner.js';
import { cancelPendingWork, copyWorkTo } from './work-moves.js';

interface MemberRow {
  customer_id: string;
  journey_id: string;
  status: string;
  entered_at_ms: number | string;
  data: string;
}

/**
 * Whether a customer whose run of the journey ended (`ended`) may run it again now, by the
 * re-entry rule of its newest stored version (as `mayEnter` reads it): `never` (the default)
 * refuses for good, `after-exit` admits, `{ afterDays }` admits that long after the last entry.
 * A journey with no stored version admits.
 */
const admitsAgain = async (db: SqlRunner, ended: MemberRow, nowMs: number): Promise<boolean> => {
  const [row] = await db.all<{ definition: string }>(
    'SELECT definition FROM journey_versions WHERE journey_id = ? ORDER BY version DESC LIMIT 1',
    [ended.journey_id],
  );
  if (row === undefined) return true;
  const rule = (JSON.parse(row.definition) as { reEntry?: unknown }).reEntry ?? 'never';
  if (rule === 'after-exit') return true;
  if (typeof rule === 'object' && 'afterDays' in rule)
    return nowMs - Number(ended.entered_at_ms) >= Number(rule.afterDays) * DAY_MS;
  return false;
};

/** When an exit event last came after the membership's run had finished, if one did. */
const exitAfterEndOf = (row: MemberRow | undefined): number | undefined =>
  row === undefined
    ? undefined
    : (JSON.parse(row.data) as { exitEventAfterEndMs?: number }).exitEventAfterEndMs;

interface StepRow {
  key: string;
}

/**
 * The journeys of a customer merged into another (part of `DecideTx.handOver`), journey by journey:
 * `from`'s membership moves to `to` when `to` has none, or has only a finished or exited one
 * while `from`'s is active and the journey's re-entry rule would let `to` enter it again now
 * (`admitsAgain`) — with its pending step, re-keyed `to|journey|ID` (the key the
 * scheduler finds it by), and the old row cancelled with a note saying where it went.
 * Otherwise `to`'s stands, and `from`'s pending step is cancelled. Then `from` has no
 * membership left. The same statements on both databases.
 */
export const moveJourneys = async (
  db: SqlRunner,
  from: CustomerId,
  to: CustomerId,
  nowMs: number,
): Promise<void> => {
  const members = await db.all<MemberRow>(
    `SELECT customer_id, journey_id, status, entered_at_ms, data FROM memberships
      WHERE customer_id IN (?, ?)`,
    [from, to],
  );
  if (!members.some((m) => m.customer_id === from)) return;
  const theirs = new Map(members.filter((m) => m.customer_id === to).map((m) => [m.journey_id, m]));
  /**
   * The row that stands keeps the later note of an exit event after a finished run, of either
   * customer: the web content that moved with the merge comes down as it would have.
   */
  const keepExitAfterEnd = async (kept: MemberRow, other: MemberRow | undefined) => {
    const mine = exitAfterEndOf(kept);
    const theirsToo = exitAfterEndOf(other);
    if (theirsToo === undefined || (mine !== undefined && mine >= theirsToo)) return;
    const data = { ...(JSON.parse(kept.data) as object), exitEventAfterEndMs: theirsToo };
    await db.run('UPDATE memberships SET data = ? WHERE customer_id = ? AND journey_id = ?', [
      JSON.stringify(data),
      to,
      kept.journey_id,
    ]);
  };
  const steps = new Map(
    (
      await db.all<StepRow>("SELECT key FROM work WHERE customer_id = ? AND status = 'pending'", [
        from,
      ])
    ).map((s) => [s.key, s]),
  );
  const cancel = (key: string, note: string) => cancelPendingWork(db, key, note, nowMs);
  for (const m of members) {
    if (m.customer_id !== from) continue;
    const journeyId = m.journey_id;
    const step = steps.get(`${from}|journey|${journeyId}`);
    const other = theirs.get(journeyId);
    if (other !== undefined && (other.status === 'active' || m.status !== 'active')) {
      if (step !== undefined)
        await cancel(step.key, `merged into ${to}, who is in the journey already`);
      await keepExitAfterEnd(other, m);
      continue;
    }
    // The survivor ran it already: the merged run goes on only where they could enter again (a
    // customer who finished the welcome series long ago, signing up anew on another device, does
    // not get it twice).
    if (other !== undefined && !(await admitsAgain(db, other, nowMs))) {
      if (step !== undefined)
        await cancel(step.key, `merged into ${to}, who ran the journey already and may not again`);
      await keepExitAfterEnd(other, m);
      continue;
    }
    if (other !== undefined)
      await db.run('DELETE FROM memberships WHERE customer_id = ? AND journey_id = ?', [
        to,
        journeyId,
      ]);
    await db.run(
      'UPDATE memberships SET customer_id = ? WHERE customer_id = ? AND journey_id = ?',
      [to, from, journeyId],
    );
    await keepExitAfterEnd(m, other);
    if (step === undefined) continue;
    await copyWorkTo(db, step.key, `${to}|journey|${journeyId}`, to, nowMs, 'any');
    await cancel(step.key, `moved to ${to}, merged into them`);
  }
  await db.run('DELETE FROM memberships WHERE customer_id = ?', [from]);
};
