import { describe, expect, it } from 'vitest';
import type { KeptOrder, ProfileState } from '../../../core/profile.js';
import { orderFactsOf } from './live-churn-model.js';

const DAY_MS = 86_400_000;
const t0 = Date.UTC(2026, 0, 1);

/** A profile's orders as the profile stage keeps them: `kept`, the cancelled ones marked. */
const withOrders = (kept: KeptOrder[], firstAtMs: number): ProfileState => {
  const counting = kept.filter((k) => k.cancelled !== true);
  return {
    orders: {
      count: counting.length,
      revenueCents: kept.reduce((sum, k) => sum + k.cents, 0),
      refundedCents: kept.reduce((sum, k) => sum + k.refundedCents, 0),
      firstAtMs,
      lastAtMs: Math.max(...counting.map((k) => k.atMs)),
      kept,
    },
  } as ProfileState;
};
const order = (id: string, day: number, cancelled = false): KeptOrder => ({
  id,
  cents: 5000,
  atMs: t0 + day * DAY_MS,
  refundedCents: cancelled ? 5000 : 0,
  ...(cancelled ? { cancelled: true as const } : {}),
});

describe('orderFactsOf', () => {
  it('dates a customer from their first order that still counts, as training reads the orders', () => {
    // Training reads the orders table without cancelled orders: only B (day 300) is there. The
    // profile's firstAtMs stays at A's day 0, which a cancellation does not move.
    expect(orderFactsOf(withOrders([order('A', 0, true), order('B', 300)], t0))).toMatchObject({
      firstOrderAtMs: t0 + 300 * DAY_MS,
      lastOrderAtMs: t0 + 300 * DAY_MS,
      orders: 1,
    });
    // A later one cancelled leaves the first where it was.
    expect(orderFactsOf(withOrders([order('A', 0), order('B', 300, true)], t0))).toMatchObject({
      firstOrderAtMs: t0,
      orders: 1,
    });
    // Counting orders older than those kept: the first of all stands.
    const older = withOrders([order('B', 300)], t0);
    expect(orderFactsOf({ ...older, orders: { ...older.orders, count: 2 } })?.firstOrderAtMs).toBe(
      t0,
    );
  });
});
