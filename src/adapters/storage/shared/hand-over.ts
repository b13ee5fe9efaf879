import type { Trigger } from '../../../core/decision.js';
import type { CustomerId } from '../../../core/ids.js';
import { orderIdIn } from '../../../core/read-props.js';
import { moveJourneys } from './move-journeys.js';
import type { SqlRunner } from './sql-runner.js';
import { cancelPendingWork, copyWorkTo } from './work-moves.js';

/**
 * Work a later trigger re-arms (a cart timer, a profile check, a win-back wave): one pending for
 * the merged customer takes the place of the survivor's finished one. Other keys fire once per
 * customer (a signup, a birthday of a year, a campaign), so a finished one stands.
 */
const REARMED: ReadonlySet<Trigger['kind']> = new Set([
  'cart-abandoned',
  'profile-changed',
  'win-back-wave',
]);

/** A row of `campaignTurnsTaken`'s query: a customer with a message of the campaign, or a key. */
export interface TakenRow {
  source: 'message' | 'work';
  value: string;
}

/** The customers of `drafts` a `TakenRow` names: by their id, or by their draft's key. */
export const toTaken = (
  drafts: readonly { key: string; customerId: CustomerId }[],
  rows: readonly TakenRow[],
): Set<CustomerId> => {
  const byKey = new Map(drafts.map((d) => [d.key, d.customerId]));
  const taken = new Set<CustomerId>();
  for (const row of rows) {
    const id = row.source === 'work' ? byKey.get(row.value) : (row.value as CustomerId);
    if (id !== undefined) taken.add(id);
  }
  return taken;
};

/** A message's reason code, read from its body, in the database's SQL. */
export const reasonCodeSql = (dialect: SqlRunner['dialect'], body = 'body'): string =>
  dialect === 'postgres'
    ? `(${body}::jsonb ->> 'reasonCode')`
    : `json_extract(${body}, '$.reasonCode')`;

/**
 * The campaigns either customer has a message of (whatever its status, but a block by the
 * campaign's budget: a raised budget gives such a customer another turn): their turn was taken.
 */
const campaignsGiven = async (
  db: SqlRunner,
  from: CustomerId,
  to: CustomerId,
): Promise<Set<string>> =>
  new Set(
    (
      await db.all<{ campaign_id: string }>(
        `SELECT DISTINCT campaign_id FROM messages
         WHERE customer_id IN (?, ?) AND campaign_id IS NOT NULL
           AND NOT (status = 'blocked' AND ${reasonCodeSql(db.dialect)} = 'budget_exhausted')`,
        [from, to],
      )
    ).map((r) => r.campaign_id),
  );

/**
 * A campaign reaches a person once: the survivor's pending work of a campaign either of them
 * has a message of is cancelled (one of them was given it, or held out of it, already).
 */
const cancelCampaignsGiven = async (
  db: SqlRunner,
  from: CustomerId,
  to: CustomerId,
  given: ReadonlySet<string>,
  nowMs: number,
): Promise<void> => {
  if (given.size === 0) return;
  const pending = await db.all<PendingRow>(
    "SELECT key, trigger FROM work WHERE customer_id = ? AND status = 'pending'",
    [to],
  );
  for (const { key, trigger } of pending) {
    const parsed = JSON.parse(trigger) as Trigger;
    if (parsed.kind === 'campaign' && given.has(parsed.campaign.id))
      await cancelPendingWork(
        db,
        key,
        `merged with ${from}: campaign ${parsed.campaign.id} was theirs already`,
        nowMs,
      );
  }
};

/** The tables whose rows of a merged customer become the survivor's as they are. */
const MOVED = [
  'work',
  'decisions',
  'messages',
  'conversions',
  'pseudonyms',
  'idempotency',
  'device_tokens',
];

/** What a merged customer may have left in the decide and record stages' tables. */
const HELD = [...MOVED, 'customer_marks', 'experiment_units'];

/**
 * Everything the decide and record stages keep about a customer merged into another
 * (`DecideTx.handOver`), so that one person has one history — what Herald decided and sent,
 * what it may still send, and what an erasure or an export must find:
 * - journeys, as `moveJourneys` says;
 * - pending work re-keyed from `from|…` to `to|…` (a timer or an event of interest goes on as
 *   the survivor's), unless the survivor has that work pending (a cart timer: due later), or
 *   finished and firing once (then `from`'s is cancelled); finished work is kept as history;
 * - a campaign once per person: pending work of a campaign either of them has a message of
 *   (sent, held out, blocked — but by the campaign's budget, which a raise gives another turn)
 *   is cancelled, the survivor's too — what `campaignTurnsTaken` reads when the campaign is
 *   launched again;
 * - decisions, messages (a queued one still passes the hand-off's checks on the survivor's
 *   profile: consent, unsubscribes, suppressions), conversions, and the answers kept for API
 *   sends by idempotency key (a data-subject export shows them);
 * - the audit pseudonym, which the survivor holds beside their own;
 * - the push tokens last seen on `from`, which the survivor's devices now list.
 * The stage marks of `from` go to a survivor without marks of their own (a visitor identified
 * as a new user: what they were last seen as, against which a change still waiting for the
 * worker is raised); a survivor's own marks stay. Experiment units go to the survivor, each with
 * the arm it was assigned (their later orders are the unit's: left under `from`, they would never
 * be credited), except in an experiment the survivor has a unit of already — one person, one
 * unit: theirs stays (`mergeUnits`).
 * The same statements on both databases; keys matched in JavaScript, not by SQL string length
 * (ids may hold any character). A customer with nothing here costs one query.
 */
export const handOver = async (
  db: SqlRunner,
  from: CustomerId,
  to: CustomerId,
  nowMs: number,
): Promise<void> => {
  const probe = ['memberships', ...HELD]
    .map((table) => `EXISTS (SELECT 1 FROM ${table} WHERE customer_id = ?)`)
    .join(' OR ');
  const held = await db.all(`SELECT 1 AS found WHERE ${probe}`, [from, ...HELD.map(() => from)]);
  if (held.length === 0) return;
  const given = await campaignsGiven(db, from, to);
  await moveJourneys(db, from, to, nowMs);
  await moveWork(db, from, to, nowMs, given);
  for (const table of MOVED)
    await db.run(`UPDATE ${table} SET customer_id = ? WHERE customer_id = ?`, [to, from]);
  await mergeUnits(db, from, to);
  await cancelCampaignsGiven(db, from, to, given, nowMs);
  await db.run(
    `INSERT INTO customer_marks (customer_id, segment, stage, updated_at_ms, dormant_path_at_ms)
     SELECT ?, segment, stage, updated_at_ms, dormant_path_at_ms FROM customer_marks
     WHERE customer_id = ?
     ON CONFLICT (customer_id) DO NOTHING`,
    [to, from],
  );
  await db.run('DELETE FROM customer_marks WHERE customer_id = ?', [from]);
};

/**
 * `from`'s experiment units become `to`'s, one unit a person: in an experiment both hold a unit
 * of, the survivor's stays (the arm their later messages follow) and `from`'s is taken out — in
 * the same arm with what it was credited added to the survivor's (orders, revenue, the earlier
 * exposure), in another arm with it. (Left beside the survivor's, as before 2026-12-07, one
 * person was counted twice, in two arms, and the old id's unit was never credited again.)
 */
const mergeUnits = async (db: SqlRunner, from: CustomerId, to: CustomerId): Promise<void> => {
  await db.run(
    `UPDATE experiment_units AS t SET
       orders = t.orders + f.orders,
       revenue_cents = t.revenue_cents + f.revenue_cents,
       exposed_orders = t.exposed_orders + f.exposed_orders,
       exposed_revenue_cents = t.exposed_revenue_cents + f.exposed_revenue_cents,
       exposed_at_ms = COALESCE(
         CASE WHEN f.exposed_at_ms < t.exposed_at_ms THEN f.exposed_at_ms END,
         t.exposed_at_ms, f.exposed_at_ms)
     FROM experiment_units AS f
     WHERE t.customer_id = ? AND f.customer_id = ?
       AND f.experiment_id = t.experiment_id AND f.arm = t.arm`,
    [to, from],
  );
  await db.run(
    `DELETE FROM experiment_units WHERE customer_id = ?
       AND experiment_id IN (SELECT experiment_id FROM experiment_units WHERE customer_id = ?)`,
    [from, to],
  );
  await db.run(`UPDATE experiment_units SET customer_id = ? WHERE customer_id = ?`, [to, from]);
};

/**
 * An order not yet handled was numbered among the merged customer's orders alone (a guest's
 * first order): among the survivor's too it may be their fifth, a milestone. Its number becomes
 * its place among both customers' orders, the cancelled left out, as their profile counts them.
 */
const renumberOrder = async (
  db: SqlRunner,
  key: string,
  trigger: Trigger,
  from: CustomerId,
  to: CustomerId,
): Promise<void> => {
  if (trigger.kind !== 'event' || trigger.name !== 'Order Completed') return;
  const orderId = orderIdIn(trigger.properties);
  if (orderId === null) return;
  const [row] = await db.all<{ place: number }>(
    `SELECT COUNT(*) AS place FROM orders o, orders mine
     WHERE mine.order_id = ? AND o.customer_id IN (?, ?) AND o.cancelled = 0
       AND o.placed_at_ms <= mine.placed_at_ms`,
    [orderId, from, to],
  );
  const place = row?.place ?? 0;
  if (place <= (trigger.orderNumber ?? 0)) return;
  await db.run('UPDATE work SET trigger = ? WHERE key = ?', [
    JSON.stringify({ ...trigger, orderNumber: place }),
    key,
  ]);
};

interface PendingRow {
  key: string;
  trigger: string;
}

const moveWork = async (
  db: SqlRunner,
  from: CustomerId,
  to: CustomerId,
  nowMs: number,
  given: ReadonlySet<string>,
): Promise<void> => {
  const prefix = `${from}|`;
  const pending = await db.all<PendingRow>(
    "SELECT key, trigger FROM work WHERE customer_id = ? AND status = 'pending'",
    [from],
  );
  for (const { key, trigger } of pending) {
    if (!key.startsWith(prefix)) continue;
    const target = `${to}|${key.slice(prefix.length)}`;
    const parsed = JSON.parse(trigger) as Trigger;
    const kind = parsed.kind;
    // Not to a survivor with a message of the campaign: it would reach the person twice.
    if (kind === 'campaign' && given.has(parsed.campaign.id)) {
      await cancelPendingWork(
        db,
        key,
        `merged into ${to}, who has campaign ${parsed.campaign.id} already`,
        nowMs,
      );
      continue;
    }
    await renumberOrder(db, key, parsed, from, to);
    // Over a finished row only where it re-arms; never over a pending one — but for a cart
    // timer due later than the survivor's: the merged cart is as new as the newer of the two
    // carts, and the older timer would find the cart changed after it was set, and stop.
    const over = kind === 'cart-abandoned' ? 'later' : REARMED.has(kind) ? 'finished' : 'none';
    const moved = await copyWorkTo(db, key, target, to, nowMs, over);
    await cancelPendingWork(
      db,
      key,
      moved ? `moved to ${to}, merged into them` : `merged into ${to}, who has this work already`,
      nowMs,
    );
  }
};
