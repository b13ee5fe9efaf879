import { describe, expect, it } from 'vitest';
import { aTrack, applyAll, daysMs, t0 } from '../../profile/test-builders.js';
import { orderFactsOf } from './live-churn-model.js';

const order = (id: string, day: number) =>
  aTrack('Order Completed', { order_id: id, total: 50 }, { timestampMs: t0 + daysMs(day) });
const cancel = (id: string, day: number) =>
  aTrack('Order Cancelled', { order_id: id }, { timestampMs: t0 + daysMs(day) });

describe('orderFactsOf', () => {
  it('dates a customer from their first order that still counts, as training reads the orders', () => {
    // Training reads the orders table without cancelled orders: only B (day 300) is there.
    const firstCancelled = orderFactsOf(
      applyAll([order('A', 0), order('B', 300), cancel('A', 301)]),
    );
    expect(firstCancelled).toMatchObject({
      firstOrderAtMs: t0 + daysMs(300),
      lastOrderAtMs: t0 + daysMs(300),
      orders: 1,
    });
    // A later one cancelled leaves the first where it was.
    expect(
      orderFactsOf(applyAll([order('A', 0), order('B', 300), cancel('B', 301)])),
    ).toMatchObject({ firstOrderAtMs: t0, lastOrderAtMs: t0, orders: 1 });
  });
});
