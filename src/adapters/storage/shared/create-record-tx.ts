import { randomUUID } from 'node:crypto';
import type { AuditKey } from '../../../core/audit.js';
import type { JsonObject } from '../../../core/event.js';
import { mergedCustomerIds, type CustomerId } from '../../../core/ids.js';
import { groupByCustomer } from '../../../core/group-by-customer.js';
import type { Channel } from '../../../core/profile.js';
import type {
  Conversion,
  MessagePatch,
  RecordTx,
  SendHistory,
} from '../../../ports/record-store.js';
import type { MessageStatus } from '../../../core/message.js';
import { reasonCodeSql } from './hand-over.js';
import {
  MESSAGE_COLUMNS,
  storableProviderId,
  storableReason,
  toAuditColumns,
  toAuditEntry,
  toMessage,
  toMessageColumns,
} from './record-rows.js';
import { CANCELLED, NEVER_LEFT, toDecision } from './decide-rows.js';
import { budgetBlockedCustomers } from './budget-blocked.js';
import { LOOKUP_CHUNK, lookUpAll, type SqlRunner } from './sql-runner.js';
import type { AuditLogTable, MessagesTable } from './tables.js';

// Counted for caps and budgets: what left, is leaving (claimed by a dispatcher, for as long as
// its lease if that dispatcher died), or is in the outbox to leave.
const SENDING = `status IN ('queued', 'sending', 'sent', 'bounced', 'complained')`;
/**
 * A message the provider accepted that its report then called undelivered or dropped (`failed`
 * with a time it left): providers bill for it, so it stays spent.
 */
const FAILED_AFTER_LEAVING = `(status = 'failed' AND sent_at_ms IS NOT NULL)`;
/** What may have reached the receiving server: the spend an erasure keeps. */
const HANDED_OVER = `(status IN ('sending', 'sent', 'bounced', 'complained') OR ${FAILED_AFTER_LEAVING})`;
/** What reached the receiving server, as the sending domain's reputation rates count it. */
const DELIVERED = `status IN ('sent', 'bounced', 'complained')`;
/** When a counted message left, or is to leave while it has not (queued, or being sent). */
const LEFT_AT = 'COALESCE(sent_at_ms, send_at_ms)';
const INSERT_MESSAGE = `INSERT INTO messages (${MESSAGE_COLUMNS.join(', ')})
  VALUES (${MESSAGE_COLUMNS.map(() => '?').join(', ')})`;
const INSERT_AUDIT = `INSERT INTO audit_log (seq, at_ms, kind, subject, data, prev_hash, hash)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;
/**
 * A new pseudonym: random, not derived from the id, so once the link is deleted nothing leads
 * back; led by the moment (in hex) it was made, which the customer's first audit entry tells
 * anyway, so the table's key grows at its end — random keys cost an insert twice as much once
 * the table outgrows a few pages (20 against 9 µs with 200,000 rows, in a scratch loop).
 */
const newPseudonym = (nowMs: number): string => {
  // 80 random bits: a UUID's last group and its first (`randomBytes` asks the system each call,
  // 6 µs; `randomUUID` draws from a buffer it fills ahead).
  const uuid = randomUUID();
  return `s_${Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, '0')}${uuid.slice(24)}${uuid.slice(0, 8)}`;
};

interface HistoryRow {
  customer_id: string;
  channel: string;
  total: number;
  in_window: number;
  today: number;
  latest: number | null;
}

/**
 * The record stage's primitives, one SQL text for both databases; `auditKey` (kept outside the
 * database) is handed to the appender with the chain's lock, to seal new entries. On PostgreSQL
 * that lock is the advisory lock `(auditLockClass, 0)` (`lockClassesOf`); SQLite, which writes one
 * transaction at a time, has none (null).
 */
export const createRecordTx = (
  sql: SqlRunner,
  auditKey: AuditKey | null,
  auditLockClass: number | null,
): RecordTx => {
  const pg = sql.dialect === 'postgres';
  if (pg && auditLockClass === null)
    throw new Error('createRecordTx on PostgreSQL needs the audit chain lock class');
  /**
   * A message that reached its customer (at `atMs`) exposes the experiment units it carries,
   * each then credited with the orders of the window from its exposure that are recorded
   * already (not cancelled): placed after the message went but recorded before its exposure was
   * (a provider's report that an attempt which seemed to fail went through), they counted for
   * the unit's assignment only; a value beyond what cents count exactly counts 0, as there. An
   * order recorded later finds the exposure (`creditOrders`). On PostgreSQL an order recorded
   * in a transaction still open when the exposure commits is missed unless the exposure's
   * transaction holds its customer's lock (a provider's report's and the dispatcher's
   * write-back do).
   */
  const exposeUnits = async (messageId: string, atMs: number) => {
    const exposed = await sql.run(
      `UPDATE experiment_units SET exposed_at_ms = ?
       WHERE message_id = ? AND exposed_at_ms IS NULL`,
      [atMs, messageId],
    );
    if (exposed === 0) return;
    const inWindow = `FROM orders o WHERE o.customer_id = experiment_units.customer_id
      AND o.cancelled = 0 AND o.placed_at_ms >= experiment_units.assigned_at_ms
      AND o.placed_at_ms >= experiment_units.exposed_at_ms AND o.placed_at_ms <=
        experiment_units.exposed_at_ms + (experiment_units.window_ends_ms - experiment_units.assigned_at_ms)`;
    await sql.run(
      `UPDATE experiment_units SET
         exposed_orders = exposed_orders + (SELECT COUNT(*) ${inWindow}),
         exposed_revenue_cents = exposed_revenue_cents
           + (SELECT COALESCE(SUM(CASE WHEN abs(o.total_cents) <= ${String(Number.MAX_SAFE_INTEGER)}
               THEN o.total_cents ELSE 0 END), 0) ${inWindow})
       WHERE message_id = ? AND exposed_at_ms = ?`,
      [messageId, atMs],
    );
  };
  /** Matches `customer_id` against the customers a query is for (`?`): all of them at once. */
  const ofCustomers = pg ? '= ANY(?::text[])' : '= ?';
  /**
   * The rows of a query for each of `ids`: one statement on PostgreSQL, one run of the prepared
   * statement per customer on SQLite; `params` puts the customers (or the one) in their place.
   */
  const allOfCustomers = async <T>(
    query: string,
    ids: readonly CustomerId[],
    params: (customers: unknown) => unknown[],
  ): Promise<T[]> => {
    if (ids.length === 0) return [];
    if (pg) return sql.all<T>(query, params([...ids]));
    const rows: T[] = [];
    for (const id of ids) rows.push(...(await sql.all<T>(query, params(id))));
    return rows;
  };
  return {
    auditLockIsFree: !pg,
    async conversionCounts(ids, sentBeforeMs) {
      const found = new Map<CustomerId, Record<string, { sends: number; conversions: number }>>();
      const query = `SELECT m.customer_id, m.channel, COUNT(*) AS sends,
          SUM(CASE WHEN EXISTS (SELECT 1 FROM conversions c WHERE c.decision_id = m.id)
            THEN 1 ELSE 0 END) AS conversions
        FROM messages m WHERE m.customer_id ${ofCustomers}
          AND m.status IN ('sent', 'complained')
          AND m.sent_at_ms IS NOT NULL AND m.sent_at_ms < ?
        GROUP BY m.customer_id, m.channel`;
      type Row = { customer_id: string; channel: string; sends: number; conversions: number };
      const rows = await allOfCustomers<Row>(query, ids, (c) => [c, sentBeforeMs]);
      for (const row of rows) {
        const id = row.customer_id as CustomerId;
        const counts = found.get(id) ?? {};
        counts[row.channel] = { sends: row.sends, conversions: row.conversions };
        found.set(id, counts);
      }
      return found;
    },
    async sendHistory(ids, since) {
      const found = new Map<CustomerId, SendHistory>();
      // A message counts from when it left (`sent_at_ms`), or is to leave while it has not: one
      // a backlog sent hours after it was due stays in the window, the day and the cadence as
      // long as one sent on time would. The rows are read by the customer's index either way.
      const query = `SELECT customer_id, channel, COUNT(*) AS total,
          SUM(CASE WHEN ${LEFT_AT} > ? THEN 1 ELSE 0 END) AS in_window,
          SUM(CASE WHEN ${LEFT_AT} > ? AND channel <> 'web' THEN 1 ELSE 0 END) AS today,
          MAX(CASE WHEN channel <> 'web' THEN ${LEFT_AT} END) AS latest
        FROM messages WHERE customer_id ${ofCustomers}
          AND class = 'marketing' AND ${SENDING}
        GROUP BY customer_id, channel`;
      const rows = await allOfCustomers<HistoryRow>(query, ids, (c) => [
        since.windowStartMs,
        since.dayStartMs,
        c,
      ]);
      for (const row of rows) {
        const id = row.customer_id as CustomerId;
        let h = found.get(id);
        if (h === undefined) {
          h = {
            marketingInWindow: {},
            campaignsToday: 0,
            marketingTotal: 0,
            lastMarketingAtMs: null,
          };
          found.set(id, h);
        }
        const latest = row.latest;
        if (latest !== null && (h.lastMarketingAtMs === null || latest > h.lastMarketingAtMs))
          h.lastMarketingAtMs = latest;
        h.marketingInWindow[row.channel as Channel] = row.in_window;
        h.campaignsToday += row.today;
        if (row.channel !== 'web') h.marketingTotal += row.total;
      }
      return found;
    },
    async campaignSpend(campaignIds) {
      const spent = new Map<string, number>();
      for (const id of new Set(campaignIds)) {
        // With what went to customers since erased (their messages gone with them).
        const [row] = await sql.all<{ spent: number | null }>(
          // Counted against the budget: what is to leave, is leaving or left, a failure after
          // it left too. Two sums, not one with OR: the first reads the index alone (cost is in
          // it), the second visits only the campaign's failed messages.
          `SELECT COALESCE((SELECT SUM(cost) FROM messages WHERE campaign_id = ? AND ${SENDING}), 0)
             + COALESCE((SELECT SUM(cost) FROM messages
                 WHERE campaign_id = ? AND ${FAILED_AFTER_LEAVING}), 0)
             + COALESCE((SELECT cost FROM erased_spend WHERE campaign_id = ?), 0) AS spent`,
          [id, id, id],
        );
        spent.set(id, row?.spent ?? 0);
      }
      return spent;
    },
    async campaignMessageCounts(campaignId) {
      const rows = await sql.all<{ status: string; n: number | string }>(
        'SELECT status, COUNT(*) AS n FROM messages WHERE campaign_id = ? GROUP BY status',
        [campaignId],
      );
      // As a relaunch finds them: one query for both.
      const blocked = await budgetBlockedCustomers(sql, campaignId);
      return {
        byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
        blockedByBudget: blocked.size,
      };
    },
    async domainStats(domain, sinceMs) {
      const [row] = await sql.all<{ sent: number; bounced: number; complained: number }>(
        `SELECT COUNT(*) AS sent,
           SUM(CASE WHEN status = 'bounced' THEN 1 ELSE 0 END) AS bounced,
           SUM(CASE WHEN status = 'complained' THEN 1 ELSE 0 END) AS complained
         FROM (SELECT status FROM messages WHERE sending_domain = ? AND send_at_ms >= ?
                 AND ${DELIVERED}
               UNION ALL
               SELECT status FROM erased_deliveries WHERE sending_domain = ? AND send_at_ms >= ?)
           AS delivered`,
        [domain, sinceMs, domain, sinceMs],
      );
      return {
        sent: row?.sent ?? 0,
        bounced: row?.bounced ?? 0,
        complained: row?.complained ?? 0,
      };
    },
    async insertMessages(rows) {
      for (const m of rows) {
        const c = toMessageColumns(m);
        await sql.run(
          INSERT_MESSAGE,
          MESSAGE_COLUMNS.map((k) => c[k]),
        );
      }
    },
    async existingMessages(ids) {
      const rows = await lookUpAll(ids, (chunk, marks) =>
        sql.all<{ id: string }>(`SELECT id FROM messages WHERE id IN (${marks})`, chunk),
      );
      return new Set(rows.map((r) => r.id));
    },
    async getMessageForUpdate(id) {
      const [row] = await sql.all<MessagesTable>(
        `SELECT * FROM messages WHERE id = ?${pg ? ' FOR UPDATE' : ''}`,
        [id],
      );
      return row === undefined ? undefined : toMessage(row);
    },
    async updateMessage(id, patch: MessagePatch, nowMs, expectedStatus) {
      const [row] = await sql.all<MessagesTable>(
        `SELECT * FROM messages WHERE id = ?${pg ? ' FOR UPDATE' : ''}`,
        [id],
      );
      if (row === undefined || (expectedStatus !== undefined && row.status !== expectedStatus))
        return false;
      const defined = Object.fromEntries(
        Object.entries(patch).filter(([, v]) => v !== undefined),
      ) as MessagePatch;
      const c = toMessageColumns({ ...toMessage(row), ...defined, updatedAtMs: nowMs });
      // The status read is the status changed: a dispatcher's claim in between wins.
      return (
        (await sql.run(
          `UPDATE messages SET status = ?, send_at_ms = ?, review_expires_at_ms = ?,
             updated_at_ms = ?, cost = ?, body = ? WHERE id = ? AND status = ?`,
          [
            c.status,
            c.send_at_ms,
            c.review_expires_at_ms,
            c.updated_at_ms,
            c.cost,
            c.body,
            id,
            row.status,
          ],
        )) === 1
      );
    },
    async requeueUnsent(id, providerId, at) {
      const [row] = await sql.all<{ body: string }>(
        `SELECT body FROM messages WHERE id = ? AND status = 'sent'${
          providerId === null ? '' : ' AND provider_id = ?'
        }${pg ? ' FOR UPDATE' : ''}`,
        providerId === null ? [id] : [id, providerId],
      );
      if (row === undefined) return false;
      const body = JSON.parse(row.body) as Record<string, unknown>;
      body['lastError'] = storableReason(at.lastError);
      body['reasonCode'] = null;
      // Not sent after all: no time it left, so a dispatcher that dies while retrying it leaves it
      // to be claimed again, not taken for one the provider had.
      return (
        (await sql.run(
          `UPDATE messages SET status = 'queued', send_at_ms = ?, sent_at_ms = NULL,
             lease_until_ms = NULL, updated_at_ms = ?, body = ?
           WHERE id = ? AND status = 'sent'`,
          [at.sendAtMs, at.nowMs, JSON.stringify(body), id],
        )) === 1
      );
    },
    async pendingMessagesOf(decisionIds) {
      const found = [];
      for (const id of decisionIds) {
        const rows = await sql.all<MessagesTable>(
          `SELECT * FROM messages m WHERE id = ? AND ${NEVER_LEFT}${pg ? ' FOR UPDATE' : ''}`,
          [id],
        );
        found.push(...rows.map(toMessage));
      }
      return found;
    },
    async cancelDecisionsById(ids, reason) {
      const cancelled: string[] = [];
      for (const row of await lookUpAll(ids, (chunk, marks) =>
        sql.all<{ id: string; status: string; body: string; customer_id: string }>(
          `SELECT id, status, body, customer_id FROM decisions
           WHERE status = 'scheduled' AND id IN (${marks})${pg ? ' FOR UPDATE' : ''}`,
          chunk,
        ),
      )) {
        const decision = toDecision(row);
        decision.status = 'cancelled';
        decision.reasons = [...decision.reasons, `${CANCELLED}${reason}`];
        await sql.run(`UPDATE decisions SET status = 'cancelled', body = ? WHERE id = ?`, [
          JSON.stringify(decision),
          row.id,
        ]);
        cancelled.push(row.id);
      }
      return cancelled;
    },
    async campaignMessagesOf(customerIds) {
      if (customerIds.length === 0) return [];
      const rows = await sql.all<{
        id: string;
        customer_id: CustomerId;
        campaign_id: string;
        status: string;
        reason_code: string | null;
        waiting: number | boolean;
        accepted: number | boolean;
        measured: number | boolean;
      }>(
        `SELECT m.id, m.customer_id, m.campaign_id, m.status,
           ${reasonCodeSql(sql.dialect, 'm.body')} AS reason_code,
           CASE WHEN ${NEVER_LEFT} THEN 1 ELSE 0 END AS waiting,
           CASE WHEN m.sent_at_ms IS NULL THEN 0 ELSE 1 END AS accepted,
           CASE WHEN EXISTS (SELECT 1 FROM experiment_units u
             WHERE u.message_id = m.id AND u.experiment_id = m.campaign_id) THEN 1 ELSE 0 END
             AS measured
         FROM messages m
         WHERE m.customer_id IN (${customerIds.map(() => '?').join(', ')})
           AND m.campaign_id IS NOT NULL
           AND NOT (m.status = 'blocked' AND ${reasonCodeSql(sql.dialect, 'm.body')} = 'budget_exhausted')
         ORDER BY m.created_at_ms, m.id`,
        [...customerIds],
      );
      return rows.map((r) => ({
        id: r.id,
        customerId: r.customer_id,
        campaignId: r.campaign_id,
        status: r.status as MessageStatus,
        reasonCode: r.reason_code,
        waiting: Number(r.waiting) === 1,
        accepted: Number(r.accepted) === 1,
        measured: Number(r.measured) === 1,
      }));
    },
    async expiredReviews(nowMs, limit) {
      const rows = await sql.all<MessagesTable>(
        `SELECT * FROM messages WHERE status = 'review' AND review_expires_at_ms <= ?
         ORDER BY review_expires_at_ms LIMIT ?${pg ? ' FOR UPDATE SKIP LOCKED' : ''}`,
        [nowMs, limit],
      );
      return rows.map(toMessage);
    },
    async lockAuditHead() {
      if (pg) await sql.all('SELECT pg_advisory_xact_lock(?, 0)', [auditLockClass]);
      // The whole entry: an appender with the key recomputes its seal before building on it.
      const [row] = await sql.all<AuditLogTable>(
        'SELECT seq, at_ms, kind, subject, data, prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
      );
      return { head: row === undefined ? null : toAuditEntry(row), key: auditKey };
    },
    async insertAudit(entries) {
      for (const e of entries) {
        const c = toAuditColumns(e);
        await sql.run(INSERT_AUDIT, [
          c.seq,
          c.at_ms,
          c.kind,
          c.subject,
          c.data,
          c.prev_hash,
          c.hash,
        ]);
      }
    },
    async pseudonymsOf(ids, nowMs) {
      const found = new Map<CustomerId, string>();
      // A customer who took others in on merges holds their pseudonyms too; the first is theirs.
      // Read for the whole batch at once: one statement per customer made a campaign's first
      // round (a new pseudonym for nearly everyone) pay two per decision.
      const rows = await lookUpAll(ids, (chunk, marks) =>
        sql.all<{ customer_id: string; pseudonym: string }>(
          `SELECT customer_id, pseudonym FROM pseudonyms WHERE customer_id IN (${marks})
            ORDER BY customer_id, created_at_ms, pseudonym`,
          chunk,
        ),
      );
      for (const row of rows) {
        const id = row.customer_id as CustomerId;
        if (!found.has(id)) found.set(id, row.pseudonym);
      }
      for (const id of new Set(ids)) {
        if (found.has(id)) continue;
        const pseudonym = newPseudonym(nowMs);
        await sql.run(
          'INSERT INTO pseudonyms (pseudonym, customer_id, created_at_ms) VALUES (?, ?, ?)',
          [pseudonym, id, nowMs],
        );
        found.set(id, pseudonym);
      }
      return found;
    },
    async identityKeysOf(id) {
      const rows = await sql.all<{ key: string }>(
        'SELECT key FROM identities WHERE customer_id = ? ORDER BY key',
        [id],
      );
      return rows.map((r) => r.key);
    },
    async addErasedIdentities(hashes, atMs) {
      for (const hash of new Set(hashes))
        await sql.run(
          `INSERT INTO erased_identities (key_hash, erased_at_ms) VALUES (?, ?)
             ON CONFLICT (key_hash) DO UPDATE SET erased_at_ms = excluded.erased_at_ms
             WHERE excluded.erased_at_ms > erased_identities.erased_at_ms`,
          [hash, atMs],
        );
    },
    async erasedIdentities(hashes) {
      const rows = await lookUpAll(hashes, (chunk, marks) =>
        sql.all<{ key_hash: string; erased_at_ms: number | string }>(
          `SELECT key_hash, erased_at_ms FROM erased_identities WHERE key_hash IN (${marks})`,
          chunk,
        ),
      );
      return new Map(rows.map((r) => [r.key_hash, Number(r.erased_at_ms)]));
    },
    async addAddressBounces(bounces) {
      for (const { hash, count, atMs } of bounces)
        await sql.run(
          `INSERT INTO address_bounces (key_hash, hard_bounces, last_at_ms) VALUES (?, ?, ?)
             ON CONFLICT (key_hash) DO UPDATE
             SET hard_bounces = address_bounces.hard_bounces + excluded.hard_bounces,
               last_at_ms = CASE WHEN excluded.last_at_ms > address_bounces.last_at_ms
                 THEN excluded.last_at_ms ELSE address_bounces.last_at_ms END`,
          [hash, count, atMs],
        );
    },
    async addressBounces(hashes) {
      const rows = await lookUpAll(hashes, (chunk, marks) =>
        sql.all<{ key_hash: string; hard_bounces: number | string }>(
          `SELECT key_hash, hard_bounces FROM address_bounces WHERE key_hash IN (${marks})`,
          chunk,
        ),
      );
      return new Map(rows.map((r) => [r.key_hash, Number(r.hard_bounces)]));
    },
    async claimDeviceTokens(claims, replayed = false) {
      // The newest claim of each token: one statement may not upsert a row twice (PostgreSQL).
      // Of two as new, the later given: a sign-out and a sign-in within one second (timestamps
      // to the second, or none in one batch) leave the device with the account signed in last.
      const newest = new Map<string, { token: string; customerId: CustomerId; seenAtMs: number }>();
      for (const c of claims) {
        const kept = newest.get(c.token);
        if (kept === undefined || c.seenAtMs >= kept.seenAtMs) newest.set(c.token, c);
      }
      const rows = [...newest.values()];
      for (let i = 0; i < rows.length; i += LOOKUP_CHUNK) {
        const chunk = rows.slice(i, i + LOOKUP_CHUNK);
        await sql.run(
          `INSERT INTO device_tokens (token, customer_id, seen_at_ms)
           VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}
           ON CONFLICT (token) DO UPDATE
             SET customer_id = excluded.customer_id, seen_at_ms = excluded.seen_at_ms
             WHERE excluded.seen_at_ms ${replayed ? '>' : '>='} device_tokens.seen_at_ms`,
          chunk.flatMap((c) => [c.token, c.customerId, c.seenAtMs]),
        );
      }
    },
    async identifyTraitsOf(ids) {
      const rows = await lookUpAll([...new Set(ids)], (chunk, marks) =>
        sql.all<{ customer_id: CustomerId; body: string }>(
          `SELECT customer_id, body FROM events WHERE type = 'identify' AND customer_id IN (${marks})
           ORDER BY customer_id, timestamp_ms, seq`,
          chunk,
        ),
      );
      const traits = new Map<CustomerId, JsonObject[]>();
      for (const row of rows) {
        const list = traits.get(row.customer_id) ?? [];
        list.push((JSON.parse(row.body) as { traits: JsonObject }).traits);
        traits.set(row.customer_id, list);
      }
      return traits;
    },
    async deviceTokensOwnedBy(customerId) {
      const rows = await sql.all<{ token: string }>(
        'SELECT token FROM device_tokens WHERE customer_id = ? ORDER BY token',
        [customerId],
      );
      return rows.map((r) => r.token);
    },
    async deviceTokenOwners(tokens) {
      const rows = await lookUpAll(tokens, (chunk, marks) =>
        sql.all<{ token: string; customer_id: CustomerId }>(
          `SELECT token, customer_id FROM device_tokens WHERE token IN (${marks})`,
          chunk,
        ),
      );
      return new Map(rows.map((r) => [r.token, r.customer_id]));
    },
    async inboundSeen(provider, id) {
      const rows = await sql.all(
        'SELECT 1 AS found FROM inbound_webhooks WHERE provider = ? AND id = ?',
        [provider, id],
      );
      return rows.length > 0;
    },
    async rememberInbound(provider, id, atMs) {
      await sql.run(
        `INSERT INTO inbound_webhooks (provider, id, received_at_ms) VALUES (?, ?, ?)
         ON CONFLICT (provider, id) DO NOTHING`,
        [provider, id, atMs],
      );
    },
    async anyAddressBounce() {
      return (await sql.all('SELECT 1 AS found FROM address_bounces LIMIT 1')).length > 0;
    },
    async documentVersionsOf(ids) {
      const rows = await lookUpAll(ids, (chunk, marks) =>
        sql.all<{
          id: string;
          version: string;
          hash: string;
          body: string;
          imported_at_ms: number | string;
        }>(
          `SELECT id, version, hash, body, imported_at_ms FROM content_documents WHERE id IN (${marks}) ORDER BY imported_at_ms, id, version`,
          chunk,
        ),
      );
      return rows.map((r) => ({
        id: r.id,
        version: r.version,
        hash: r.hash,
        document: JSON.parse(r.body) as unknown,
        importedAtMs: Number(r.imported_at_ms),
      }));
    },
    async anyErasedIdentity() {
      return (await sql.all('SELECT 1 AS found FROM erased_identities LIMIT 1')).length > 0;
    },
    async markEngagement(messageId, kind, atMs) {
      const column = `${kind}_at_ms`;
      const changed = await sql.run(
        `UPDATE messages SET ${column} = ? WHERE id = ? AND ${column} IS NULL`,
        [atMs, messageId],
      );
      return changed > 0;
    },
    async eraseCustomer(id) {
      // With the customers merged into this one, found by the identity links that now lead
      // here: what a merge leaves under their ids (experiment units) goes too.
      const links = await sql.all<{ key: string }>(
        'SELECT key FROM identities WHERE customer_id = ?',
        [id],
      );
      const ids = mergedCustomerIds(
        id,
        links.map(({ key }) => key),
      );
      const of = `customer_id IN (${ids.map(() => '?').join(', ')})`;
      const del = (table: string) => sql.run(`DELETE FROM ${table} WHERE ${of}`, ids);
      // What their campaign messages cost stays spent: a budget is not refunded by an erasure.
      // Messages not yet handed over (queued) go unsent and cost nothing.
      await sql.run(
        `INSERT INTO erased_spend (campaign_id, cost)
         SELECT campaign_id, SUM(cost) FROM messages
         WHERE ${of} AND campaign_id IS NOT NULL
           AND ${HANDED_OVER}
         GROUP BY campaign_id
         ON CONFLICT (campaign_id) DO UPDATE SET cost = erased_spend.cost + excluded.cost`,
        ids,
      );
      // Their deliveries stay in their sending domain's rates, the customer's part gone.
      await sql.run(
        `INSERT INTO erased_deliveries (sending_domain, send_at_ms, status)
         SELECT sending_domain, send_at_ms, status FROM messages
         WHERE ${of} AND sending_domain IS NOT NULL AND ${DELIVERED}`,
        ids,
      );
      // What the capture channel kept of the customer's messages goes with them.
      const captured = await sql.run(
        `DELETE FROM captured WHERE message_id IN (SELECT id FROM messages WHERE ${of})`,
        ids,
      );
      return {
        events: await del('events'),
        orders: await del('orders'),
        identities: await del('identities'),
        profiles: await del('profiles'),
        messages: await del('messages'),
        decisions: await del('decisions'),
        work: await del('work'),
        captured,
        conversions: await del('conversions'),
        experimentUnits: await del('experiment_units'),
        journeys: await del('memberships'),
        marks: await del('customer_marks'),
        pseudonyms: await del('pseudonyms'),
        apiSends: await del('idempotency'),
        deviceTokens: await del('device_tokens'),
      };
    },
    // Counted with those a report showed taken: a claim is what settles them (`acceptedLeftSending`).
    async countClaimable(channels, nowMs, limit) {
      if (channels.length === 0 || limit <= 0) return 0;
      const inChannels = `channel IN (${channels.map(() => '?').join(', ')})`;
      const [row] = await sql.all<{ due: number | string; left: number | string }>(
        `SELECT
           (SELECT COUNT(*) FROM (SELECT 1 FROM messages
              WHERE status = 'queued' AND send_at_ms <= ? AND ${inChannels} LIMIT ?) d) AS due,
           (SELECT COUNT(*) FROM (SELECT 1 FROM messages
              WHERE status = 'sending' AND lease_until_ms <= ? AND ${inChannels} LIMIT ?) l)
             AS left`,
        [nowMs, ...channels, limit, nowMs, ...channels, limit],
      );
      return Math.min(limit, Number(row?.due ?? 0) + Number(row?.left ?? 0));
    },
    async claimOutbox(channels, nowMs, limit, leaseUntilMs) {
      if (channels.length === 0 || limit <= 0) return [];
      const inChannels = `channel IN (${channels.map(() => '?').join(', ')})`;
      const lock = pg ? ' FOR UPDATE SKIP LOCKED' : '';
      // Due rows first, then rows whose dispatcher died with them claimed.
      const rows = await sql.all<MessagesTable>(
        `SELECT * FROM messages WHERE status = 'queued' AND send_at_ms <= ? AND ${inChannels}
         ORDER BY send_at_ms LIMIT ?${lock}`,
        [nowMs, ...channels, limit],
      );
      if (rows.length < limit)
        rows.push(
          ...(await sql.all<MessagesTable>(
            // Not one a report showed the provider took (`acceptedLeftSending`): that went.
            `SELECT * FROM messages WHERE status = 'sending' AND lease_until_ms <= ?
               AND sent_at_ms IS NULL AND ${inChannels}
             ORDER BY lease_until_ms LIMIT ?${lock}`,
            [nowMs, ...channels, limit - rows.length],
          )),
        );
      for (const row of rows)
        await sql.run(
          `UPDATE messages SET status = 'sending', lease_until_ms = ?, updated_at_ms = ?
           WHERE id = ?`,
          [leaseUntilMs, nowMs, row.id],
        );
      return rows.map((row) => {
        const message = toMessage(row);
        message.status = 'sending';
        return message;
      });
    },
    async finishDelivery(id, u, nowMs, leaseUntilMs) {
      // Locked on PostgreSQL: a provider's report committing between this read and the write
      // below would have its reason overwritten with this body.
      const [row] = await sql.all<{ body: string; status: string; customer_id: CustomerId }>(
        `SELECT body, status, customer_id FROM messages WHERE id = ?${pg ? ' FOR UPDATE' : ''}`,
        [id],
      );
      if (row === undefined) return null;
      const body = JSON.parse(row.body) as Record<string, unknown>;
      if (row.status === 'sending') {
        body['lastError'] = storableReason(u.lastError);
        body['reasonCode'] = u.reasonCode;
      }
      if (u.throttledSinceMs === null) delete body['throttledSinceMs'];
      else if (u.throttledSinceMs !== undefined) body['throttledSinceMs'] = u.throttledSinceMs;
      if (u.staleTokens !== undefined) body['staleTokens'] = u.staleTokens;
      const changed = await sql.run(
        // Under this claim's lease only. A provider's report that came before this write (a
        // fast "undelivered") may have changed the status already: it stands, and the send's
        // facts (provider, its id, recipient, time) are still written.
        `UPDATE messages SET status = CASE WHEN status = 'sending' THEN ? ELSE status END,
           send_at_ms = COALESCE(?, send_at_ms), lease_until_ms = NULL,
           attempts = attempts + ?, recipient = ?, provider = ?, provider_id = ?, sent_at_ms = ?,
           updated_at_ms = ?, body = ?
         WHERE id = ? AND lease_until_ms = ?`,
        [
          u.status,
          u.sendAtMs ?? null,
          u.attempted ? 1 : 0,
          u.recipient,
          u.provider,
          storableProviderId(u.providerId),
          u.sentAtMs,
          nowMs,
          JSON.stringify(body),
          id,
          leaseUntilMs,
        ],
      );
      // The message reached its customer: that is the exposure of any experiment it carries.
      if (changed === 1 && u.status === 'sent' && u.sentAtMs !== null)
        await exposeUnits(id, u.sentAtMs);
      return changed === 1 ? row.customer_id : null;
    },
    async cancelledDecisionsOf(ids) {
      const found = new Map<string, string>();
      if (ids.length === 0) return found;
      const rows = await sql.all<{ id: string; body: string }>(
        `SELECT id, body FROM decisions WHERE status = 'cancelled'
           AND id IN (${ids.map(() => '?').join(', ')})`,
        [...ids],
      );
      for (const row of rows) {
        const reasons = (JSON.parse(row.body) as { reasons?: unknown }).reasons;
        const cancel = Array.isArray(reasons)
          ? reasons.filter((r): r is string => typeof r === 'string' && r.startsWith(CANCELLED))
          : [];
        found.set(row.id, cancel.at(-1)?.slice(CANCELLED.length) ?? 'its decision was cancelled');
      }
      return found;
    },
    async acceptedLeftSending(channels, nowMs, limit) {
      if (channels.length === 0 || limit <= 0) return [];
      const rows = await sql.all<MessagesTable>(
        `SELECT * FROM messages WHERE status = 'sending' AND lease_until_ms <= ?
           AND sent_at_ms IS NOT NULL AND channel IN (${channels.map(() => '?').join(', ')})
         ORDER BY lease_until_ms LIMIT ?`,
        [nowMs, ...channels, limit],
      );
      // Not locked here: the caller takes their customers' locks first, as every path does,
      // and `markAcceptedAfterAll` locks each row and checks it again.
      return rows.map((row) => toMessage(row));
    },
    async markAcceptedAfterAll(id, providerId, recipient, sentAtMs, nowMs) {
      const [row] = await sql.all<{
        status: string;
        body: string;
        attempts: number;
        customer_id: CustomerId;
      }>(
        `SELECT status, body, attempts, customer_id FROM messages WHERE id = ?${pg ? ' FOR UPDATE' : ''}`,
        [id],
      );
      // Filed failed because its last attempt gave up waiting, or refused at a retry's hand-off
      // after an attempt: the provider had it after all.
      const body = row === undefined ? null : (JSON.parse(row.body) as Record<string, unknown>);
      const gaveUp =
        (row?.status === 'failed' && body?.['reasonCode'] === 'retries_exhausted') ||
        (row?.status === 'blocked' && row.attempts > 0);
      if (gaveUp && body !== null) {
        body['reasonCode'] = null;
        body['lastError'] = null;
      }
      const changed = await sql.run(
        // Back in the outbox after an attempt, claimed by a dispatcher that died (its lease ran
        // out), or given up on — not one a live dispatcher is sending now.
        `UPDATE messages SET status = 'sent', provider_id = COALESCE(provider_id, ?),
           recipient = COALESCE(recipient, ?), sent_at_ms = ?, updated_at_ms = ?,
           lease_until_ms = NULL, body = COALESCE(?, body)
         WHERE id = ? AND ((status = 'queued' AND attempts > 0)
           OR (status = 'sending' AND lease_until_ms <= ?)
           OR (status IN ('failed', 'blocked') AND ? = 1))`,
        [
          storableProviderId(providerId),
          recipient,
          sentAtMs,
          nowMs,
          gaveUp ? JSON.stringify(body) : null,
          id,
          nowMs,
          gaveUp ? 1 : 0,
        ],
      );
      if (changed === 1 && row !== undefined) {
        await exposeUnits(id, sentAtMs);
        return row.customer_id;
      }
      // Being sent by a live dispatcher now (a slow answer, whose report came first): the
      // acceptance is kept on the row (`sent_at_ms`, which a message being sent has not),
      // for that attempt's outcome to be `sent` if it gives up (DispatchIo.finish).
      await sql.run(
        `UPDATE messages SET sent_at_ms = COALESCE(sent_at_ms, ?),
           provider_id = COALESCE(provider_id, ?), updated_at_ms = ?
         WHERE id = ? AND status = 'sending' AND lease_until_ms > ?`,
        [sentAtMs, storableProviderId(providerId), nowMs, id, nowMs],
      );
      return null;
    },
    async takeTokens(provider, want, perSecond, burst, nowMs) {
      if (want === 0) return 0;
      await sql.run(
        `INSERT INTO rate_buckets (provider, tokens, updated_at_ms) VALUES (?, ?, ?)
         ON CONFLICT (provider) DO NOTHING`,
        [provider, burst, nowMs],
      );
      const [bucket] = await sql.all<{ tokens: number; updated_at_ms: number }>(
        `SELECT tokens, updated_at_ms FROM rate_buckets WHERE provider = ?${pg ? ' FOR UPDATE' : ''}`,
        [provider],
      );
      if (bucket === undefined) return 0;
      const refilled = Math.min(
        burst,
        bucket.tokens + (Math.max(0, nowMs - bucket.updated_at_ms) / 1000) * perSecond,
      );
      // A negative `want` gives tokens back (taken from one bucket, refused by another).
      const taken = want < 0 ? want : Math.max(0, Math.min(want, Math.floor(refilled)));
      await sql.run('UPDATE rate_buckets SET tokens = ?, updated_at_ms = ? WHERE provider = ?', [
        Math.min(burst, refilled - taken),
        Math.max(nowMs, bucket.updated_at_ms),
        provider,
      ]);
      return taken;
    },
    async capture(row) {
      return (
        (await sql.run(
          // Only for a message that is still there: one erased while it was being sent leaves
          // no copy of its address and content behind. On PostgreSQL the row is locked as it is
          // read, so a capture waits for an erasure that has deleted it but not yet committed
          // (read without the lock, the row still showed, and the copy outlived the erasure).
          `INSERT INTO captured (message_id, channel, recipient, payload, captured_at_ms)
           SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?${pg ? ' FOR KEY SHARE' : ''})
           ON CONFLICT (message_id) DO NOTHING`,
          [row.messageId, row.channel, row.recipient, row.payload, row.atMs, row.messageId],
        )) === 1
      );
    },
    async sentMessagesOf(customerIds, sinceMs, untilMs) {
      const query = `SELECT * FROM messages WHERE customer_id ${ofCustomers}
          AND sent_at_ms >= ? AND sent_at_ms <= ? AND status IN ('sent', 'complained')
        ORDER BY sent_at_ms, id`;
      const rows = await allOfCustomers<MessagesTable>(query, [...new Set(customerIds)], (c) => [
        c,
        sinceMs,
        untilMs,
      ]);
      return groupByCustomer(rows.map(toMessage));
    },
    async insertConversion(c) {
      return (
        (await sql.run(
          `INSERT INTO conversions (order_id, customer_id, decision_id, revenue_cents, at_ms, touches)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING`,
          [
            c.orderId,
            c.customerId,
            c.decisionId,
            c.revenueCents,
            c.atMs,
            JSON.stringify(c.touches),
          ],
        )) === 1
      );
    },
    async removeConversions(orderIds) {
      const rows = await lookUpAll(orderIds, (chunk, marks) =>
        sql.all<{
          order_id: string;
          customer_id: string;
          decision_id: string;
          revenue_cents: number | string;
        }>(
          `DELETE FROM conversions WHERE order_id IN (${marks})
           RETURNING order_id, customer_id, decision_id, revenue_cents`,
          chunk,
        ),
      );
      return rows.map((r) => ({
        orderId: r.order_id,
        customerId: r.customer_id as CustomerId,
        decisionId: r.decision_id,
        revenueCents: Number(r.revenue_cents),
      }));
    },
    async removeConversionsOf(decisionId) {
      const rows = await sql.all<{
        order_id: string;
        customer_id: string;
        decision_id: string;
        revenue_cents: number | string;
        at_ms: number | string;
        touches: string;
      }>(
        `DELETE FROM conversions WHERE decision_id = ?
         RETURNING order_id, customer_id, decision_id, revenue_cents, at_ms, touches`,
        [decisionId],
      );
      return rows.map((r) => ({
        orderId: r.order_id,
        customerId: r.customer_id as CustomerId,
        decisionId: r.decision_id,
        revenueCents: Number(r.revenue_cents),
        atMs: Number(r.at_ms),
        touches: JSON.parse(r.touches) as Conversion['touches'],
      }));
    },
    async markOrdersCancelled(customerId, orderIds) {
      let marked = 0;
      await lookUpAll(orderIds, async (chunk, marks) => {
        marked += await sql.run(
          `UPDATE orders SET cancelled = 1
           WHERE customer_id = ? AND order_id IN (${marks}) AND cancelled = 0`,
          [customerId, ...chunk],
        );
        return [];
      });
      return marked;
    },
    async findIdempotent(key) {
      const [row] = await sql.all<{ request_hash: string; response: string }>(
        'SELECT request_hash, response FROM idempotency WHERE key = ?',
        [key],
      );
      return row === undefined ? null : { requestHash: row.request_hash, response: row.response };
    },
    async saveIdempotent(key, customerId, requestHash, response, nowMs) {
      await sql.run(
        `INSERT INTO idempotency (key, customer_id, request_hash, response, created_at_ms)
           VALUES (?, ?, ?, ?, ?)`,
        [key, customerId, requestHash, response, nowMs],
      );
    },
  };
};
