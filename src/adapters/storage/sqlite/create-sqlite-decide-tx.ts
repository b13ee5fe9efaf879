import type BetterSqlite3 from 'better-sqlite3';
import type { CustomerId } from '../../../core/ids.js';
import type { CustomerMarks, DecideTx, Membership } from '../../../ports/decide-store.js';
import { budgetBlockedCustomers } from '../shared/budget-blocked.js';
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
import { handOver, toTaken, type TakenRow } from '../shared/hand-over.js';
import type { SqlRunner } from '../shared/sql-runner.js';
import type { MembershipsTable } from '../shared/tables.js';

/** Prepared statements for the decide stage's tables. */
export const createSqliteDecideStatements = (db: BetterSqlite3.Database) => ({
  schedule: db.prepare(
    `INSERT INTO work (key, customer_id, due_at_ms, trigger, status, attempts, note, updated_at_ms)
     VALUES (?, ?, ?, ?, 'pending', 0, NULL, ?)
     ON CONFLICT (key) DO UPDATE SET customer_id = excluded.customer_id,
       due_at_ms = excluded.due_at_ms, trigger = excluded.trigger, status = 'pending',
       attempts = 0, note = NULL, updated_at_ms = excluded.updated_at_ms`,
  ),
  scheduleOnce: db.prepare(
    `INSERT INTO work (key, customer_id, due_at_ms, trigger, status, attempts, note, updated_at_ms)
     VALUES (?, ?, ?, ?, 'pending', 0, NULL, ?) ON CONFLICT (key) DO NOTHING`,
  ),
  scheduleLog: db.prepare(
    `INSERT INTO work (key, customer_id, due_at_ms, trigger, status, attempts, note, updated_at_ms)
     VALUES (?, ?, ?, ?, 'done', 0, NULL, ?) ON CONFLICT (key) DO NOTHING`,
  ),
  getSetting: db.prepare('SELECT value FROM settings WHERE key = ?'),
  setSetting: db.prepare(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ),
  cancelWork: db.prepare(
    `UPDATE work SET status = 'cancelled', note = ?, updated_at_ms = ?
     WHERE key = ? AND status = 'pending'`,
  ),
  claimDue: db.prepare(
    `SELECT * FROM work WHERE status = 'pending' AND due_at_ms <= ? ORDER BY due_at_ms, id LIMIT ?`,
  ),
  finishWork: db.prepare(
    `UPDATE work SET status = ?, note = ?, attempts = attempts + 1, updated_at_ms = ?,
       due_at_ms = COALESCE(?, due_at_ms) WHERE id = ?`,
  ),
  deleteWork: db.prepare('DELETE FROM work WHERE id = ?'),
  loadMemberships: db.prepare('SELECT * FROM memberships WHERE customer_id = ?'),
  saveMembership: db.prepare(
    `INSERT INTO memberships (customer_id, journey_id, version, step_id, status, entered_at_ms,
       updated_at_ms, entries, exit_reason, data)
     VALUES (@customer_id, @journey_id, @version, @step_id, @status, @entered_at_ms,
       @updated_at_ms, @entries, @exit_reason, @data)
     ON CONFLICT (customer_id, journey_id) DO UPDATE SET version = excluded.version,
       step_id = excluded.step_id, status = excluded.status,
       entered_at_ms = excluded.entered_at_ms, updated_at_ms = excluded.updated_at_ms,
       entries = excluded.entries, exit_reason = excluded.exit_reason, data = excluded.data`,
  ),
  loadMarks: db.prepare('SELECT * FROM customer_marks WHERE customer_id = ?'),
  saveMarks: db.prepare(
    `INSERT INTO customer_marks (customer_id, segment, stage, updated_at_ms, dormant_path_at_ms)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (customer_id) DO UPDATE SET segment = excluded.segment, stage = excluded.stage,
       updated_at_ms = excluded.updated_at_ms,
       dormant_path_at_ms = COALESCE(excluded.dormant_path_at_ms, customer_marks.dormant_path_at_ms)`,
  ),
  insertDecision: db.prepare(
    `INSERT INTO decisions (id, customer_id, agent, action, status, journey_id, confidence,
       scheduled_for_ms, created_at_ms, body)
     VALUES (@id, @customer_id, @agent, @action, @status, @journey_id, @confidence,
       @scheduled_for_ms, @created_at_ms, @body)`,
  ),
  dueDecisions: db.prepare(CANCELLABLE_DECISIONS),
  cancelDecision: db.prepare(`UPDATE decisions SET status = 'cancelled', body = ? WHERE id = ?`),
});

export type SqliteDecideStatements = ReturnType<typeof createSqliteDecideStatements>;

/** The decide primitives over prepared statements; they run inside the store's transaction. */
export const createSqliteDecideTx = (s: SqliteDecideStatements, db: SqlRunner): DecideTx => ({
  handOver: (from, to, nowMs) => handOver(db, from, to, nowMs),
  schedule(work, nowMs) {
    for (const w of work)
      (w.mode === 'once' ? s.scheduleOnce : w.mode === 'log' ? s.scheduleLog : s.schedule).run(
        w.key,
        w.customerId,
        w.dueAtMs,
        JSON.stringify(w.trigger),
        nowMs,
      );
    return Promise.resolve();
  },
  async campaignTurnsTaken(campaignId, drafts) {
    if (drafts.length === 0) return new Set();
    const marks = drafts.map(() => '?').join(', ');
    const rows = await db.all<TakenRow>(
      `SELECT 'message' AS source, customer_id AS value FROM messages
       WHERE campaign_id = ? AND customer_id IN (${marks})
       UNION ALL SELECT 'work', key FROM work WHERE key IN (${marks})`,
      [campaignId, ...drafts.map((d) => d.customerId), ...drafts.map((d) => d.key)],
    );
    return toTaken(drafts, rows);
  },
  campaignBudgetBlocked: (campaignId, customerIds) =>
    budgetBlockedCustomers(db, campaignId, customerIds),
  tryLockCustomers: (ids) => Promise.resolve(new Set(ids)),
  // The single writer's claim takes the oldest due work of everyone: nothing of a customer's
  // is left unclaimed before an item claimed, so there is nothing to look up.
  findWorkAhead: () => Promise.resolve(new Map()),
  // One process per file, which stored its versions when it started: none can appear since.
  journeyVersionsBeyond: () => Promise.resolve(null),
  getSetting(key) {
    const row = s.getSetting.get(key) as { value: string } | undefined;
    return Promise.resolve(row?.value ?? null);
  },
  setSetting(key, value) {
    s.setSetting.run(key, value);
    return Promise.resolve();
  },
  cancelWork(keys, note, nowMs) {
    let n = 0;
    for (const key of keys) n += s.cancelWork.run(note, nowMs, key).changes;
    return Promise.resolve(n);
  },
  claimDue(nowMs, limit) {
    return Promise.resolve((s.claimDue.all(nowMs, limit) as WorkRow[]).map(toWorkRecord));
  },
  finishWork(items, nowMs) {
    for (const i of items) s.finishWork.run(i.status, i.note, nowMs, i.retryAtMs ?? null, i.id);
    return Promise.resolve();
  },
  deleteWork(ids) {
    for (const id of ids) s.deleteWork.run(id);
    return Promise.resolve();
  },
  loadMemberships(ids) {
    const found = new Map<CustomerId, Membership[]>();
    for (const id of ids) {
      const rows = s.loadMemberships.all(id) as MembershipsTable[];
      if (rows.length > 0) found.set(id, rows.map(toMembership));
    }
    return Promise.resolve(found);
  },
  saveMemberships(rows) {
    for (const m of rows) s.saveMembership.run(toMembershipColumns(m));
    return Promise.resolve();
  },
  loadMarks(ids) {
    const found = new Map<CustomerId, CustomerMarks>();
    for (const id of ids) {
      const row = s.loadMarks.get(id) as Parameters<typeof toMarks>[0] | undefined;
      if (row !== undefined) found.set(id, toMarks(row));
    }
    return Promise.resolve(found);
  },
  saveMarks(rows) {
    for (const m of rows)
      s.saveMarks.run(m.customerId, m.segment, m.stage, m.updatedAtMs, m.dormantPathAtMs ?? null);
    return Promise.resolve();
  },
  insertDecisions(decisions) {
    for (const d of decisions) s.insertDecision.run(toDecisionColumns(d));
    return Promise.resolve();
  },
  cancelDecisions(customerId, match, reason, nowMs) {
    const rows = s.dueDecisions.all(customerId, nowMs) as DueDecisionRow[];
    const cancelled: string[] = [];
    for (const row of rows) {
      const body = toCancelledBody(row, match, reason, nowMs);
      if (body === null) continue;
      s.cancelDecision.run(body, row.id);
      cancelled.push(row.id);
    }
    return Promise.resolve(cancelled);
  },
});
