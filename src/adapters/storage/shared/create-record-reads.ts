import { sql, type Kysely } from 'kysely';
import type { Channel } from '../../../core/profile.js';
import type { CustomerId } from '../../../core/ids.js';
import type { Conversion, RecordReads } from '../../../ports/record-store.js';
import { toAuditEntry, toMessage } from './record-rows.js';
import type { Database } from './tables.js';

/** The record stage's read queries, written once in Kysely for both dialects. */
export const createRecordReads = (db: Kysely<Database>): RecordReads => ({
  async listMessages(query) {
    let q = db.selectFrom('messages').selectAll().orderBy('id', 'desc').limit(query.limit);
    if (query.customerId !== undefined) q = q.where('customer_id', '=', query.customerId);
    if (query.campaignId !== undefined) q = q.where('campaign_id', '=', query.campaignId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    // Message ids are the decisions' UUIDv7 ids: they sort by creation.
    if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
    return (await q.execute()).map(toMessage);
  },
  async getMessage(id) {
    const row = await db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toMessage(row);
  },
  async scanAudit(afterSeq, limit) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toAuditEntry);
  },
  async lastAuditSeq() {
    const row = await db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.max('seq').as('last'))
      .executeTakeFirst();
    return row?.last ?? 0;
  },
  async auditOf(subjects) {
    if (subjects.length === 0) return [];
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('subject', 'in', subjects)
      // The chain's entries only: one numbered below its first is none of them.
      .where('seq', '>=', 1)
      .orderBy('seq')
      .execute();
    return rows.map(toAuditEntry);
  },
  async pseudonymsOfCustomer(id) {
    const rows = await db
      .selectFrom('pseudonyms')
      .select('pseudonym')
      .where('customer_id', '=', id)
      .orderBy('created_at_ms')
      .orderBy('pseudonym')
      .execute();
    return rows.map((r) => r.pseudonym);
  },
  async reviewCounts() {
    const rows = await db
      .selectFrom('audit_log')
      .select(['data'])
      .where('kind', '=', 'review')
      .where('seq', '>=', 1)
      .execute();
    const counts: Record<string, number> = {};
    for (const row of rows) {
      const data = JSON.parse(row.data) as { action?: string; status?: string };
      // An approval the re-check blocked or held out let nothing through: not an override.
      const action =
        data.action !== undefined &&
        data.action.endsWith('approve') &&
        (data.status === 'blocked' || data.status === 'held-out')
          ? 'approve-blocked'
          : (data.action ?? 'unknown');
      counts[action] = (counts[action] ?? 0) + 1;
    }
    return counts;
  },
  async messageByProviderId(providerId) {
    const row = await db
      .selectFrom('messages')
      .selectAll()
      .where('provider_id', '=', providerId)
      .executeTakeFirst();
    return row === undefined ? undefined : toMessage(row);
  },
  async latestMessagesTo(recipient, channel) {
    // Each customer's newest message to the address, newest first: what was sent, or attempted
    // (a timeout the provider may have taken all the same; a retried row has no send time, so it
    // is ordered by its attempt's write-back). Every customer texted there is found, however many
    // messages another had since; only ids and times are ranked, bodies read for the rows kept.
    const { rows } = await sql<Database['messages']>`
      SELECT m.* FROM messages m
      JOIN (
        SELECT id, ROW_NUMBER() OVER (
          PARTITION BY customer_id ORDER BY coalesce(sent_at_ms, updated_at_ms) DESC, id DESC
        ) AS newest
        FROM messages
        WHERE recipient = ${recipient} AND channel = ${channel}
          AND (sent_at_ms IS NOT NULL OR attempts > 0)
      ) latest ON latest.id = m.id AND latest.newest = 1
      ORDER BY coalesce(m.sent_at_ms, m.updated_at_ms) DESC, m.id DESC`.execute(db);
    return rows.map((row) => toMessage(row));
  },
  async ordersOfCustomer(customerId) {
    const rows = await db
      .selectFrom('orders')
      .selectAll()
      .where('customer_id', '=', customerId)
      .orderBy('placed_at_ms')
      .orderBy('order_id')
      .execute();
    return rows.map((row) => ({
      orderId: row.order_id,
      placedAtMs: row.placed_at_ms,
      totalCents: row.total_cents,
      cancelled: row.cancelled !== 0,
    }));
  },
  async idempotentAnswersOf(customerId) {
    const rows = await db
      .selectFrom('idempotency')
      .select(['key', 'response', 'created_at_ms'])
      .where('customer_id', '=', customerId)
      .orderBy('created_at_ms')
      .orderBy('key')
      .execute();
    return rows.map((row) => ({
      key: row.key,
      response: row.response,
      createdAtMs: row.created_at_ms,
    }));
  },
  async customersMessagedAt(recipients) {
    if (recipients.length === 0) return [];
    const rows = await db
      .selectFrom('messages')
      .select('customer_id')
      .distinct()
      .where((eb) => eb(eb.fn('lower', ['recipient']), 'in', [...recipients]))
      .execute();
    return rows.map((r) => r.customer_id as CustomerId);
  },
  async customersIdentifiedWith(texts, digits = []) {
    const runs = digits.filter((d) => /^\d+$/.test(d));
    if (texts.length === 0 && runs.length === 0) return [];
    // LIKE's own characters escaped: an address's `_` is a letter here, not a wildcard.
    const patterns = texts.map((t) => `%${t.replace(/[\\%_]/g, '\\$&')}%`);
    // A number as people write it: `+33 6 12 34 56 78` holds no `5678` until the spaces go.
    let written = sql`body`;
    for (const separator of [' ', '-', '.', '(', ')', '/', '\u00a0'])
      written = sql`replace(${written}, ${separator}, '')`;
    const rows = await db
      .selectFrom('events')
      .select('customer_id')
      .distinct()
      .where('type', '=', 'identify')
      .where((eb) =>
        eb.or([
          ...patterns.map((p) => sql<boolean>`lower(body) like ${p} escape '\\'`),
          ...runs.map((d) => sql<boolean>`${written} like ${`%${d}%`}`),
        ]),
      )
      .execute();
    return rows.map((r) => r.customer_id as CustomerId);
  },
  async capturedMessage(messageId) {
    const row = await db
      .selectFrom('captured')
      .selectAll()
      .where('message_id', '=', messageId)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : {
          channel: row.channel as Channel,
          recipient: row.recipient,
          payload: row.payload,
          atMs: row.captured_at_ms,
        };
  },
  async listConversions(query) {
    const read = async (ids: readonly string[] | undefined) => {
      let q = db.selectFrom('conversions').selectAll().orderBy('at_ms', 'desc').limit(query.limit);
      if (query.decisionId !== undefined) q = q.where('decision_id', '=', query.decisionId);
      if (ids !== undefined) q = q.where('decision_id', 'in', ids);
      if (query.customerId !== undefined) q = q.where('customer_id', '=', query.customerId);
      return q.execute();
    };
    const rows =
      query.decisionIds === undefined
        ? await read(undefined)
        : // Bound parameter lists, whatever the number of decisions.
          (
            await Promise.all(
              Array.from({ length: Math.ceil(query.decisionIds.length / 500) }, (_, i) =>
                read(query.decisionIds?.slice(i * 500, i * 500 + 500)),
              ),
            )
          ).flat();
    return rows.map((row) => ({
      orderId: row.order_id,
      customerId: row.customer_id as CustomerId,
      decisionId: row.decision_id,
      revenueCents: row.revenue_cents,
      atMs: row.at_ms,
      touches: JSON.parse(row.touches) as Conversion['touches'],
    }));
  },
  async webContent(customerId, slot, sinceMs) {
    const rows = await db
      .selectFrom('messages')
      .selectAll()
      .where('customer_id', '=', customerId)
      .where('channel', '=', 'web')
      .where('status', '=', 'sent')
      .where('send_at_ms', '>=', sinceMs)
      .orderBy('send_at_ms', 'desc')
      .orderBy('id', 'desc')
      .execute();
    // The slot is in the message's body: every web message of the window is read (a customer's
    // web content of 30 days), not the latest few of every slot.
    return rows.map(toMessage).filter((m) => m.web?.slot === slot);
  },
  async automatedMarketingSent(fromMs, toMs) {
    const row = await db
      .selectFrom('messages as m')
      .innerJoin('decisions as d', 'd.id', 'm.id')
      .select((eb) => eb.fn.countAll<number | string>().as('sent'))
      .where('m.sent_at_ms', '>=', fromMs)
      .where('m.sent_at_ms', '<', toMs)
      .where('m.created_at_ms', '>=', fromMs)
      .where('m.class', '=', 'marketing')
      .where('d.agent', '<>', 'api')
      .executeTakeFirst();
    // PostgreSQL counts in bigint, which node-postgres reads as a string.
    return Number(row?.sent ?? 0);
  },
});
