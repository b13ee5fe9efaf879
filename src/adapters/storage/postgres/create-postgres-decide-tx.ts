import type pg from 'pg';
import { groupByCustomer } from '../../../core/group-by-customer.js';
import type { CustomerId } from '../../../core/ids.js';
import {
  isWorkBefore,
  type CustomerMarks,
  type DecideTx,
  type Membership,
  type WorkItem,
  type WorkPosition,
} from '../../../ports/decide-store.js';
import {
  toCancelledBody,
  CANCELLABLE_DECISIONS,
  type DueDecisionRow,
  toDecisionColumns,
  toMarks,
  toMembership,
  toMembershipColumns,
  toWorkRecord,
  type WorkRow,
} from '../shared/decide-rows.js';
import type { MembershipsTable } from '../shared/tables.js';
import { handOver, toTaken, type TakenRow } from '../shared/hand-over.js';
import { postgresRunner, toNumbered } from '../shared/sql-runner.js';
import { budgetBlockedCustomers } from '../shared/budget-blocked.js';
import { hashLockKey, type LockClasses } from './hash-lock-key.js';

/** The decide primitives on one pooled connection, inside its open transaction. */
export const createPostgresDecideTx = (client: pg.PoolClient, locks: LockClasses): DecideTx => ({
  handOver: (from, to, nowMs) => handOver(postgresRunner(client), from, to, nowMs),
  async schedule(work, nowMs) {
    for (const mode of ['replace', 'once', 'log'] as const) {
      // One row per key, as if the drafts were applied in order: the last replaces, the first
      // of `once` and `log` stays (the later would do nothing). Rows keep the drafts' order, and
      // so their ids, which claims go by.
      const byKey = new Map<string, (typeof work)[number]>();
      for (const w of work)
        if ((w.mode ?? 'replace') === mode && (mode === 'replace' || !byKey.has(w.key)))
          byKey.set(w.key, w);
      const rows = [...byKey.values()];
      if (rows.length === 0) continue;
      await client.query(
        `INSERT INTO work (key, customer_id, due_at_ms, trigger, status, attempts, note, updated_at_ms)
                  SELECT k, c, d, t, $6, 0, NULL, $5
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS u(k, c, d, t)
         ON CONFLICT (key) DO ${
           mode !== 'replace'
             ? 'NOTHING'
             : `UPDATE SET customer_id = excluded.customer_id,
           due_at_ms = excluded.due_at_ms, trigger = excluded.trigger, status = 'pending',
           attempts = 0, note = NULL, updated_at_ms = excluded.updated_at_ms`
         }`,
        [
          rows.map((w) => w.key),
          rows.map((w) => w.customerId),
          rows.map((w) => w.dueAtMs),
          rows.map((w) => JSON.stringify(w.trigger)),
          nowMs,
          mode === 'log' ? 'done' : 'pending',
        ],
      );
    }
  },
  async campaignTurnsTaken(campaignId, drafts) {
    if (drafts.length === 0) return new Set();
    const { rows } = await client.query<TakenRow>(
      `SELECT 'message' AS source, customer_id AS value FROM messages
       WHERE campaign_id = $1 AND customer_id = ANY($2::text[])
       UNION ALL SELECT 'work', key FROM work WHERE key = ANY($3::text[])`,
      [campaignId, drafts.map((d) => d.customerId), drafts.map((d) => d.key)],
    );
    return toTaken(drafts, rows);
  },
  campaignBudgetBlocked: (campaignId, customerIds) =>
    budgetBlockedCustomers(postgresRunner(client), campaignId, customerIds),
  async tryLockCustomers(ids) {
    const unique = [...new Set(ids)];
    const { rows } = await client.query<{ i: number; ok: boolean }>(
      'SELECT i, pg_try_advisory_xact_lock($2, k) AS ok FROM unnest($1::int[]) WITH ORDINALITY AS t(k, i)',
      [unique.map(hashLockKey), locks.customers],
    );
    const locked = new Set<CustomerId>();
    for (const row of rows) {
      const id = unique[row.i - 1];
      if (row.ok && id !== undefined) locked.add(id);
    }
    return locked;
  },
  async findWorkAhead(claimed) {
    const ahead = new Map<CustomerId, WorkPosition>();
    const lastOf = new Map<CustomerId, WorkItem>();
    let lastOfAll: WorkItem | undefined;
    for (const item of claimed) {
      const seen = lastOf.get(item.customerId);
      if (seen === undefined || isWorkBefore(seen, item)) lastOf.set(item.customerId, item);
      if (lastOfAll === undefined || isWorkBefore(lastOfAll, item)) lastOfAll = item;
    }
    if (lastOfAll === undefined) return ahead;
    const last = [...lastOf.values()];
    // A plain read: rows another worker claimed are pending to it, and it does not wait for them.
    // Pending work before the last item claimed is what the claim itself walked through (its
    // own and the rows it skipped), so reading it once costs about what the claim did; looking
    // up each customer would read their whole history of finished work instead.
    const { rows } = await client.query<{ customer_id: string; due_at_ms: number; id: number }>(
      `WITH before_last AS MATERIALIZED (
         SELECT customer_id, due_at_ms, id FROM work
         WHERE status = 'pending' AND (due_at_ms, id) < ($5::bigint, $6::bigint)
           AND NOT (id = ANY($4::bigint[])))
       SELECT DISTINCT ON (w.customer_id) w.customer_id, w.due_at_ms, w.id
       FROM before_last w
       JOIN unnest($1::text[], $2::bigint[], $3::bigint[]) AS c(customer_id, due_at_ms, id)
         ON w.customer_id = c.customer_id AND (w.due_at_ms, w.id) < (c.due_at_ms, c.id)
       ORDER BY w.customer_id, w.due_at_ms, w.id`,
      [
        last.map((i) => i.customerId),
        last.map((i) => i.dueAtMs),
        last.map((i) => i.id),
        claimed.map((i) => i.id),
        lastOfAll.dueAtMs,
        lastOfAll.id,
      ],
    );
    for (const row of rows)
      ahead.set(row.customer_id as CustomerId, { dueAtMs: row.due_at_ms, id: row.id });
    return ahead;
  },
  async journeyVersionsBeyond(known) {
    const { rows: counted } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM journey_versions',
    );
    if ((counted[0]?.n ?? 0) === known) return null;
    const { rows } = await client.query<{
      journey_id: string;
      version: number;
      hash: string;
      definition: string;
      created_at_ms: string | number;
    }>('SELECT journey_id, version, hash, definition, created_at_ms FROM journey_versions');
    return rows.map((r) => ({
      journeyId: r.journey_id,
      version: r.version,
      hash: r.hash,
      definition: JSON.parse(r.definition) as unknown,
      createdAtMs: Number(r.created_at_ms),
    }));
  },
  async getSetting(key) {
    const { rows } = await client.query<{ value: string }>(
      'SELECT value FROM settings WHERE key = $1',
      [key],
    );
    return rows[0]?.value ?? null;
  },
  async setSetting(key, value) {
    await client.query(
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  },
  async cancelWork(keys, note, nowMs) {
    if (keys.length === 0) return 0;
    const result = await client.query(
      `UPDATE work SET status = 'cancelled', note = $2, updated_at_ms = $3
       WHERE key = ANY($1::text[]) AND status = 'pending'`,
      [keys, note, nowMs],
    );
    return result.rowCount ?? 0;
  },
  async claimDue(nowMs, limit) {
    // Locked until this transaction ends; concurrent workers skip these rows and take others.
    const { rows } = await client.query<WorkRow>(
      `SELECT * FROM work WHERE status = 'pending' AND due_at_ms <= $1
       ORDER BY due_at_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [nowMs, limit],
    );
    return rows.map(toWorkRecord);
  },
  async finishWork(items, nowMs) {
    if (items.length === 0) return;
    await client.query(
      `UPDATE work SET status = u.s, note = u.n, attempts = attempts + 1, updated_at_ms = $4,
         due_at_ms = COALESCE(u.d, work.due_at_ms)
       FROM unnest($1::bigint[], $2::text[], $3::text[], $5::bigint[]) AS u(i, s, n, d)
       WHERE work.id = u.i`,
      [
        items.map((i) => i.id),
        items.map((i) => i.status),
        items.map((i) => i.note),
        nowMs,
        items.map((i) => i.retryAtMs ?? null),
      ],
    );
  },
  async deleteWork(ids) {
    if (ids.length === 0) return;
    await client.query('DELETE FROM work WHERE id = ANY($1::bigint[])', [ids]);
  },
  async loadMemberships(ids) {
    if (ids.length === 0) return new Map<CustomerId, Membership[]>();
    const { rows } = await client.query<MembershipsTable>(
      'SELECT * FROM memberships WHERE customer_id = ANY($1::text[])',
      [ids],
    );
    return groupByCustomer(rows.map(toMembership));
  },
  async saveMemberships(memberships) {
    if (memberships.length === 0) return;
    const cols = memberships.map(toMembershipColumns);
    await client.query(
      `INSERT INTO memberships (customer_id, journey_id, version, step_id, status, entered_at_ms,
         updated_at_ms, entries, exit_reason, data)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[],
         $6::bigint[], $7::bigint[], $8::int[], $9::text[], $10::text[])
       ON CONFLICT (customer_id, journey_id) DO UPDATE SET version = excluded.version,
         step_id = excluded.step_id, status = excluded.status,
         entered_at_ms = excluded.entered_at_ms, updated_at_ms = excluded.updated_at_ms,
         entries = excluded.entries, exit_reason = excluded.exit_reason, data = excluded.data`,
      [
        cols.map((c) => c.customer_id),
        cols.map((c) => c.journey_id),
        cols.map((c) => c.version),
        cols.map((c) => c.step_id),
        cols.map((c) => c.status),
        cols.map((c) => c.entered_at_ms),
        cols.map((c) => c.updated_at_ms),
        cols.map((c) => c.entries),
        cols.map((c) => c.exit_reason),
        cols.map((c) => c.data),
      ],
    );
  },
  async loadMarks(ids) {
    const found = new Map<CustomerId, CustomerMarks>();
    if (ids.length === 0) return found;
    const { rows } = await client.query<Parameters<typeof toMarks>[0]>(
      'SELECT * FROM customer_marks WHERE customer_id = ANY($1::text[])',
      [ids],
    );
    for (const row of rows) found.set(row.customer_id as CustomerId, toMarks(row));
    return found;
  },
  async saveMarks(marks) {
    if (marks.length === 0) return;
    await client.query(
      `INSERT INTO customer_marks (customer_id, segment, stage, updated_at_ms, dormant_path_at_ms)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
       ON CONFLICT (customer_id) DO UPDATE SET segment = excluded.segment, stage = excluded.stage,
         updated_at_ms = excluded.updated_at_ms,
         dormant_path_at_ms =
           COALESCE(excluded.dormant_path_at_ms, customer_marks.dormant_path_at_ms)`,
      [
        marks.map((m) => m.customerId),
        marks.map((m) => m.segment),
        marks.map((m) => m.stage),
        marks.map((m) => m.updatedAtMs),
        marks.map((m) => m.dormantPathAtMs ?? null),
      ],
    );
  },
  async insertDecisions(decisions) {
    if (decisions.length === 0) return;
    const cols = decisions.map(toDecisionColumns);
    await client.query(
      `INSERT INTO decisions (id, customer_id, agent, action, status, journey_id, confidence,
         scheduled_for_ms, created_at_ms, body)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
         $6::text[], $7::float8[], $8::bigint[], $9::bigint[], $10::text[])`,
      [
        cols.map((c) => c.id),
        cols.map((c) => c.customer_id),
        cols.map((c) => c.agent),
        cols.map((c) => c.action),
        cols.map((c) => c.status),
        cols.map((c) => c.journey_id),
        cols.map((c) => c.confidence),
        cols.map((c) => c.scheduled_for_ms),
        cols.map((c) => c.created_at_ms),
        cols.map((c) => c.body),
      ],
    );
  },
  async cancelDecisions(customerId, match, reason, nowMs) {
    const { rows } = await client.query<DueDecisionRow>(toNumbered(CANCELLABLE_DECISIONS), [
      customerId,
      nowMs,
    ]);
    const cancelled: string[] = [];
    for (const row of rows) {
      const body = toCancelledBody(row, match, reason, nowMs);
      if (body === null) continue;
      await client.query(`UPDATE decisions SET status = 'cancelled', body = $2 WHERE id = $1`, [
        row.id,
        body,
      ]);
      cancelled.push(row.id);
    }
    return cancelled;
  },
});
