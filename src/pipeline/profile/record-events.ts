import type { HeraldEvent, StoredEvent } from '../../core/event.js';
import { HERALD_SOURCE } from '../../core/event-names.js';
import { groupByCustomer } from '../../core/group-by-customer.js';
import type { CustomerId } from '../../core/ids.js';
import type { LiveChurnModel, ProfileChange, ProfileState } from '../../core/profile.js';
import type {
  CustomerHistory,
  EventDraft,
  IngestTx,
  OrderDraft,
  ProfileRow,
  Store,
  StoreTx,
} from '../../ports/store.js';
import { applyEvent, emptyProfile, orderIdIn, type EventFacts } from './apply-event.js';
import { orderValueIn, type Money } from '../../core/read-props.js';
import { deriveComputed } from './derive-computed.js';
import type { ProfilePolicy } from './policy.js';
import { identityKeysOf, resolveIdentities, type IdentityPlan } from './resolve-identities.js';

export interface RecordOutcome {
  /** Events stored for the first time. */
  stored: number;
  /** Events whose messageId was already stored (a retry); not counted again. */
  duplicates: number;
  /** Profiles written. */
  profiles: number;
  /** Per event, in the order given: stored for the first time (not a retry). */
  isNew: boolean[];
}

/**
 * The prefix of the id Herald gives an `Order Completed` that names none. A shop's own ids
 * could in principle begin with it too; one that did, and also named the same source and
 * messageId after it, would be taken for the unnamed order (docs/profiles.md).
 */
const UNNAMED_ORDER_PREFIX = 'herald-unnamed-order:';

/**
 * The id of an order that names none, from its event's identity (source and messageId, which
 * events are de-duplicated by): a re-sent copy of the event is the same order, and every
 * recording, import and replay of the event gives it the same id. The source is URI-encoded so
 * the colon before the messageId is the first one.
 */
export const unnamedOrderId = (event: Pick<HeraldEvent, 'sourceId' | 'messageId'>): string =>
  `${UNNAMED_ORDER_PREFIX}${encodeURIComponent(event.sourceId)}:${event.messageId}`;

/**
 * The order id of an `Order Completed` (`order_id`, `orderId` or `checkout_id`); null for any
 * other event. One that names none is counted by the profile all the same (docs/profiles.md), so
 * it gets an id of its own (`unnamedOrderId`) and reaches the orders table, attribution and
 * experiments like any other; no cancellation or refund can name it.
 */
export const orderIdOf = (event: HeraldEvent): string | null =>
  event.type === 'track' && event.name === 'Order Completed'
    ? (orderIdIn(event.properties) ?? unnamedOrderId(event))
    : null;

/** The order id an `Order Cancelled` names, or null. */
const cancelledOrderIdOf = (event: HeraldEvent): string | null =>
  event.type === 'track' && event.name === 'Order Cancelled' ? orderIdIn(event.properties) : null;

/** The order id an `Order Refunded` names, or null. */
const refundedOrderIdOf = (event: HeraldEvent): string | null =>
  event.type === 'track' && event.name === 'Order Refunded' ? orderIdIn(event.properties) : null;

/**
 * What `applyEvent` is told of an event's order: `{ repeatOrder }` alone for every event but a
 * cancellation (whether its order was placed) and a refund (whose order it names, once placed:
 * `refundOwner`) — built without spreads, once per event of every batch and replay.
 */
const orderFacts = (
  repeatOrder: boolean,
  cancelsPlacedOrder: boolean | undefined,
  refundOwner: CustomerId | undefined,
  customerId: CustomerId,
): EventFacts => {
  if (cancelsPlacedOrder === undefined && refundOwner === undefined) return { repeatOrder };
  const facts: EventFacts = { repeatOrder };
  if (cancelsPlacedOrder !== undefined) facts.cancelsPlacedOrder = cancelsPlacedOrder;
  if (refundOwner !== undefined)
    facts.refundsOrderOf = refundOwner === customerId ? 'self' : 'other';
  return facts;
};

/**
 * For each order id `idOf` reads in the events, the arrival (`seq`) of the first to arrive.
 * Of orders: the record that counts, as when the events were recorded live (and as the orders
 * table holds it) — not the earliest in time, which a backfill re-sending an order with another
 * time and total would be. Empty for events without arrival numbers (then time order stands).
 */
const firstArrivals = (
  events: readonly HeraldEvent[],
  idOf: (event: HeraldEvent) => string | null,
): Map<string, number> => {
  const first = new Map<string, number>();
  for (const event of events) {
    const id = idOf(event);
    const seq = (event as Partial<StoredEvent>).seq;
    if (id === null || seq === undefined) continue;
    const known = first.get(id);
    if (known === undefined || seq < known) first.set(id, seq);
  }
  return first;
};

/**
 * Replays a customer's whole history from nothing; the first record of an order id to arrive
 * counts, unless `orderOwners` says the order is another customer's (who sent that id first).
 */
export const replayHistory = (
  customerId: CustomerId,
  events: readonly HeraldEvent[],
  policy: ProfilePolicy,
  orderOwners?: ReadonlyMap<string, CustomerId>,
): ProfileState | null => {
  const first = events[0];
  if (first === undefined) return null;
  const countedSeq = firstArrivals(events, orderIdOf);
  const seenOrders = new Set<string>();
  // The orders this customer placed so far: a cancellation takes back only one of those.
  const ownOrders = new Set<string>();
  let state = emptyProfile(customerId, first.timestampMs);
  // Cancellations stamped before their order but sent after it: live, each took back an order
  // already placed (its first-order milestone reached, the order kept as cancelled); replayed in
  // time order it came first and the order never counted, and the next order was a "first" one
  // again. Each waits for its order, and is applied right after it, as it arrived.
  const waiting = new Map<string, HeraldEvent[]>();
  // And the other way round: an order sent after its cancellation (stamped before it) never
  // counted live — the cancellation came first and took back nothing — so it waits for it.
  const firstCancelSeq = firstArrivals(events, cancelledOrderIdOf);
  const heldOrders = new Map<string, HeraldEvent>();
  const cancelled = new Set<string>();
  const apply = (
    event: HeraldEvent,
    repeatOrder: boolean,
    cancels: string | null,
    refunds: string | null,
  ) => {
    // A refund's order: theirs once placed in the replay so far (not yet: still to come),
    // another's by the table.
    const tableOwner = refunds === null ? undefined : orderOwners?.get(refunds);
    const refundOwner =
      refunds !== null && ownOrders.has(refunds)
        ? customerId
        : tableOwner === customerId
          ? undefined
          : tableOwner;
    state = applyEvent(
      state,
      event,
      orderFacts(
        repeatOrder,
        cancels === null ? undefined : ownOrders.has(cancels),
        refundOwner,
        customerId,
      ),
      policy,
    );
  };
  for (const event of events) {
    const orderId = orderIdOf(event);
    const owner = orderId === null ? undefined : orderOwners?.get(orderId);
    const theirs = owner === undefined || owner === customerId;
    const counted = orderId === null ? undefined : countedSeq.get(orderId);
    const repeatOrder =
      orderId !== null &&
      (!theirs ||
        (counted === undefined
          ? seenOrders.has(orderId)
          : (event as Partial<StoredEvent>).seq !== counted));
    if (orderId !== null) seenOrders.add(orderId);
    const seq = (event as Partial<StoredEvent>).seq;
    const cancelSeq = orderId === null ? undefined : firstCancelSeq.get(orderId);
    if (
      orderId !== null &&
      theirs &&
      !repeatOrder &&
      !cancelled.has(orderId) &&
      seq !== undefined &&
      cancelSeq !== undefined &&
      cancelSeq < seq
    ) {
      heldOrders.set(orderId, event);
      continue;
    }
    // Placed by the record that counts, not by a re-sent copy (which changes nothing).
    if (orderId !== null && theirs && !repeatOrder) ownOrders.add(orderId);
    const cancels = cancelledOrderIdOf(event);
    const orderSeq = cancels === null ? undefined : countedSeq.get(cancels);
    const orderOwner = cancels === null ? undefined : orderOwners?.get(cancels);
    if (
      cancels !== null &&
      !ownOrders.has(cancels) &&
      seq !== undefined &&
      orderSeq !== undefined &&
      orderSeq < seq &&
      (orderOwner === undefined || orderOwner === customerId)
    ) {
      const held = waiting.get(cancels);
      if (held === undefined) waiting.set(cancels, [event]);
      else held.push(event);
      continue;
    }
    apply(event, repeatOrder, cancels, refundedOrderIdOf(event));
    const held = orderId === null || repeatOrder ? undefined : waiting.get(orderId);
    if (held !== undefined) {
      waiting.delete(orderId ?? '');
      for (const cancel of held) apply(cancel, false, cancelledOrderIdOf(cancel), null);
    }
    if (cancels !== null) {
      cancelled.add(cancels);
      const order = heldOrders.get(cancels);
      if (order !== undefined) {
        heldOrders.delete(cancels);
        ownOrders.add(cancels);
        apply(order, false, null, null);
      }
    }
  }
  // Orders that never counted here (a re-sent copy was the one kept): their cancellations go
  // last, as taking back nothing placed.
  for (const held of waiting.values())
    for (const cancel of held) apply(cancel, false, cancelledOrderIdOf(cancel), null);
  for (const [orderId, order] of heldOrders) {
    ownOrders.add(orderId);
    apply(order, false, null, null);
  }
  return state;
};

/**
 * Customers whose whole histories are read at once: a read per group keeps the statements few,
 * and the group bounds the memory a few very long histories (a bot's) can take together.
 */
const HISTORY_GROUP = 64;

/**
 * Hands `visit` each customer's events in time order, with the customer each order id in them
 * belongs to (for `replayHistory`), a group at a time: read from `known` where the caller has
 * them already (a scan, `Store.scanHistories`), else from the store.
 */
export const forEachHistory = async (
  tx: IngestTx,
  ids: readonly CustomerId[],
  visit: (
    customerId: CustomerId,
    history: readonly StoredEvent[],
    orderOwners: ReadonlyMap<string, CustomerId>,
  ) => void,
  known?: ReadonlyMap<CustomerId, StoredEvent[]>,
): Promise<void> => {
  for (let i = 0; i < ids.length; i += HISTORY_GROUP) {
    const group = ids.slice(i, i + HISTORY_GROUP);
    const histories =
      known === undefined
        ? await tx.loadEventsOf(group)
        : new Map(group.map((id) => [id, known.get(id) ?? []]));
    const orderIds: string[] = [];
    for (const history of histories.values())
      for (const event of history) {
        // The orders they place, and those their refunds name (another customer's, maybe).
        const orderId = orderIdOf(event) ?? refundedOrderIdOf(event);
        if (orderId !== null) orderIds.push(orderId);
      }
    const owners = await tx.orderOwners(orderIds);
    for (const customerId of group) visit(customerId, histories.get(customerId) ?? [], owners);
  }
};

/**
 * Gives the push tokens these profiles gained or saw again (against `before`, where the profile
 * was updated rather than rebuilt) to them, in the transaction that saves them: a token belongs
 * to the customer whose events carried it most recently (`device_tokens`), so a token signed in
 * as another customer since is not pushed to as this one (docs/deliver.md, "Push"). A profile
 * in `rebuilt` claims its devices again from its events: as a replay, which takes no token from
 * a customer who claimed it at the same time (before 2026-12-07 a merge into the first of two
 * same-second users of a shared tablet took it back from the second).
 */
const claimDevices = async (
  tx: StoreTx,
  rows: readonly ProfileRow[],
  before: ReadonlyMap<CustomerId, ProfileState>,
  rebuilt: ReadonlySet<CustomerId> | 'all',
  /** The times of the customer's events new in this batch: a device seen then is no replay. */
  freshTimesOf: (customerId: CustomerId) => ReadonlySet<number> = () => new Set(),
): Promise<void> => {
  const fresh: { token: string; customerId: CustomerId; seenAtMs: number }[] = [];
  const replayed: typeof fresh = [];
  for (const { customerId, state } of rows) {
    const known = before.get(customerId)?.devices;
    // Unchanged devices keep their list: most events carry none.
    if (state.devices === undefined || state.devices === known) continue;
    const rebuiltNow = rebuilt === 'all' || rebuilt.has(customerId);
    const times = rebuiltNow ? freshTimesOf(customerId) : null;
    for (const { token, seenAtMs } of state.devices)
      if (!known?.some((d) => d.token === token && d.seenAtMs >= seenAtMs))
        (times === null || times.has(seenAtMs) ? fresh : replayed).push({
          token,
          customerId,
          seenAtMs,
        });
  }
  if (replayed.length > 0) await tx.claimDeviceTokens(replayed, true);
  if (fresh.length > 0) await tx.claimDeviceTokens(fresh);
};

/** Records the batch's orders; returns the new ones by the event that placed them. */
const recordOrders = async (
  tx: IngestTx,
  fresh: readonly EventDraft[],
  money: Money,
): Promise<Map<EventDraft, OrderDraft>> => {
  const orders: OrderDraft[] = [];
  const owners: EventDraft[] = [];
  for (const draft of fresh) {
    const orderId = orderIdOf(draft);
    if (orderId === null) continue;
    orders.push({
      orderId,
      customerId: draft.customerId,
      placedAtMs: draft.timestampMs,
      totalCents: orderValueIn(draft.properties, money),
    });
    owners.push(draft);
  }
  const placed = new Map<EventDraft, OrderDraft>();
  if (orders.length === 0) return placed;
  const isNew = await tx.insertOrders(orders);
  owners.forEach((draft, i) => {
    const order = orders[i];
    if (isNew[i] === true && order !== undefined) placed.set(draft, order);
  });
  return placed;
};

const newOrdersIn = (
  group: readonly EventDraft[],
  placed: ReadonlyMap<EventDraft, OrderDraft>,
): ProfileChange['newOrders'] =>
  group.flatMap((draft) => {
    const order = placed.get(draft);
    return order === undefined
      ? []
      : [{ orderId: order.orderId, placedAtMs: order.placedAtMs, totalCents: order.totalCents }];
  });

/**
 * Resolves the batch's customers while holding the locks of every customer it touches. Locks
 * are taken by the customer each key names (`u:x` → x, `a:x` → anon:x); a link can change while
 * this transaction waits for a lock (another one merged that customer away), so the links are
 * read again after each round until no new customer appears.
 */
const resolveLocked = async (
  tx: IngestTx,
  events: readonly HeraldEvent[],
): Promise<IdentityPlan> => {
  const keys = identityKeysOf(events);
  const names = keys.map((k) => (k.startsWith('u:') ? k.slice(2) : `anon:${k.slice(2)}`));
  const locked = new Set<string>(names);
  await tx.lock(names);
  for (;;) {
    const plan = resolveIdentities(events, await tx.findLinks(keys));
    const touched = [
      ...plan.drafts.map((d) => d.customerId),
      ...plan.merges.flatMap((m) => [m.from, m.to]),
    ].filter((id) => !locked.has(id));
    if (touched.length === 0) return plan;
    const fresh = [...new Set(touched)];
    for (const id of fresh) locked.add(id);
    await tx.lock(fresh);
  }
};

/**
 * The events without Herald's own about customers erased since they were read: those about a
 * message that is gone (`properties.messageId`: an open, a click, a bounce), whose erasure
 * deleted it with its customer, and those about no message (a do-not-sell request) whose
 * customer, as `plan` resolves it, has no profile. Recording either would bring them back.
 * Read while the batch's customers are locked (an erasure takes the same lock), so such an event
 * is recorded before the erasure, and erased with it, or not at all. Returns `events` itself
 * when nothing is left out.
 */
const withoutResultsOfErased = async (
  tx: StoreTx,
  events: readonly HeraldEvent[],
  plan: IdentityPlan,
): Promise<readonly HeraldEvent[]> => {
  // Most batches hold none of Herald's own events: they pay for nothing below.
  if (!events.some((e) => e.sourceId === HERALD_SOURCE)) return events;
  const messageOf = (e: HeraldEvent): string | null => {
    const id = e.sourceId === HERALD_SOURCE ? e.properties['messageId'] : undefined;
    return typeof id === 'string' ? id : null;
  };
  const named = events.flatMap((e) => messageOf(e) ?? []);
  const existing = named.length === 0 ? new Set<string>() : await tx.existingMessages(named);
  // Drafts are the events resolved, in order: the customer each event is about.
  const unattached = events.flatMap((e, i) =>
    e.sourceId === HERALD_SOURCE && messageOf(e) === null ? (plan.drafts[i]?.customerId ?? []) : [],
  );
  const profiles = unattached.length === 0 ? new Map() : await tx.loadProfiles(unattached);
  const kept = (e: HeraldEvent, i: number): boolean => {
    if (e.sourceId !== HERALD_SOURCE) return true;
    const id = messageOf(e);
    if (id !== null) return existing.has(id);
    const customer = plan.drafts[i]?.customerId;
    return customer !== undefined && profiles.has(customer);
  };
  return events.every(kept) ? events : events.filter(kept);
};

/**
 * Per event given, whether it was stored for the first time: one left out was not. `kept` is
 * `events` with some left out, in order.
 */
/** The events without those stored already (by source and messageId) or repeated in them. */
const withoutRepeats = async (
  tx: IngestTx,
  events: readonly HeraldEvent[],
): Promise<readonly HeraldEvent[]> => {
  const stored = await tx.storedAlready(events);
  const seen = new Set<string>();
  const first = events.map((e, i) => {
    const key = `${e.sourceId}\u0001${e.messageId}`;
    const repeated = seen.has(key) || stored[i] === true;
    seen.add(key);
    return !repeated;
  });
  return first.every(Boolean) ? events : events.filter((_, i) => first[i]);
};

const realigned = (
  events: readonly HeraldEvent[],
  kept: readonly HeraldEvent[],
  keptIsNew: readonly boolean[],
): boolean[] => {
  let k = 0;
  return events.map((e) => {
    if (kept[k] !== e) return false;
    k += 1;
    return keptIsNew[k - 1] === true;
  });
};

/** Called inside the recording transaction with every profile the batch changed. */
export type OnRecorded = (
  tx: StoreTx,
  changes: readonly ProfileChange[],
  nowMs: number,
) => Promise<void>;

/**
 * The setting that marks a bulk load whose profiles are not all settled (empty once they are):
 * `UnsettledLoad` as JSON. Written with the load's first batch and updated by each transaction
 * of its settle, so a load that stops before it has settled — an error, a kill — is settled at
 * the next start (`settleUnfinishedLoad`), triggers included, each customer's once.
 */
export const UNSETTLED_LOAD = 'profiles.unsettled_load';

export interface UnsettledLoad {
  /** The last event seq stored before the load's first batch. */
  afterSeq: number;
  /** The last customer id (in sort order) whose change the settle has handed on, if any. */
  settledThrough: string | null;
}

const noteUnsettled = (tx: StoreTx, load: UnsettledLoad): Promise<void> =>
  tx.setSetting(UNSETTLED_LOAD, JSON.stringify(load));

/**
 * The profiles a bulk load has left behind its events (where the store allows it,
 * `IngestTx.leaveBehind`), to be rebuilt once each at its end by `settleDeferred`. Only
 * committed batches are noted.
 */
export interface DeferredProfiles {
  /**
   * The last event seq stored before the load's first batch, null before it: the load's events
   * are the ones after it (the embedded store has one writer, and the load holds its file).
   */
  afterSeq: number | null;
  /** The customers left behind. */
  customers: Set<CustomerId>;
  /** Of those, the ones another customer was merged into during the load. */
  merged?: Set<CustomerId>;
}

export const createDeferredProfiles = (): DeferredProfiles => ({
  afterSeq: null,
  customers: new Set(),
  merged: new Set(),
});

/** What one batch stored without its profiles, noted once its transaction has committed. */
interface DeferredBatch {
  afterSeq: number;
  merges: IdentityPlan['merges'];
  fresh: readonly EventDraft[];
}

/** The customers a batch leaves behind: a customer merged away is gone. */
const leftBehind = ({ merges, fresh }: DeferredBatch): Set<CustomerId> => {
  const touched = new Set<CustomerId>();
  for (const { to } of merges) touched.add(to);
  for (const draft of fresh) touched.add(draft.customerId);
  // Drafts name the customer a chain of merges ends at, so a `from` has nothing new of its own.
  for (const { from } of merges) touched.delete(from);
  return touched;
};

const noteDeferred = (deferred: DeferredProfiles, batch: DeferredBatch) => {
  deferred.afterSeq ??= batch.afterSeq;
  // A merge moved `from`'s events, the new ones among them, to `to`.
  for (const { from } of batch.merges) {
    deferred.customers.delete(from);
    deferred.merged?.delete(from);
  }
  for (const id of leftBehind(batch)) deferred.customers.add(id);
  for (const { to } of batch.merges) deferred.merged?.add(to);
};

/**
 * Stores a batch of events and brings every affected profile up to date, in one transaction:
 * after it resolves, the events are durable and the profiles reflect them; if it throws,
 * nothing of the batch was kept. Retried events (same source and messageId) change nothing.
 * With `deferred`, where the store can leave profiles behind, the profiles are not touched:
 * the batch is noted there for `settleDeferred`.
 */
export const recordEvents = async (
  store: Store,
  events: readonly HeraldEvent[],
  policy: ProfilePolicy,
  nowMs: number,
  onRecorded?: OnRecorded,
  churnModel?: LiveChurnModel,
  deferred?: DeferredProfiles,
): Promise<RecordOutcome> => {
  let left: DeferredBatch | undefined;
  const outcome = await store.transaction(async (tx): Promise<RecordOutcome> => {
    if (events.length === 0) return { stored: 0, duplicates: 0, profiles: 0, isNew: [] };
    const defer = deferred !== undefined && tx.leaveBehind !== undefined;
    let afterSeq = deferred?.afterSeq ?? null;
    if (defer && afterSeq === null) {
      afterSeq = await tx.lastEventSeq();
      await noteUnsettled(tx, { afterSeq, settledThrough: null });
    }
    let plan = await resolveLocked(tx, events);
    let kept = await withoutResultsOfErased(tx, events, plan);
    // Resolved again without them (under the locks already held): they must not link anyone.
    if (kept !== events) plan = await resolveLocked(tx, kept);
    // Nor may a retried event (its messageId stored already, or earlier in the batch), whose
    // ids a client reusing messageIds may have changed: only a batch that links or merges asks.
    let repeats = 0;
    if (plan.links.length > 0 || plan.merges.length > 0) {
      const firsts = await withoutRepeats(tx, kept);
      if (firsts !== kept) {
        repeats = kept.length - firsts.length;
        kept = firsts;
        plan = await resolveLocked(tx, kept);
      }
    }
    await tx.addLinks(plan.links);
    const rebuild = new Set<CustomerId>();
    for (const { from, to } of plan.merges) {
      if (await tx.mergeCustomer(from, to)) rebuild.add(to);
      // One person, one history: a visitor who signed up before identifying goes on with the
      // welcome series as the user, and an erasure of the user finds what the visitor was sent.
      await tx.handOver(from, to, nowMs);
    }
    // parseEvent guarantees every event an id, so every event has a draft, in order.
    if (plan.drafts.length !== kept.length) throw new Error('identity resolution lost an event');
    const keptIsNew = await tx.insertEvents(plan.drafts);
    const isNew = kept === events ? keptIsNew : realigned(events, kept, keptIsNew);
    const fresh = plan.drafts.filter((_, i) => keptIsNew[i] === true);
    const placed = await recordOrders(tx, fresh, policy);
    const duplicates = plan.drafts.length - fresh.length + repeats;
    if (defer && afterSeq !== null) {
      left = { afterSeq, merges: plan.merges, fresh };
      tx.leaveBehind?.(leftBehind(left));
      return { stored: fresh.length, duplicates, profiles: 0, isNew };
    }

    const groups = groupByCustomer(fresh);
    const incremental = [...groups.keys()].filter((id) => !rebuild.has(id));
    const states = await tx.loadProfiles(incremental);
    // Cancellations of orders: whether each order was placed before it — in an earlier batch
    // (the table), or earlier in this one (the table holds this batch's orders too, so those
    // count only once their completion has been applied).
    const cancelIds = fresh.flatMap((d) => {
      const id = cancelledOrderIdOf(d) ?? refundedOrderIdOf(d);
      return id === null ? [] : [id];
    });
    const placedOrders =
      cancelIds.length === 0 ? new Map<string, CustomerId>() : await tx.orderOwners(cancelIds);
    // Orders new in this batch (a re-sent order placed before is no new one).
    const completedInBatch = new Set(
      cancelIds.length === 0 ? [] : [...placed.values()].map((o) => o.orderId),
    );
    const rows: ProfileRow[] = [];
    const changes: ProfileChange[] = [];
    for (const customerId of incremental) {
      const group = groups.get(customerId) ?? [];
      const before = states.get(customerId) ?? null;
      let state = before ?? emptyProfile(customerId, group[0]?.timestampMs ?? nowMs);
      const completedSoFar = new Set<string>();
      for (const draft of group) {
        const orderId = orderIdOf(draft);
        const repeatOrder = orderId !== null && !placed.has(draft);
        // This customer's new orders: a re-sent one of theirs is in the table already.
        if (orderId !== null && !repeatOrder) completedSoFar.add(orderId);
        const cancels = cancelledOrderIdOf(draft);
        const refunds = refundedOrderIdOf(draft);
        // Whose the table says (this batch's orders in it too, each to its first sender): one
        // of this customer's own orders in this batch not applied yet is still to come.
        const refundOwner =
          refunds === null
            ? undefined
            : completedSoFar.has(refunds)
              ? customerId
              : placedOrders.get(refunds) === customerId && completedInBatch.has(refunds)
                ? undefined
                : placedOrders.get(refunds);
        state = applyEvent(
          state,
          draft,
          orderFacts(
            repeatOrder,
            cancels === null
              ? undefined
              : completedSoFar.has(cancels) ||
                  (placedOrders.get(cancels) === customerId && !completedInBatch.has(cancels)),
            refundOwner,
            customerId,
          ),
          policy,
        );
      }
      const computed = deriveComputed(state, nowMs, policy, churnModel);
      rows.push({ customerId, state, computed });
      changes.push({
        customerId,
        before,
        after: state,
        afterComputed: computed,
        events: group,
        newOrders: newOrdersIn(group, placed),
      });
    }
    const rebuiltBefore =
      onRecorded === undefined
        ? new Map<CustomerId, ProfileState>()
        : await tx.loadProfiles([...rebuild]);
    await forEachHistory(tx, [...rebuild], (customerId, history, owners) => {
      const state = replayHistory(customerId, history, policy, owners);
      if (state === null) return;
      const computed = deriveComputed(state, nowMs, policy, churnModel);
      rows.push({ customerId, state, computed });
      const before: ProfileState | null = rebuiltBefore.get(customerId) ?? null;
      const events = groups.get(customerId) ?? [];
      changes.push({
        customerId,
        before,
        after: state,
        afterComputed: computed,
        events,
        newOrders: newOrdersIn(events, placed),
        replayed: true,
        merged: true,
        mergedHistory: history,
      });
    });
    await tx.saveProfiles(rows);
    // A sign-in that merges a visitor rebuilds its customer: its own device is still new.
    await claimDevices(
      tx,
      rows,
      states,
      rebuild,
      (customerId) => new Set((groups.get(customerId) ?? []).map((d) => d.timestampMs)),
    );
    if (onRecorded !== undefined) await onRecorded(tx, changes, nowMs);
    return { stored: fresh.length, duplicates, profiles: rows.length, isNew };
  });
  if (deferred !== undefined && left !== undefined) noteDeferred(deferred, left);
  return outcome;
};

/**
 * The orders among a customer's events from the load (`loaded`, in the order they were stored)
 * that are new and theirs: named by none of their earlier events in `history`, and given to them by the orders table (which follows merges, and gives an
 * order id to the customer who sent it first), each at the first event that names it.
 */
const placedOrders = (
  customerId: CustomerId,
  history: readonly StoredEvent[],
  loaded: readonly StoredEvent[],
  afterSeq: number,
  owners: ReadonlyMap<string, CustomerId>,
  money: Money,
): ProfileChange['newOrders'] => {
  const earlier = new Set<string>();
  for (const event of history) {
    const orderId = event.seq <= afterSeq ? orderIdOf(event) : null;
    if (orderId !== null) earlier.add(orderId);
  }
  const orders: ProfileChange['newOrders'][number][] = [];
  for (const event of loaded) {
    const orderId = orderIdOf(event);
    if (orderId === null || earlier.has(orderId) || owners.get(orderId) !== customerId) continue;
    earlier.add(orderId);
    orders.push({
      orderId,
      placedAtMs: event.timestampMs,
      totalCents: orderValueIn(event.properties, money),
    });
  }
  return orders;
};

/**
 * Customers a settle writes a transaction. Small, so that a batch's parsed histories die young
 * rather than outlive the collector's scavenges across its transaction: with the scan handing
 * over chunks of 500 rows, 50 took 9.7–12.8 s of the bench import's settle in five runs against
 * 16.5 s for 500 (bench/README.md, 2026-12-04, afternoon).
 */
const SETTLE_BATCH = 50;

/**
 * Rebuilds every profile a bulk load left behind from the customer's stored events, in
 * customer-id order and transactions of `batchSize` customers, and hands `onRecorded` each one's
 * change as one batch of the load's events (before: the profile as the load found it), except
 * for customers up to `settledThrough` (handed on by a settle that stopped part-way). The
 * changes are marked `arrived` (judged fresh when their events were read) unless `atArrival`
 * is false. Returns how many profiles were written.
 */
export const settleDeferred = async (
  store: Store,
  deferred: DeferredProfiles,
  policy: ProfilePolicy,
  nowMs: number,
  options: {
    onRecorded?: OnRecorded;
    churnModel?: LiveChurnModel;
    batchSize?: number;
    onProgress?: (done: number, total: number) => void;
    settledThrough?: string | null;
    atArrival?: boolean;
  } = {},
): Promise<number> => {
  const afterSeq = deferred.afterSeq;
  if (afterSeq === null) return 0;
  const settledThrough = options.settledThrough ?? null;
  const arrived = options.atArrival === false ? undefined : true;
  const ids = [...deferred.customers].sort();
  const batchSize = options.batchSize ?? SETTLE_BATCH;
  const { onRecorded, churnModel } = options;
  // The scan hands customers on in SQLite's order, which the mark below must agree with.
  const scan =
    ids.length === 0 || ids.some((id) => /[\uD800-\uFFFF]/.test(id))
      ? null
      : await started((await store.scanHistories?.(afterSeq, deferred.customers)) ?? null);
  let written = 0;
  let done = 0;
  for await (const { batch, known } of scan === null
    ? batchesOf(ids, batchSize)
    : scannedBatches(scan, batchSize)) {
    written += await store.transaction(async (tx) => {
      await tx.lock(batch);
      const before =
        onRecorded === undefined
          ? new Map<CustomerId, ProfileState>()
          : await tx.loadProfiles(batch);
      const rows: ProfileRow[] = [];
      const changes: ProfileChange[] = [];
      await forEachHistory(
        tx,
        batch,
        (customerId, history, owners) => {
          // Merged into another customer since: nothing of theirs is left to rebuild.
          const state = replayHistory(customerId, history, policy, owners);
          if (state === null) return;
          const computed = deriveComputed(state, nowMs, policy, churnModel);
          rows.push({ customerId, state, computed });
          if (onRecorded === undefined) return;
          if (settledThrough !== null && customerId <= settledThrough) return;
          // The load's events, in the order they were stored.
          const loaded = history.filter((e) => e.seq > afterSeq).sort((a, b) => a.seq - b.seq);
          changes.push({
            customerId,
            before: before.get(customerId) ?? null,
            after: state,
            afterComputed: computed,
            events: loaded,
            newOrders: placedOrders(customerId, history, loaded, afterSeq, owners, policy),
            ...(arrived === undefined ? {} : { arrived }),
            replayed: true,
            ...(deferred.merged?.has(customerId) === true
              ? { merged: true as const, mergedHistory: history }
              : {}),
          });
        },
        known,
      );
      await tx.saveProfiles(rows);
      // Rebuilt from the events: every device is claimed again, the newer claim winning.
      await claimDevices(tx, rows, new Map(), 'all');
      if (onRecorded !== undefined) await onRecorded(tx, changes, nowMs);
      // The planned work and this mark commit together: a stop after it hands none of these on
      // again. Batches go in id order, so the mark only moves forward.
      const last = batch.at(-1) ?? null;
      await noteUnsettled(tx, {
        afterSeq,
        settledThrough: last === null || (settledThrough ?? '') > last ? settledThrough : last,
      });
      return rows.length;
    });
    for (const id of batch) deferred.customers.delete(id);
    done += batch.length;
    options.onProgress?.(Math.min(done, ids.length), ids.length);
  }
  // Those the scan never met have no events left (merged into another customer since).
  if (done < ids.length) options.onProgress?.(ids.length, ids.length);
  deferred.customers.clear();
  // Each transaction above handed its customers on, so a stop from here on leaves only profiles
  // behind, which the next start rebuilds either way.
  await store.transaction((tx) => tx.setSetting(UNSETTLED_LOAD, ''));
  deferred.afterSeq = null;
  return written;
};

/**
 * The scan with its first history read — the sort runs then, and may fail for want of temporary
 * space — or null when it failed there: nothing has been handed on yet, and reading customer by
 * customer needs no such space, so the settle goes that way rather than fail at every start.
 */
const started = async (
  scan: AsyncIterable<CustomerHistory> | null,
): Promise<AsyncIterable<CustomerHistory> | null> => {
  if (scan === null) return null;
  const histories = scan[Symbol.asyncIterator]();
  let first: IteratorResult<CustomerHistory>;
  try {
    first = await histories.next();
  } catch {
    await histories.return?.();
    return null;
  }
  return (async function* () {
    try {
      if (first.done === true) return;
      yield first.value;
      yield* { [Symbol.asyncIterator]: () => histories };
    } finally {
      // Stopped early (a batch failed): the scan's connection closes with it.
      await histories.return?.();
    }
  })();
};

/** A settle's customers in batches, their events read in each batch's transaction. */
function* batchesOf(
  ids: readonly CustomerId[],
  size: number,
): Generator<{ batch: CustomerId[]; known?: Map<CustomerId, StoredEvent[]> }> {
  for (let i = 0; i < ids.length; i += size) yield { batch: ids.slice(i, i + size) };
}

/** A settle's customers in batches as a scan meets them, their events with them. */
async function* scannedBatches(
  scan: AsyncIterable<CustomerHistory>,
  size: number,
): AsyncGenerator<{ batch: CustomerId[]; known?: Map<CustomerId, StoredEvent[]> }> {
  let known = new Map<CustomerId, StoredEvent[]>();
  for await (const { customerId, events } of scan) {
    known.set(customerId, events);
    if (known.size < size) continue;
    yield { batch: [...known.keys()], known };
    known = new Map();
  }
  if (known.size > 0) yield { batch: [...known.keys()], known };
}

/**
 * Settles a bulk load that stopped before it had (see `UNSETTLED_LOAD`): the customers still
 * behind are the ones it left, and its events are the ones after the seq it noted. The time
 * between the stop and this start is downtime, so its events are judged fresh now, as events
 * that reach Herald late are, not when they were read. Returns how many profiles were written.
 * Run at start (`unfinishedLoad` says whether there is one), before serving.
 */
export const settleUnfinishedLoad = async (
  store: Store,
  load: UnsettledLoad,
  policy: ProfilePolicy,
  nowMs: number,
  options: { onRecorded?: OnRecorded; churnModel?: LiveChurnModel } = {},
): Promise<number> => {
  const deferred: DeferredProfiles = {
    afterSeq: load.afterSeq,
    customers: new Set(await store.profilesBehind()),
  };
  return settleDeferred(store, deferred, policy, nowMs, {
    ...options,
    settledThrough: load.settledThrough,
    atArrival: false,
  });
};

/** The bulk load that stopped before it had settled, or null when there is none. */
export const unfinishedLoad = async (store: Store): Promise<UnsettledLoad | null> => {
  const text = await store.transaction((tx) => tx.getSetting(UNSETTLED_LOAD));
  if (text === null || text === '') return null;
  const load = JSON.parse(text) as Partial<UnsettledLoad>;
  if (
    typeof load.afterSeq !== 'number' ||
    !(load.settledThrough === null || typeof load.settledThrough === 'string')
  )
    throw new Error(`the setting ${UNSETTLED_LOAD} is not an unsettled load: ${text}`);
  return { afterSeq: load.afterSeq, settledThrough: load.settledThrough };
};
