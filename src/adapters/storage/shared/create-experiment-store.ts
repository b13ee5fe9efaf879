import { sql as raw, type Kysely } from 'kysely';
import { DAY_MS } from '../../../core/time.js';
import type { CustomerId } from '../../../core/ids.js';
import type { Channel } from '../../../core/profile.js';
import type {
  ExperimentReads,
  ExperimentTx,
  Learning,
  UnitTotals,
} from '../../../ports/experiment-store.js';
import { lookUpAll, type SqlRunner } from './sql-runner.js';
import type { Database, LearningsTable } from './tables.js';

const UNIT_COLUMNS = [
  'experiment_id',
  'customer_id',
  'arm',
  'message_id',
  'segment',
  'channel',
  'assigned_at_ms',
  'window_ends_ms',
] as const;
const INSERT_UNIT = `INSERT INTO experiment_units (${UNIT_COLUMNS.join(', ')})
  VALUES (${UNIT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`;
const LEARNING_COLUMNS: readonly (keyof LearningsTable)[] = [
  'experiment_id',
  'strategy',
  'segment',
  'channel',
  'metric',
  'lift',
  'lower',
  'upper',
  'p',
  'units',
  'created_at_ms',
];

/** The experiment stage's writes, one SQL text for both databases. */
export const createExperimentTx = (sql: SqlRunner): ExperimentTx => ({
  async assignUnits(units) {
    for (const u of units)
      await sql.run(INSERT_UNIT, [
        u.experimentId,
        u.customerId,
        u.arm,
        u.messageId,
        u.segment,
        u.channel,
        u.assignedAtMs,
        u.windowEndsMs,
      ]);
  },
  async armsOf(experimentId, customerIds) {
    // By the primary key (experiment, customer).
    const rows = await lookUpAll(customerIds, (chunk, marks) =>
      sql.all<{ customer_id: CustomerId; arm: string }>(
        `SELECT customer_id, arm FROM experiment_units
          WHERE experiment_id = ? AND customer_id IN (${marks})`,
        [experimentId, ...chunk],
      ),
    );
    return new Map(rows.map((row) => [row.customer_id, row.arm]));
  },
  async creditOrders(orders) {
    if (orders.length === 0) return 0;
    // Each unit gains the orders of its window from assignment (intention to treat) and,
    // once exposed, of the window of the same length from exposure (the test among the
    // exposed); a unit is credited when either holds the order.
    const fromExposure = `u.exposed_at_ms IS NOT NULL AND u.exposed_at_ms <= o.at_ms
      AND u.exposed_at_ms + (u.window_ends_ms - u.assigned_at_ms) >= o.at_ms`;
    const fromAssignment = 'u.assigned_at_ms <= o.at_ms AND u.window_ends_ms >= o.at_ms';
    if (sql.dialect === 'postgres') {
      // One statement for the batch.
      const rows = await sql.all<{ n: string }>(
        `WITH o AS (
           SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[])
             AS o(customer_id, at_ms, revenue_cents)
         ), x AS (
           SELECT u.experiment_id, u.customer_id, COUNT(*) AS pairs,
             SUM(CASE WHEN ${fromAssignment} THEN 1 ELSE 0 END) AS n,
             SUM(CASE WHEN ${fromAssignment} THEN o.revenue_cents ELSE 0 END) AS revenue,
             SUM(CASE WHEN ${fromExposure} THEN 1 ELSE 0 END) AS en,
             SUM(CASE WHEN ${fromExposure} THEN o.revenue_cents ELSE 0 END) AS erevenue
           FROM experiment_units u JOIN o ON u.customer_id = o.customer_id
             AND u.assigned_at_ms <= o.at_ms
           WHERE (${fromAssignment}) OR (${fromExposure})
           GROUP BY u.experiment_id, u.customer_id
         )
         UPDATE experiment_units u
           SET orders = u.orders + x.n, revenue_cents = u.revenue_cents + x.revenue,
             exposed_orders = u.exposed_orders + x.en,
             exposed_revenue_cents = u.exposed_revenue_cents + x.erevenue
         FROM x WHERE u.experiment_id = x.experiment_id AND u.customer_id = x.customer_id
         RETURNING x.pairs AS n`,
        [
          orders.map((o) => o.customerId),
          orders.map((o) => o.atMs),
          orders.map((o) => o.revenueCents),
        ],
      );
      return rows.reduce((sum, r) => sum + Number(r.n), 0);
    }
    // The same windows for one order at a time (each `?` the order's time).
    const assigned = 'assigned_at_ms <= ? AND window_ends_ms >= ?';
    const exposed = `exposed_at_ms IS NOT NULL AND exposed_at_ms <= ?
      AND exposed_at_ms + (window_ends_ms - assigned_at_ms) >= ?`;
    let credited = 0;
    for (const o of orders) {
      credited += await sql.run(
        `UPDATE experiment_units SET
           orders = orders + CASE WHEN ${assigned} THEN 1 ELSE 0 END,
           revenue_cents = revenue_cents + CASE WHEN ${assigned} THEN ? ELSE 0 END,
           exposed_orders = exposed_orders + CASE WHEN ${exposed} THEN 1 ELSE 0 END,
           exposed_revenue_cents = exposed_revenue_cents + CASE WHEN ${exposed} THEN ? ELSE 0 END
         WHERE customer_id = ? AND assigned_at_ms <= ? AND ((${assigned}) OR (${exposed}))`,
        [
          o.atMs,
          o.atMs,
          o.atMs,
          o.atMs,
          o.revenueCents,
          o.atMs,
          o.atMs,
          o.atMs,
          o.atMs,
          o.revenueCents,
          o.customerId,
          o.atMs,
          o.atMs,
          o.atMs,
          o.atMs,
          o.atMs,
        ],
      );
    }
    return credited;
  },
  async saveLearnings(learnings) {
    for (const l of learnings) {
      await sql.run(
        `DELETE FROM learnings WHERE experiment_id = ? AND strategy = ? AND segment = ?
           AND channel = ? AND metric = ?`,
        [l.experimentId, l.strategy, l.segment, l.channel, l.metric],
      );
      await sql.run(
        `INSERT INTO learnings (${LEARNING_COLUMNS.join(', ')})
         VALUES (${LEARNING_COLUMNS.map(() => '?').join(', ')})`,
        [
          l.experimentId,
          l.strategy,
          l.segment,
          l.channel,
          l.metric,
          l.lift,
          l.lower,
          l.upper,
          l.p,
          l.units,
          l.createdAtMs,
        ],
      );
    }
  },
});

interface TotalsRow {
  arm: string;
  exposed: number;
  matured: number;
  settled: number;
  key: string | number;
  day: number | string;
  units: number;
  converted: number | null;
  revenue: number | null;
  squares: number | null;
  exposed_converted: number | null;
  exposed_revenue: number | null;
  exposed_squares: number | null;
}

/** The experiment tables' reads, for both dialects. */
export const createExperimentReads = (
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
): ExperimentReads => ({
  async unitsOfCustomer(customerId) {
    const rows = await db
      .selectFrom('experiment_units')
      .select([...UNIT_COLUMNS, 'exposed_at_ms'])
      .where('customer_id', '=', customerId)
      .orderBy('assigned_at_ms')
      .orderBy('experiment_id')
      .execute();
    return rows.map((r) => ({
      experimentId: r.experiment_id,
      customerId: r.customer_id as CustomerId,
      arm: r.arm,
      messageId: r.message_id,
      segment: r.segment,
      channel: r.channel as Channel,
      assignedAtMs: r.assigned_at_ms,
      windowEndsMs: r.window_ends_ms,
      exposedAtMs: r.exposed_at_ms,
    }));
  },
  async unitTotals(experimentId, by, nowMs) {
    // PostgreSQL sums bigints as numeric (returned as text); both are read back as numbers.
    const float = dialect === 'postgres' ? 'double precision' : 'real';
    // A literal, as the day key: PostgreSQL matches the GROUP BY expression to the selected
    // one only when both are the same text, and two parameters are not.
    const dayOf = raw<number>`(assigned_at_ms / ${raw.lit(DAY_MS)}) * ${raw.lit(DAY_MS)}`;
    const key = by === 'day' ? dayOf : raw<string>`segment`;
    // By both: the day beside the segment (a literal 0 otherwise, selected but not grouped by:
    // a bare number in GROUP BY would name a column).
    const byDayToo = by === 'segment-day';
    const day = byDayToo ? dayOf : raw<number>`0`;
    // A unit's window: from its exposure once exposed, else from its assignment.
    const matured = raw<number>`CASE WHEN window_ends_ms + COALESCE(exposed_at_ms - assigned_at_ms, 0)
      <= ${raw.lit(Math.floor(nowMs))} THEN 1 ELSE 0 END`;
    // The first assignment whose exposure is still undecided: its message may yet go. Read from
    // the messages waiting (by their status index) to their units (by message), not from the
    // experiment's units: few messages wait, and an experiment may hold millions of units
    // (SQLite's CROSS JOIN keeps that order; PostgreSQL's planner picks it from the counts).
    const join = raw.raw(dialect === 'sqlite' ? 'CROSS JOIN' : 'JOIN');
    const waiting = await raw<{ first: number | null }>`
      SELECT MIN(u.assigned_at_ms) AS first FROM messages m
        ${join} experiment_units u ON u.message_id = m.id
      WHERE m.status IN ('queued', 'review', 'sending') AND u.experiment_id = ${experimentId}
        AND u.exposed_at_ms IS NULL`.execute(db);
    const firstWaiting = waiting.rows[0]?.first ?? Number.MAX_SAFE_INTEGER;
    // A CASE even when nothing waits: a bare number in GROUP BY would name a column.
    const settled = raw<number>`CASE WHEN assigned_at_ms < ${raw.lit(firstWaiting)} THEN 1 ELSE 0 END`;
    const result = await raw<TotalsRow>`
      SELECT arm, CASE WHEN exposed_at_ms IS NULL THEN 0 ELSE 1 END AS exposed, ${key} AS key,
        ${day} AS day, ${matured} AS matured, ${settled} AS settled,
        COUNT(*) AS units,
        SUM(CASE WHEN orders > 0 THEN 1 ELSE 0 END) AS converted,
        SUM(revenue_cents) AS revenue,
        SUM(CAST(revenue_cents AS ${raw.raw(float)}) * revenue_cents) AS squares,
        SUM(CASE WHEN exposed_orders > 0 THEN 1 ELSE 0 END) AS exposed_converted,
        SUM(exposed_revenue_cents) AS exposed_revenue,
        SUM(CAST(exposed_revenue_cents AS ${raw.raw(float)}) * exposed_revenue_cents)
          AS exposed_squares
      FROM experiment_units WHERE experiment_id = ${experimentId}
      GROUP BY arm, CASE WHEN exposed_at_ms IS NULL THEN 0 ELSE 1 END, ${key},
        ${byDayToo ? raw`${dayOf},` : raw``} ${matured}, ${settled}
      ORDER BY arm`.execute(db);
    return result.rows.map((r): UnitTotals => ({
      arm: r.arm,
      exposed: r.exposed === 1,
      matured: r.matured === 1,
      settled: r.settled === 1,
      key: r.key,
      ...(byDayToo ? { day: Number(r.day) } : {}),
      units: r.units,
      converted: r.converted ?? 0,
      revenueCents: r.revenue ?? 0,
      revenueSquares: r.squares ?? 0,
      exposedConverted: r.exposed_converted ?? 0,
      exposedRevenueCents: r.exposed_revenue ?? 0,
      exposedRevenueSquares: r.exposed_squares ?? 0,
    }));
  },
  async kpiTotals(fromMs, toMs) {
    const n = (v: number | null) => v ?? 0;
    const touches = await raw<{
      channel: string;
      agent: string | null;
      sent: number;
      opened: number;
      clicked: number;
      complained: number;
      converted: number;
      orders: number;
      revenue: number | null;
    }>`
      SELECT m.channel, d.agent, COUNT(*) AS sent,
        SUM(CASE WHEN m.opened_at_ms IS NULL THEN 0 ELSE 1 END) AS opened,
        SUM(CASE WHEN m.clicked_at_ms IS NULL THEN 0 ELSE 1 END) AS clicked,
        SUM(CASE WHEN m.status = 'complained' THEN 1 ELSE 0 END) AS complained,
        SUM(CASE WHEN c.orders IS NULL THEN 0 ELSE 1 END) AS converted,
        SUM(COALESCE(c.orders, 0)) AS orders, SUM(COALESCE(c.revenue, 0)) AS revenue
      FROM messages m
        LEFT JOIN decisions d ON d.id = m.id
        LEFT JOIN (SELECT decision_id, COUNT(*) AS orders, SUM(revenue_cents) AS revenue
                   FROM conversions WHERE at_ms >= ${fromMs} GROUP BY decision_id) c
          ON c.decision_id = m.id
      WHERE m.sent_at_ms >= ${fromMs} AND m.sent_at_ms < ${toMs}
      GROUP BY m.channel, d.agent
      ORDER BY m.channel, d.agent`.execute(db);
    const made = await raw<{ status: string; count: number }>`
      SELECT status, COUNT(*) AS count FROM messages
      WHERE created_at_ms >= ${fromMs} AND created_at_ms < ${toMs} GROUP BY status`.execute(db);
    // Orders placed in the range, net of those cancelled since (by the customer who placed them).
    const [orders] = (
      await raw<{ count: number | null; revenue: number | null; cancelled: number | null }>`
        SELECT SUM(1 - cancelled) AS count,
          SUM(CASE WHEN cancelled = 0 THEN total_cents ELSE 0 END) AS revenue,
          SUM(cancelled) AS cancelled
        FROM orders
        WHERE placed_at_ms >= ${fromMs} AND placed_at_ms < ${toMs}`.execute(db)
    ).rows;
    // Customers who ordered: any order recorded (cancelled or refunded in full, their LTV is 0
    // and still counts in CLV's mean, as in churn's denominator), or net revenue without one.
    const stages = await raw<{
      stage: string;
      count: number;
      ordering: number;
      ltv: number | null;
    }>`
      SELECT stage, COUNT(*) AS count, SUM(ordered) AS ordering,
        SUM(CASE WHEN ordered = 1 THEN ltv_cents ELSE 0 END) AS ltv
      FROM (
        SELECT lifecycle_stage AS stage, user_id, ltv_cents,
          CASE WHEN ltv_cents > 0
            OR EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = profiles.customer_id)
          THEN 1 ELSE 0 END AS ordered
        FROM profiles
      ) p
      WHERE user_id IS NOT NULL OR ordered = 1
      GROUP BY stage`.execute(db);
    return {
      touches: touches.rows.map((r) => ({
        channel: r.channel,
        agent: r.agent ?? 'unknown',
        sent: n(r.sent),
        opened: n(r.opened),
        clicked: n(r.clicked),
        complained: n(r.complained),
        converted: n(r.converted),
        orders: n(r.orders),
        revenueCents: n(r.revenue),
      })),
      made: Object.fromEntries(made.rows.map((r) => [r.status, n(r.count)])),
      orders: {
        count: n(orders?.count ?? 0),
        revenueCents: n(orders?.revenue ?? 0),
        cancelled: n(orders?.cancelled ?? 0),
      },
      customers: {
        total: stages.rows.reduce((a, r) => a + n(r.count), 0),
        byStage: Object.fromEntries(stages.rows.map((r) => [r.stage, n(r.count)])),
        ordering: stages.rows.reduce((a, r) => a + n(r.ordering), 0),
        ltvCents: stages.rows.reduce((a, r) => a + n(r.ltv), 0),
      },
    };
  },
  async complaintsReceived(fromMs, toMs) {
    // When the message was marked complained: no report after that changes the row
    // (`recordMessageResult`), a complaint re-sent included.
    const [row] = (
      await raw<{ n: number | string }>`
        SELECT COUNT(*) AS n FROM messages WHERE status = 'complained'
          AND updated_at_ms >= ${fromMs} AND updated_at_ms < ${toMs}`.execute(db)
    ).rows;
    return Number(row?.n ?? 0);
  },
  async cartRecoveries(fromMs, toMs, windowMs) {
    // Each cart message of the range with every order its customer placed from the send to the
    // window's end and did not cancel (none: one row, no order), joined once (MATERIALIZED: SQLite would otherwise
    // run it for each of the three reads); messages counted once each, orders too.
    const [row] = (
      await raw<{ sent: number; recovered: number; revenue: number | null }>`
        WITH hits AS MATERIALIZED (
          SELECT m.id AS message_id, o.order_id, o.total_cents
          FROM messages m
            JOIN decisions d ON d.id = m.id
            LEFT JOIN orders o ON o.customer_id = m.customer_id AND o.cancelled = 0
              AND o.placed_at_ms >= m.sent_at_ms AND o.placed_at_ms < m.sent_at_ms + ${windowMs}
          WHERE d.agent = 'cart' AND m.sent_at_ms >= ${fromMs} AND m.sent_at_ms < ${toMs}
        )
        SELECT
          (SELECT COUNT(DISTINCT message_id) FROM hits) AS sent,
          (SELECT COUNT(DISTINCT message_id) FROM hits WHERE order_id IS NOT NULL) AS recovered,
          (SELECT SUM(total_cents) FROM (
             SELECT DISTINCT order_id, total_cents FROM hits WHERE order_id IS NOT NULL
           ) recovered_orders) AS revenue`.execute(db)
    ).rows;
    return {
      sent: row?.sent ?? 0,
      recovered: row?.recovered ?? 0,
      revenueCents: row?.revenue ?? 0,
    };
  },
  async listExperiments() {
    const rows = await db
      .selectFrom('experiment_units')
      .select((eb) => [
        'experiment_id',
        eb.fn.countAll<number>().as('units'),
        eb.fn.count<number>('exposed_at_ms').as('exposed'),
        eb.fn.min<number>('assigned_at_ms').as('first'),
        eb.fn.max<number>('assigned_at_ms').as('last'),
      ])
      .groupBy('experiment_id')
      .orderBy('experiment_id')
      .execute();
    return rows.map((r) => ({
      experimentId: r.experiment_id,
      units: r.units,
      exposed: r.exposed,
      firstAssignedAtMs: r.first,
      lastAssignedAtMs: r.last,
    }));
  },
  async experimentsAssignedIn(experimentIds, fromMs, toMs) {
    if (experimentIds.length === 0) return [];
    const rows = await db
      .selectFrom('experiment_units')
      .select('experiment_id')
      .distinct()
      .where('experiment_id', 'in', experimentIds)
      .where('assigned_at_ms', '>=', fromMs)
      .where('assigned_at_ms', '<', toMs)
      .execute();
    return rows.map((r) => r.experiment_id);
  },
  async listLearnings(query) {
    let q = db.selectFrom('learnings').selectAll().orderBy('created_at_ms', 'desc');
    if (query.segment !== undefined) q = q.where('segment', '=', query.segment);
    if (query.channel !== undefined) q = q.where('channel', '=', query.channel);
    return (await q.execute()).map((r): Learning => ({
      experimentId: r.experiment_id,
      strategy: r.strategy,
      segment: r.segment,
      channel: r.channel,
      metric: r.metric,
      lift: r.lift,
      lower: r.lower,
      upper: r.upper,
      p: r.p,
      units: r.units,
      createdAtMs: r.created_at_ms,
    }));
  },
});
