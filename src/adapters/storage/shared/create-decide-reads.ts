import type { Kysely } from 'kysely';
import type { DecideReads } from '../../../ports/decide-store.js';
import { toDecision, toMembership, toWorkRecord } from './decide-rows.js';
import type { Database } from './tables.js';

/** The decide stage's read queries, written once in Kysely for both dialects. */
export const createDecideReads = (db: Kysely<Database>): DecideReads => ({
  async listDecisions(query) {
    let q = db
      .selectFrom('decisions')
      .select(['status', 'body', 'customer_id'])
      .orderBy('created_at_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit);
    if (query.customerId !== undefined) q = q.where('customer_id', '=', query.customerId);
    if (query.agent !== undefined) q = q.where('agent', '=', query.agent);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    const before = query.before;
    if (before !== undefined)
      q = q.where((eb) =>
        eb.or([
          eb('created_at_ms', '<', before.createdAtMs),
          eb.and([eb('created_at_ms', '=', before.createdAtMs), eb('id', '<', before.id)]),
        ]),
      );
    return (await q.execute()).map(toDecision);
  },
  async getDecision(id) {
    const row = await db
      .selectFrom('decisions')
      .select(['status', 'body', 'customer_id'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toDecision(row);
  },
  async listWork(customerId, limit) {
    const rows = await db
      .selectFrom('work')
      .selectAll()
      .where('customer_id', '=', customerId)
      .orderBy('due_at_ms', 'desc')
      // Work due together (a campaign's and an event's) in one order on both databases.
      .orderBy('key', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toWorkRecord);
  },
  async listMemberships(customerId) {
    const rows = await db
      .selectFrom('memberships')
      .selectAll()
      .where('customer_id', '=', customerId)
      .orderBy('journey_id')
      .execute();
    return rows.map(toMembership);
  },
  async nextDueAtMs() {
    const row = await db
      .selectFrom('work')
      .select((eb) => eb.fn.min<number>('due_at_ms').as('due'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return row?.due ?? null;
  },
  async loadJourneyVersions() {
    const rows = await db.selectFrom('journey_versions').selectAll().execute();
    return rows.map((r) => ({
      journeyId: r.journey_id,
      version: r.version,
      hash: r.hash,
      definition: JSON.parse(r.definition) as unknown,
      createdAtMs: r.created_at_ms,
    }));
  },
  async saveJourneyVersion(row) {
    await db
      .insertInto('journey_versions')
      .values({
        journey_id: row.journeyId,
        version: row.version,
        hash: row.hash,
        definition: JSON.stringify(row.definition),
        created_at_ms: row.createdAtMs,
      })
      .onConflict((oc) => oc.columns(['journey_id', 'version']).doNothing())
      .execute();
  },
});
