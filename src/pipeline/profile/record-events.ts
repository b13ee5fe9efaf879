import type { HeraldEvent } from '../../core/event.js';
import type { CustomerId } from '../../core/ids.js';
import type { LiveChurnModel, ProfileChange, ProfileState } from '../../core/profile.js';
import type {
  EventDraft,
  IngestTx,
  OrderDraft,
  ProfileRow,
  Store,
  StoreTx,
} from '../../ports/store.js';
import { applyEvent, emptyProfile, orderValueCents } from './apply-event.js';
import { deriveComputed } from './derive-computed.js';
import type { ProfilePolicy } from './policy.js';
import { asString, pick } from './read-props.js';
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

/** The order id of an `Order Completed` (`order_id`, `orderId` or `checkout_id`), else null. */
export const orderIdOf = (event: HeraldEvent): string | null =>
  event.type === 'track' && event.name === 'Order Completed'
    ? asString(pick(event.properties, 'order_id', 'orderId', 'checkout_id'))
    : null;

/** Replays a customer's whole history from nothing; the first record of an order id counts. */
export const replayHistory = (
  customerId: CustomerId,
  events: readonly HeraldEvent[],
  policy: ProfilePolicy,
): ProfileState | null => {
  const first = events[0];
  if (first === undefined) return null;
  const seenOrders = new Set<string>();
  let state = emptyProfile(customerId, first.timestampMs);
  for (const event of events) {
    const orderId = orderIdOf(event);
    const repeatOrder = orderId !== null && seenOrders.has(orderId);
    if (orderId !== null) seenOrders.add(orderId);
    state = applyEvent(state, event, { repeatOrder }, policy);
  }
  return state;
};

const groupByCustomer = (drafts: readonly EventDraft[]): Map<CustomerId, EventDraft[]> => {
  const groups = new Map<CustomerId, EventDraft[]>();
  for (const draft of drafts) {
    const group = groups.get(draft.customerId);
    if (group === undefined) groups.set(draft.customerId, [draft]);
    else group.push(draft);
  }
  return groups;
};

/** Records the batch's orders; returns the new ones by the event that placed them. */
const recordOrders = async (
  tx: IngestTx,
  fresh: readonly EventDraft[],
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
      totalCents: orderValueCents(draft.properties),
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

/** Called inside the recording transaction with every profile the batch changed. */
export type OnRecorded = (
  tx: StoreTx,
  changes: readonly ProfileChange[],
  nowMs: number,
) => Promise<void>;

/**
 * Stores a batch of events and brings every affected profile up to date, in one transaction:
 * after it resolves, the events are durable and the profiles reflect them; if it throws,
 * nothing of the batch was kept. Retried events (same source and messageId) change nothing.
 */
export const recordEvents = (
  store: Store,
  events: readonly HeraldEvent[],
  policy: ProfilePolicy,
  nowMs: number,
  onRecorded?: OnRecorded,
  churnModel?: LiveChurnModel,
): Promise<RecordOutcome> =>
  store.transaction(async (tx) => {
    if (events.length === 0) return { stored: 0, duplicates: 0, profiles: 0, isNew: [] };
    const plan = await resolveLocked(tx, events);
    await tx.addLinks(plan.links);
    const rebuild = new Set<CustomerId>();
    for (const { from, to } of plan.merges) {
      if (await tx.mergeCustomer(from, to)) rebuild.add(to);
    }
    // parseEvent guarantees every event an id, so every event has a draft, in order.
    if (plan.drafts.length !== events.length) throw new Error('identity resolution lost an event');
    const isNew = await tx.insertEvents(plan.drafts);
    const fresh = plan.drafts.filter((_, i) => isNew[i] === true);
    const placed = await recordOrders(tx, fresh);

    const groups = groupByCustomer(fresh);
    const incremental = [...groups.keys()].filter((id) => !rebuild.has(id));
    const states = await tx.loadProfiles(incremental);
    const rows: ProfileRow[] = [];
    const changes: ProfileChange[] = [];
    for (const customerId of incremental) {
      const group = groups.get(customerId) ?? [];
      const before = states.get(customerId) ?? null;
      let state = before ?? emptyProfile(customerId, group[0]?.timestampMs ?? nowMs);
      for (const draft of group)
        state = applyEvent(
          state,
          draft,
          { repeatOrder: orderIdOf(draft) !== null && !placed.has(draft) },
          policy,
        );
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
    for (const customerId of rebuild) {
      const state = replayHistory(customerId, await tx.loadCustomerEvents(customerId), policy);
      if (state === null) continue;
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
      });
    }
    await tx.saveProfiles(rows);
    if (onRecorded !== undefined) await onRecorded(tx, changes, nowMs);
    return {
      stored: fresh.length,
      duplicates: plan.drafts.length - fresh.length,
      profiles: rows.length,
      isNew,
    };
  });
