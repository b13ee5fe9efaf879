import type { Kysely } from 'kysely';
import type { CustomerId } from '../../../core/ids.js';
import type { StoredEvent } from '../../../core/event.js';
import type { EventCursor, Store } from '../../../ports/store.js';
import { toStoredProfile, toStoredEvent, type Database } from './tables.js';

type Reads = Pick<
  Store,
  | 'resolveUserId'
  | 'resolveAnonymousId'
  | 'getProfile'
  | 'listEvents'
  | 'eventsOfCustomer'
  | 'listCustomerIds'
  | 'counts'
  | 'scanEvents'
>;

/**
 * Events by time, then arrival, after a cursor: every customer's (a scan) or one customer's
 * (through its index on customer and time).
 */
const eventsInOrder = async (
  db: Kysely<Database>,
  after: EventCursor | null,
  limit: number,
  customerId: CustomerId | null,
): Promise<StoredEvent[]> => {
  let query = db
    .selectFrom('events')
    .selectAll()
    .orderBy('timestamp_ms')
    .orderBy('seq')
    .limit(limit);
  if (customerId !== null) query = query.where('customer_id', '=', customerId);
  if (after !== null)
    query = query.where((eb) =>
      eb.or([
        eb('timestamp_ms', '>', after.timestampMs),
        eb.and([eb('timestamp_ms', '=', after.timestampMs), eb('seq', '>', after.seq)]),
      ]),
    );
  return (await query.execute()).map(toStoredEvent);
};

/** The read queries, written once in Kysely for both dialects. */
export const createReads = (db: Kysely<Database>): Reads => ({
  async resolveUserId(userId) {
    const link = await db
      .selectFrom('identities')
      .select('customer_id')
      .where('key', '=', `u:${userId}`)
      .executeTakeFirst();
    if (link !== undefined) return link.customer_id as CustomerId;
    const profile = await db
      .selectFrom('profiles')
      .select('customer_id')
      .where('customer_id', '=', userId)
      .executeTakeFirst();
    return profile?.customer_id as CustomerId | undefined;
  },
  async resolveAnonymousId(anonymousId) {
    const link = await db
      .selectFrom('identities')
      .select('customer_id')
      .where('key', '=', `a:${anonymousId}`)
      .executeTakeFirst();
    return link?.customer_id as CustomerId | undefined;
  },
  async getProfile(id) {
    const row = await db
      .selectFrom('profiles')
      .select(['customer_id', 'state'])
      .where('customer_id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : toStoredProfile(row);
  },
  async listEvents(id, limit) {
    const rows = await db
      .selectFrom('events')
      .selectAll()
      .where('customer_id', '=', id)
      .orderBy('timestamp_ms', 'desc')
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toStoredEvent);
  },
  eventsOfCustomer: (id, after, limit) => eventsInOrder(db, after, limit, id),
  scanEvents: (after, limit) => eventsInOrder(db, after, limit, null),
  async listCustomerIds(afterId, limit) {
    let query = db.selectFrom('profiles').select('customer_id').orderBy('customer_id').limit(limit);
    if (afterId !== null) query = query.where('customer_id', '>', afterId);
    const rows = await query.execute();
    return rows.map((r) => r.customer_id as CustomerId);
  },
  async counts() {
    const events = await db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const profiles = await db
      .selectFrom('profiles')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return { events: events.n, profiles: profiles.n };
  },
});
