import type { HeraldEvent } from '../../core/event.js';
import type { CustomerId } from '../../core/ids.js';
import type { ProfileChange } from '../../core/profile.js';
import type { ComputedProfile, ProfileState } from '../../core/profile.js';
import { orderIdIn } from '../../core/read-props.js';
import { DAY_MS, MINUTE_MS } from '../../core/time.js';
import type { CustomerMarks, WorkDraft } from '../../ports/decide-store.js';
import { segmentCustomer } from './agents/segment-customer.js';
import { cartKey } from './decide-for-customer.js';
import type { JourneyCatalog } from './journeys/journey-catalog.js';
import type { DecidePolicy } from './policy.js';
import { birthdayAfterSweep } from './sweep-customer.js';

export interface TriggerPlan {
  schedule: WorkDraft[];
  cancel: { key: string; note: string }[];
  /**
   * The stage and segment of customers seen for the first time, stored as the decide stage's
   * marks: a change before the worker first looks at them is then raised against these, however
   * many batches it takes (the check's own `from` is only the state before the latest).
   */
  marks?: CustomerMarks[];
  /**
   * Customers whose stage or segment only stale events moved: their stored marks become `to`
   * where they still are `from`.
   */
  followMarks?: { customerId: CustomerId; from: MarkedState; to: MarkedState }[];
}

/** A customer's stage and segment as the marks hold them. */
export interface MarkedState {
  stage: string | null;
  segment: string | null;
}

/** Event names some journey, rule or agent reacts to; other events only update profiles. */
export const eventsOfInterest = (policy: DecidePolicy, catalog: JourneyCatalog): Set<string> => {
  const names = new Set<string>(['Order Completed']);
  for (const c of policy.customEvents) names.add(c.event);
  for (const journey of catalog.all) {
    const d = journey.definition;
    if ('event' in d.entry) names.add(d.entry.event);
    for (const e of d.exitOn ?? []) names.add(e);
    for (const step of d.steps) {
      if (step.type === 'wait' && step.until !== undefined) names.add(step.until.event);
      if (step.type === 'branch' && step.if !== undefined && 'event' in step.if)
        names.add(step.if.event);
    }
  }
  return names;
};

/** How late an event that exits journeys may come and still end them. */
const LATE_EXIT_MS = 7 * DAY_MS;

const isOrder = (e: HeraldEvent): boolean => e.type === 'track' && e.name === 'Order Completed';

/** When the last of `events` arrived (never after `nowMs`). */
const arrivalOf = (events: readonly HeraldEvent[], nowMs: number): number => {
  let latest = Number.NEGATIVE_INFINITY;
  for (const e of events) if (e.receivedAtMs > latest) latest = e.receivedAtMs;
  return Math.min(latest, nowMs);
};

export type TriggerPlanner = (changes: readonly ProfileChange[], nowMs: number) => TriggerPlan;

/**
 * Turns recorded events into due work, inside the transaction that stores them (so no trigger
 * is lost between the two): a cart change re-arms the customer's abandoned-cart timer (a due
 * time, not a poll), emptying the cart or ordering cancels it; a signup, an event of interest,
 * or a change of lifecycle stage or segment is due at once. Events older than
 * `staleEventMinutes` when they arrive (an import of history) update profiles but plan nothing
 * (the stage and segment they move are followed by the marks): when they are recorded, or for
 * a change marked `arrived`, at their `receivedAtMs`.
 */
export const createTriggerPlanner = (
  policy: DecidePolicy,
  catalog: JourneyCatalog,
  computeProfile: (state: ProfileState, nowMs: number) => ComputedProfile,
): TriggerPlanner => {
  const interesting = eventsOfInterest(policy, catalog);
  const exitNames = new Set(catalog.all.flatMap((j) => j.definition.exitOn ?? []));
  const staleMs = policy.staleEventMinutes * MINUTE_MS;
  const idleMs = policy.cart.idleMinutes * MINUTE_MS;
  const marks = (
    state: ProfileState,
    computed: ComputedProfile,
    nowMs: number,
  ): { stage: string; segment: string | null } => ({
    stage: computed.lifecycleStage,
    segment: segmentCustomer(state, computed, nowMs, policy.segments),
  });
  return (changes, nowMs) => {
    const plan: TriggerPlan = { schedule: [], cancel: [] };
    for (const change of changes) {
      const { customerId, before, after, afterComputed, events, arrived } = change;
      const fresh = events.filter(
        (e) =>
          (arrived === true ? Math.min(e.receivedAtMs, nowMs) : nowMs) - e.timestampMs <= staleMs,
      );
      // An event too late to act on still ends the journeys it exits (an order that came two
      // hours late must not leave its customer in the welcome series), within a week of it: one
      // work item a customer, event name and batch, at the latest such event. Not for a customer seen
      // for the first time (in no journey yet), nor for an order that places none (sent again,
      // another customer's, or cancelled before it came). A merge brings the other record's
      // events into the customer's history (a guest's order, a visitor's): those were never
      // offered to the customer's journeys, and end them the same way.
      if (before !== null) {
        const newOrderIds = new Set(change.newOrders.map((o) => o.orderId));
        const cancelledIds = new Set(after.orders.cancelledIds ?? []);
        const latest = new Map<string, number>();
        const exits = (e: HeraldEvent): e is HeraldEvent & { name: string } =>
          e.type === 'track' &&
          e.name !== null &&
          exitNames.has(e.name) &&
          nowMs - e.timestampMs <= LATE_EXIT_MS;
        for (const e of events) {
          if (fresh.includes(e) || !exits(e)) continue;
          const id = isOrder(e) ? orderIdIn(e.properties) : null;
          if (id !== null && (!newOrderIds.has(id) || cancelledIds.has(id))) continue;
          latest.set(e.name, Math.max(latest.get(e.name) ?? -Infinity, e.timestampMs));
        }
        for (const e of change.mergedHistory ?? []) {
          if (!exits(e)) continue;
          const id = isOrder(e) ? orderIdIn(e.properties) : null;
          if (id !== null && cancelledIds.has(id)) continue;
          latest.set(e.name, Math.max(latest.get(e.name) ?? -Infinity, e.timestampMs));
        }
        // Keyed by the time too, once: a later batch's item for an older event must not take
        // the place (and the time) of one not yet handled.
        for (const [name, atMs] of latest)
          plan.schedule.push({
            key: `${customerId}|late-exit|${name}|${String(atMs)}`,
            customerId,
            dueAtMs: nowMs,
            trigger: {
              kind: 'event',
              name,
              messageId: `late-exit:${name}`,
              properties: {},
              lateAtMs: atMs,
            },
            mode: 'once',
          });
      }
      if (fresh.length === 0) {
        // History moved the stage or segment (an import for a customer known live): the marks
        // follow, so that no later look raises the move as a change (a win-back offer for an
        // at-risk crossing weeks ago in the imported past). Only where they still say what the
        // customer was: a change still waiting for the worker is kept.
        if (before !== null) {
          const from = marks(before, computeProfile(before, nowMs), nowMs);
          const to = marks(after, afterComputed, nowMs);
          if (from.stage !== to.stage || from.segment !== to.segment)
            (plan.followMarks ??= []).push({ customerId, from, to });
        }
        continue;
      }
      // The cart and the signup are judged when the last of the fresh events arrived.
      const atMs = arrived === true ? arrivalOf(fresh, nowMs) : nowMs;
      // The orders this change placed: an order id seen before (a resent order, another
      // customer's) places none and earns no milestone, nor does one the profile counts as
      // cancelled (its cancellation came first, or in the same change). They are numbered back
      // from the count the profile ends with, so two in one batch are the last two, and orders
      // a merge brought in count before them.
      const newIds = new Set(change.newOrders.map((o) => o.orderId));
      const cancelled = new Set(after.orders.cancelledIds ?? []);
      const placed = new Set(
        fresh.filter((e) => {
          if (!isOrder(e)) return false;
          const id = orderIdIn(e.properties);
          return id === null || (newIds.delete(id) && !cancelled.has(id));
        }),
      );
      const cart = after.cart;
      if (
        cart !== null &&
        cart.updatedAtMs !== before?.cart?.updatedAtMs &&
        atMs - cart.updatedAtMs <= staleMs
      )
        plan.schedule.push({
          key: cartKey(customerId),
          customerId,
          dueAtMs: cart.updatedAtMs + idleMs,
          trigger: { kind: 'cart-abandoned', cartUpdatedAtMs: cart.updatedAtMs },
        });
      // Emptied by what placed no order (an order cancelled before it came empties the cart too).
      else if (cart === null && before?.cart != null && placed.size === 0)
        plan.cancel.push({ key: cartKey(customerId), note: 'cart emptied' });
      if (
        before?.signedUpAtMs == null &&
        after.signedUpAtMs !== null &&
        atMs - after.signedUpAtMs <= staleMs
      )
        plan.schedule.push({
          key: `${customerId}|signed-up`,
          customerId,
          dueAtMs: nowMs,
          trigger: { kind: 'signed-up' },
          mode: 'once',
        });
      // Not for a profile replayed from its history (a merge, a bulk load's settle): the birthday
      // it holds came with a record whose own greeting, under its own id, may have gone.
      if (change.replayed !== true)
        plan.schedule.push(...birthdayAfterSweep(customerId, before, after, policy, nowMs));
      let numbered = after.orders.count - placed.size;
      // The most orders held before the batch: a number reached again (after a cancellation)
      // is no new milestone.
      const peakBefore = before === null ? 0 : (before.orders.peakCount ?? before.orders.count);
      for (const e of fresh) {
        if (e.type !== 'track' || e.name === null || !interesting.has(e.name)) continue;
        const order = isOrder(e);
        if (order && !placed.has(e)) continue;
        if (order) {
          numbered += 1;
          // Unless the cart is newer than the order (filled again since): its timer stands.
          if (after.cart === null || after.cart.updatedAtMs <= e.timestampMs)
            plan.cancel.push({ key: cartKey(customerId), note: 'order placed' });
        }
        plan.schedule.push({
          key: `${customerId}|event|${e.sourceId}|${e.messageId}`,
          customerId,
          dueAtMs: nowMs,
          trigger: {
            kind: 'event',
            name: e.name,
            messageId: e.messageId,
            properties: e.properties,
            ...(order ? { orderNumber: Math.max(1, numbered) } : {}),
            ...(order && Math.max(1, numbered) <= peakBefore ? { reachedBefore: true } : {}),
          },
          mode: 'once',
        });
      }
      // A customer seen for the first time has not changed: what they are now is their marks.
      const from = before === null ? null : marks(before, computeProfile(before, nowMs), nowMs);
      const to = marks(after, afterComputed, nowMs);
      if (from === null) (plan.marks ??= []).push({ customerId, ...to, updatedAtMs: nowMs });
      if (from !== null && (from.stage !== to.stage || from.segment !== to.segment))
        plan.schedule.push({
          key: `${customerId}|check`,
          customerId,
          dueAtMs: nowMs,
          // What it was: the worker may not have looked at this customer yet (no marks).
          trigger: { kind: 'profile-changed', from },
        });
    }
    return plan;
  };
};
