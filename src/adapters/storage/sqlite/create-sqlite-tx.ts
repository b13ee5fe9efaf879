import type BetterSqlite3 from 'better-sqlite3';
import type { CustomerId } from '../../../core/ids.js';
import { eventBodyJson, type StoredEvent } from '../../../core/event.js';
import type { ProfileState } from '../../../core/profile.js';
import type { IdentityKey, IngestTx, ProfileRow, StoreTx } from '../../../ports/store.js';
import type { DecideTx } from '../../../ports/decide-store.js';
import type { RecordTx } from '../../../ports/record-store.js';
import type { ExperimentTx } from '../../../ports/experiment-store.js';
import type { ProfileWriteBehind } from './profile-write-behind.js';
import type { RecentMessages } from './recent-messages.js';
import type { SqliteStatements } from './sqlite-statements.js';

/**
 * The transaction primitives over prepared statements. Profile changes are staged and reach the
 * write-behind only through `commit()`, so a rolled-back batch leaves nothing in memory.
 */
export const createSqliteTx = (
  s: SqliteStatements,
  /** The decide and record primitives, stateless: one object, the prototype of every tx. */
  shared: DecideTx & RecordTx & ExperimentTx,
  recent: RecentMessages,
  profiles: ProfileWriteBehind,
  eventsOf: (ids: readonly CustomerId[]) => Map<CustomerId, StoredEvent[]>,
  /** Called before reading or changing one customer's events: builds a deferred index. */
  needCustomerIndex: () => void = () => undefined,
): StoreTx & { commit(): void } => {
  const staged = new Map<CustomerId, ProfileRow | null>();
  const left: CustomerId[] = [];
  let maxSeq = 0;
  const isStored = (seq: number, sourceId: string, messageId: string): boolean => {
    const row = s.messageAt.get(seq) as { source_id: string; message_id: string } | undefined;
    return row !== undefined && row.source_id === sourceId && row.message_id === messageId;
  };
  /** The customer a one-column lookup (`findLink`, `orderOwner`) gives each key that has one. */
  const customerOf = <K extends string>(statement: BetterSqlite3.Statement, keys: readonly K[]) => {
    const found = new Map<K, CustomerId>();
    for (const key of keys) {
      const row = statement.get(key) as { customer_id: CustomerId } | undefined;
      if (row !== undefined) found.set(key, row.customer_id);
    }
    return Promise.resolve(found);
  };
  // The shared primitives come through the prototype: copying them into every transaction
  // object cost more than some transactions' work.
  const own: Required<IngestTx> &
    Pick<RecordTx, 'eraseCustomer' | 'identifyTraitsOf'> & { commit(): void } = {
    async eraseCustomer(id) {
      needCustomerIndex();
      // A profile still waiting to be written has no row to delete, and is erased all the same.
      const waiting = (staged.has(id) ? staged.get(id) : profiles.get(id)) ?? null;
      const counts = await shared.eraseCustomer(id);
      staged.set(id, null);
      return waiting !== null && counts.profiles === 0 ? { ...counts, profiles: 1 } : counts;
    },
    commit() {
      profiles.commit(staged, maxSeq);
      // A customer this transaction deleted (merged away, erased) is gone, never behind; the
      // recorder leaves no such customer behind, and this keeps it so whoever asks.
      profiles.leaveBehind(left.filter((id) => staged.get(id) !== null));
    },
    leaveBehind(ids) {
      for (const id of ids) left.push(id);
    },
    lock: () => Promise.resolve(),
    findLinks: (keys) => customerOf<IdentityKey>(s.findLink, keys),
    addLinks(links) {
      for (const l of links) s.addLink.run(l.key, l.customerId, l.linkedAtMs);
      return Promise.resolve();
    },
    insertEvents(events) {
      return Promise.resolve(
        events.map((e) => {
          if (recent.anyRow(e.sourceId, e.messageId, isStored)) return false;
          const info = s.insertEvent.run(
            e.sourceId,
            e.messageId,
            e.customerId,
            e.type,
            e.name,
            e.userId,
            e.anonymousId,
            e.timestampMs,
            e.receivedAtMs,
            eventBodyJson(e),
          );
          const seq = Number(info.lastInsertRowid);
          maxSeq = Math.max(maxSeq, seq);
          recent.remember(e.sourceId, e.messageId, seq);
          return true;
        }),
      );
    },
    storedAlready(events) {
      return Promise.resolve(events.map((e) => recent.anyRow(e.sourceId, e.messageId, isStored)));
    },
    insertOrders(orders) {
      return Promise.resolve(
        orders.map(
          (o) =>
            s.insertOrder.run(o.orderId, o.customerId, o.placedAtMs, o.totalCents).changes === 1,
        ),
      );
    },
    lastEventSeq() {
      return Promise.resolve((s.maxSeq.get() as { seq: number | null }).seq ?? 0);
    },
    orderOwners: (orderIds) => customerOf(s.orderOwner, orderIds),
    loadProfiles(ids) {
      const found = new Map<CustomerId, ProfileState>();
      for (const id of ids) {
        const known = staged.has(id) ? staged.get(id) : profiles.get(id);
        if (known === null) continue;
        if (known !== undefined) {
          found.set(id, known.state);
          continue;
        }
        const row = s.loadProfile.get(id) as { state: string } | undefined;
        if (row !== undefined) found.set(id, JSON.parse(row.state) as ProfileState);
      }
      return Promise.resolve(found);
    },
    presentCustomers(ids) {
      const found = new Set<CustomerId>();
      for (const id of ids) {
        const known = staged.has(id) ? staged.get(id) : profiles.get(id);
        if (known === null) continue;
        if (known !== undefined || s.hasProfile.get(id) !== undefined) found.add(id);
      }
      return Promise.resolve(found);
    },
    saveProfiles(rows) {
      for (const row of rows) staged.set(row.customerId, row);
      return Promise.resolve();
    },
    mergeCustomer(from, to) {
      needCustomerIndex();
      const moved = s.moveEvents.run(to, from).changes;
      s.moveOrders.run(to, from);
      s.moveLinks.run(to, from);
      // The row goes in this transaction: no event of `from` is left to mark it behind after
      // a crash, so a deletion only held in memory could be lost.
      s.deleteProfile.run(from);
      staged.set(from, null);
      return Promise.resolve(moved > 0);
    },
    loadEventsOf(ids) {
      needCustomerIndex();
      return Promise.resolve(eventsOf(ids));
    },
    identifyTraitsOf(ids) {
      needCustomerIndex();
      return shared.identifyTraitsOf(ids);
    },
  };
  return Object.assign(Object.create(shared) as DecideTx & RecordTx & ExperimentTx, own);
};
