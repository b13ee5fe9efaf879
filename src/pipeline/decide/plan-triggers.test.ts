import { describe, expect, it } from 'vitest';
import type { HeraldEvent } from '../../core/event.js';
import { toMessageId } from '../../core/ids.js';
import type { ProfileChange, ProfileState } from '../../core/profile.js';
import { defaultJourneys } from './journeys/default-journeys.js';
import { createTriggerPlanner, eventsOfInterest } from './plan-triggers.js';
import {
  aCart,
  aCartItem,
  aState,
  anEvent,
  c1,
  catalogOf,
  daysMs,
  defaultDecidePolicy,
  hoursMs,
  t0,
  toComputed,
  withPolicy,
} from './test-builders.js';

const plan = createTriggerPlanner(defaultDecidePolicy(), catalogOf(defaultJourneys), toComputed);

const change = (
  before: ProfileState | null,
  after: ProfileState,
  events: HeraldEvent[] = [anEvent('Product Viewed')],
): ProfileChange => ({
  customerId: c1,
  before,
  after,
  afterComputed: toComputed(after, t0),
  events,
  newOrders: [],
});

const cartAt = (updatedAtMs: number) => aCart([aCartItem()], updatedAtMs);
const known = aState();

describe('createTriggerPlanner', () => {
  it('arms the cart timer at the cart change plus the idle time', () => {
    const after = aState({ cart: cartAt(t0) });
    expect(plan([change(known, after)], t0)).toEqual({
      schedule: [
        {
          key: 'c1|cart',
          customerId: c1,
          dueAtMs: t0 + hoursMs(2),
          trigger: { kind: 'cart-abandoned', cartUpdatedAtMs: t0 },
        },
      ],
      cancel: [],
    });
  });

  it('re-arms the same key when the cart changes again', () => {
    const before = aState({ cart: cartAt(t0 - hoursMs(1)) });
    const after = aState({ cart: cartAt(t0) });
    const { schedule } = plan([change(before, after)], t0);
    expect(schedule.map((w) => [w.key, w.dueAtMs])).toEqual([['c1|cart', t0 + hoursMs(2)]]);
  });

  it('leaves the timer alone when the cart did not change', () => {
    const same = aState({ cart: cartAt(t0 - hoursMs(1)) });
    expect(plan([change(same, same)], t0)).toEqual({ schedule: [], cancel: [] });
  });

  it('cancels the timer when the cart is emptied', () => {
    const before = aState({ cart: cartAt(t0 - hoursMs(1)) });
    expect(plan([change(before, known)], t0)).toEqual({
      schedule: [],
      cancel: [{ key: 'c1|cart', note: 'cart emptied' }],
    });
  });

  it('cancels the timer and schedules the event once when an order completes', () => {
    const before = aState({ cart: cartAt(t0 - hoursMs(1)) });
    const order = anEvent('Order Completed', { total: 40 }, { messageId: toMessageId('m1') });
    const ordered = { ...known, orders: { ...known.orders, count: 1 } };
    const result = plan([change(before, ordered, [order])], t0);
    expect(result.cancel).toEqual([{ key: 'c1|cart', note: 'order placed' }]);
    expect(result.schedule).toEqual([
      {
        key: 'c1|event|src|m1',
        customerId: c1,
        dueAtMs: t0,
        trigger: {
          kind: 'event',
          name: 'Order Completed',
          messageId: 'm1',
          properties: { total: 40 },
          orderNumber: 1,
        },
        mode: 'once',
      },
    ]);
  });

  it('numbers only the orders a change placed: a resent one earns nothing, merged ones count', () => {
    const withOrders = (count: number) => ({ ...known, orders: { ...known.orders, count } });
    const placing = (orderId: string) => ({
      newOrders: [{ orderId, placedAtMs: t0, totalCents: 4000 }],
    });
    // The same order id again, under a new messageId (a webhook and a client both track it).
    const resent = anEvent(
      'Order Completed',
      { order_id: 'o-1' },
      { messageId: toMessageId('m2') },
    );
    expect(plan([change(withOrders(1), withOrders(1), [resent])], t0)).toEqual({
      schedule: [],
      cancel: [],
    });
    // A guest's order merged in with this change, and a new one: the new one is the 2nd.
    const second = anEvent(
      'Order Completed',
      { order_id: 'o-2' },
      { messageId: toMessageId('m3') },
    );
    const merged = { ...change(known, withOrders(2), [second]), ...placing('o-2') };
    expect(plan([merged], t0).schedule.map((w) => w.trigger)).toEqual([
      expect.objectContaining({ orderNumber: 2 }),
    ]);
  });

  it('earns no milestone for an order the profile counts as cancelled (its cancellation came first)', () => {
    const order = anEvent('Order Completed', { order_id: 'o-9' }, { messageId: toMessageId('m9') });
    // The profile counts no order: the cancellation arrived before it (or with it).
    const cancelled = { ...known, orders: { ...known.orders, count: 0, cancelledIds: ['o-9'] } };
    const placed = {
      ...change(known, cancelled, [order]),
      newOrders: [{ orderId: 'o-9', placedAtMs: t0, totalCents: 4000 }],
    };
    expect(plan([placed], t0)).toEqual({ schedule: [], cancel: [] });
    // It still empties the cart it followed, whose timer goes with it.
    const withCart = { ...placed, before: aState({ cart: cartAt(t0 - hoursMs(1)) }) };
    expect(plan([withCart], t0)).toEqual({
      schedule: [],
      cancel: [{ key: 'c1|cart', note: 'cart emptied' }],
    });
    // Another order in the same change still counts, as the profile's first.
    const other = anEvent(
      'Order Completed',
      { order_id: 'o-10' },
      { messageId: toMessageId('m10') },
    );
    const both = {
      ...change(known, { ...cancelled, orders: { ...cancelled.orders, count: 1 } }, [order, other]),
      newOrders: [
        { orderId: 'o-9', placedAtMs: t0, totalCents: 4000 },
        { orderId: 'o-10', placedAtMs: t0, totalCents: 2000 },
      ],
    };
    expect(plan([both], t0).schedule.map((w) => w.trigger)).toEqual([
      expect.objectContaining({ messageId: 'm10', orderNumber: 1 }),
    ]);
  });

  it('leaves the timer of a cart filled after a late order', () => {
    // An earlier purchase arrives after the customer filled a new cart.
    const order = anEvent(
      'Order Completed',
      { order_id: 'o-3' },
      { messageId: toMessageId('m4'), timestampMs: t0 - 10 * 60_000 },
    );
    const cart = cartAt(t0 - 5 * 60_000);
    const after = aState({ cart, orders: { ...known.orders, count: 1 } });
    const late = {
      ...change(aState({ cart }), after, [order]),
      newOrders: [{ orderId: 'o-3', placedAtMs: t0 - 10 * 60_000, totalCents: 0 }],
    };
    expect(plan([late], t0).cancel).toEqual([]);
  });

  it('plans nothing for events older than staleEventMinutes, but the exits of journeys', () => {
    const old = anEvent('Product Viewed', {}, { timestampMs: t0 - hoursMs(2) });
    const after = aState({ signedUpAtMs: t0 - hoursMs(2), cart: cartAt(t0 - hoursMs(2)) });
    const stranger = aState({ lastActiveAtMs: t0 - daysMs(80) });
    // The stranger's history made them at-risk: their marks follow it, with no change raised.
    expect(plan([change(null, after, [old]), change(known, stranger, [old])], t0)).toEqual({
      schedule: [],
      cancel: [],
      followMarks: [
        {
          customerId: 'c1',
          from: { stage: 'active', segment: 'Standard' },
          to: { stage: 'at-risk', segment: 'At-Risk' },
        },
      ],
    });
    expect(plan([change(known, known, [old])], t0)).toEqual({ schedule: [], cancel: [] });
    // An order two hours late still ends the journeys it exits (welcome): that alone.
    const order = anEvent('Order Completed', {}, { timestampMs: t0 - hoursMs(2) });
    const lateExit = (atMs: number) => ({
      key: `c1|late-exit|Order Completed|${String(atMs)}`,
      customerId: 'c1',
      dueAtMs: t0,
      mode: 'once',
      trigger: {
        kind: 'event',
        name: 'Order Completed',
        messageId: 'late-exit:Order Completed',
        properties: {},
        lateAtMs: atMs,
      },
    });
    expect(plan([change(known, stranger, [order])], t0).schedule).toEqual([
      lateExit(t0 - hoursMs(2)),
    ]);
    // Several in one batch: one item, at the latest of them.
    const earlier = anEvent(
      'Order Completed',
      {},
      { messageId: toMessageId('e'), timestampMs: t0 - hoursMs(5) },
    );
    expect(plan([change(known, stranger, [earlier, order])], t0).schedule).toEqual([
      lateExit(t0 - hoursMs(2)),
    ]);
    // Not for a customer seen for the first time, nor for an order that places none.
    expect(plan([change(null, stranger, [order])], t0).schedule).toEqual([]);
    const resent = anEvent(
      'Order Completed',
      { order_id: 'o-old' },
      { timestampMs: t0 - hoursMs(2) },
    );
    expect(plan([change(known, stranger, [resent])], t0).schedule).toEqual([]);
    const placedNow = {
      ...change(known, stranger, [resent]),
      newOrders: [{ orderId: 'o-old', placedAtMs: t0 - hoursMs(2), totalCents: 100 }],
    };
    expect(plan([placedNow], t0).schedule.map((w) => w.key)).toEqual([
      `c1|late-exit|Order Completed|${String(t0 - hoursMs(2))}`,
    ]);
    // More than a week late (history imported): nothing.
    const history = anEvent('Order Completed', {}, { timestampMs: t0 - daysMs(8) });
    expect(plan([change(known, stranger, [history])], t0).schedule).toEqual([]);
  });

  it('judges a change handed on after its events were stored at their arrival', () => {
    // Arrived a minute after they happened, planned three hours later (a long bulk load).
    const happened = t0 - hoursMs(3);
    const arrival = { timestampMs: happened, receivedAtMs: happened + 60_000 };
    const order = anEvent('Order Completed', {}, { messageId: toMessageId('o'), ...arrival });
    const added = anEvent('Product Added', {}, { messageId: toMessageId('a'), ...arrival });
    const after = aState({ signedUpAtMs: happened, cart: cartAt(happened) });
    const late = change(aState({ signedUpAtMs: null }), after, [added, order]);
    // Judged now, three hours on: the order only ends the journeys it exits.
    expect(plan([late], t0).schedule.map((w) => [w.key, w.trigger])).toEqual([
      [
        `c1|late-exit|Order Completed|${String(happened)}`,
        {
          kind: 'event',
          name: 'Order Completed',
          messageId: 'late-exit:Order Completed',
          properties: {},
          lateAtMs: happened,
        },
      ],
    ]);
    expect(plan([{ ...late, arrived: true }], t0).schedule.map((w) => [w.key, w.dueAtMs])).toEqual([
      ['c1|cart', happened + hoursMs(2)],
      ['c1|signed-up', t0],
      ['c1|event|src|o', t0],
      ['c1|check', t0],
    ]);
    // Already stale when it arrived: still nothing.
    const stale = anEvent('Product Viewed', {}, { timestampMs: happened, receivedAtMs: t0 });
    const afterStale = aState({ cart: cartAt(happened) });
    expect(plan([{ ...change(known, afterStale, [stale]), arrived: true }], t0)).toEqual({
      schedule: [],
      cancel: [],
    });
  });

  it('does not arm the timer for a cart last changed long ago', () => {
    const before = aState({ cart: null });
    const after = aState({ cart: cartAt(t0 - hoursMs(3)) });
    expect(plan([change(before, after)], t0).schedule).toEqual([]);
  });

  it('schedules a signup once, when it first appears', () => {
    const before = aState({ signedUpAtMs: null });
    const after = aState({ signedUpAtMs: t0 - 1000 });
    expect(plan([change(before, after)], t0).schedule).toContainEqual({
      key: 'c1|signed-up',
      customerId: c1,
      dueAtMs: t0,
      trigger: { kind: 'signed-up' },
      mode: 'once',
    });
    expect(plan([change(after, after)], t0).schedule).toEqual([]);
  });

  it('schedules only events some journey, rule or agent reacts to', () => {
    const events = [
      anEvent('Product Viewed', {}, { messageId: toMessageId('a') }),
      anEvent('Order Completed', {}, { messageId: toMessageId('b'), type: 'page' }),
      anEvent('Trial Ending', {}, { messageId: toMessageId('c') }),
    ];
    const custom = createTriggerPlanner(
      withPolicy({ customEvents: [{ event: 'Trial Ending', template: 't', channels: ['email'] }] }),
      catalogOf(defaultJourneys),
      toComputed,
    );
    expect(custom([change(known, known, events)], t0).schedule.map((w) => w.key)).toEqual([
      'c1|event|src|c',
    ]);
  });

  it('schedules a check when the stage or segment changed', () => {
    const lapsed = aState({ lastActiveAtMs: t0 - daysMs(40) });
    expect(plan([change(known, lapsed)], t0).schedule).toEqual([
      {
        key: 'c1|check',
        customerId: c1,
        dueAtMs: t0,
        // What it was, for a worker that has not looked at the customer yet.
        trigger: { kind: 'profile-changed', from: { stage: 'active', segment: 'Standard' } },
      },
    ]);
    // A customer seen for the first time has nothing to compare: no check.
    expect(plan([change(null, known)], t0).schedule.map((w) => w.key)).toEqual([]);
  });
});

describe('eventsOfInterest', () => {
  it('collects orders, custom events and the events journeys enter, exit, wait and branch on', () => {
    const catalog = catalogOf([
      {
        id: 'j',
        entry: { event: 'Webinar Joined' },
        exitOn: ['Unsubscribed'],
        steps: [
          { id: 'w', type: 'wait', until: { event: 'Clicked', timeoutHours: 4 } },
          { id: 'b', type: 'branch', if: { event: 'Opened' }, then: 'w' },
          { id: 'c', type: 'branch', if: { field: 'vip', op: 'eq', value: true }, then: 'w' },
        ],
      },
    ]);
    const policy = withPolicy({
      customEvents: [{ event: 'Trial Ending', template: 't', channels: ['email'] }],
    });
    expect([...eventsOfInterest(policy, catalog)].sort()).toEqual(
      [
        'Clicked',
        'Opened',
        'Order Completed',
        'Trial Ending',
        'Unsubscribed',
        'Webinar Joined',
      ].sort(),
    );
  });
});
