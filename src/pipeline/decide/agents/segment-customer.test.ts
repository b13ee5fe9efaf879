import { describe, expect, it } from 'vitest';
import type { ProfileState } from '../../../core/profile.js';
import {
  aComputed,
  aState,
  anOrders,
  daysMs,
  defaultDecidePolicy,
  t0,
  toComputed,
} from '../test-builders.js';
import { segmentCustomer, segmentNames } from './segment-customer.js';

const segments = defaultDecidePolicy().segments;
const ago = (days: number): number => t0 - daysMs(days);

/** A customer first seen long ago, active `inactiveDays` ago. */
const established = (inactiveDays: number, overrides: Partial<ProfileState> = {}) =>
  aState({ firstSeenAtMs: ago(400), lastActiveAtMs: ago(inactiveDays), ...overrides });

const highValue = aComputed({ monetary: 800, recencyDays: 10, frequency: 4 });

describe('segmentCustomer', () => {
  it('puts a customer inactive for 90 days or more in Dormant', () => {
    expect(segmentCustomer(established(90), highValue, t0, segments)).toBe('Dormant');
    expect(segmentCustomer(established(300), aComputed(), t0, segments)).toBe('Dormant');
  });

  it('puts a customer inactive for 60 to 90 days in At-Risk', () => {
    expect(segmentCustomer(established(60), highValue, t0, segments)).toBe('At-Risk');
    expect(segmentCustomer(established(89.9), aComputed(), t0, segments)).toBe('At-Risk');
  });

  it('counts a customer who never acted as inactive since first seen', () => {
    const never = aState({ firstSeenAtMs: ago(70), lastActiveAtMs: null });
    expect(segmentCustomer(never, aComputed(), t0, segments)).toBe('At-Risk');
  });

  it('puts a customer first seen under 30 days ago with at most one order in New', () => {
    const fresh = aState({ firstSeenAtMs: ago(10), lastActiveAtMs: ago(1) });
    expect(segmentCustomer(fresh, aComputed({ frequency: 0 }), t0, segments)).toBe('New');
    expect(
      segmentCustomer(
        fresh,
        aComputed({ frequency: 1, monetary: 900, recencyDays: 1 }),
        t0,
        segments,
      ),
    ).toBe('New');
    expect(segmentCustomer(fresh, aComputed({ frequency: 2 }), t0, segments)).toBe('Standard');
    const month = aState({ firstSeenAtMs: ago(30), lastActiveAtMs: ago(1) });
    expect(segmentCustomer(month, aComputed({ frequency: 0 }), t0, segments)).toBe('Standard');
  });

  /** A customer active 2 days ago whose last of `count` orders was `days` ago. */
  const orderedAgo = (days: number, count = 4) =>
    established(2, { orders: anOrders({ count, revenueCents: 80_000, lastAtMs: ago(days) }) });

  it('puts a recent buyer with $500 or more in High-Value Recent', () => {
    expect(segmentCustomer(orderedAgo(10), highValue, t0, segments)).toBe('High-Value Recent');
    const edge = aComputed({ monetary: 500, recencyDays: 30, frequency: 2 });
    expect(segmentCustomer(orderedAgo(30), edge, t0, segments)).toBe('High-Value Recent');
  });

  it('keeps big spenders without a recent order in Standard', () => {
    const big = aComputed({ monetary: 800 });
    expect(segmentCustomer(orderedAgo(31), big, t0, segments)).toBe('Standard');
    expect(segmentCustomer(established(2), big, t0, segments)).toBe('Standard');
    // Every order cancelled: none counted, none recent.
    expect(segmentCustomer(orderedAgo(1, 0), big, t0, segments)).toBe('Standard');
    expect(segmentCustomer(orderedAgo(1), aComputed({ monetary: 499.99 }), t0, segments)).toBe(
      'Standard',
    );
  });

  it('compares the days since the last order in fractions, as the other rules do', () => {
    // 30 days and an hour, or 30.96 days: no longer within 30 days (recencyDays reads 30).
    for (const days of [30 + 1 / 24, 30.96]) {
      const state = orderedAgo(days);
      const computed = toComputed(state, t0);
      expect(computed.recencyDays).toBe(30);
      expect(segmentCustomer(state, { ...computed, monetary: 800 }, t0, segments)).toBe('Standard');
    }
    const state = orderedAgo(29.96);
    expect(segmentCustomer(state, { ...toComputed(state, t0), monetary: 800 }, t0, segments)).toBe(
      'High-Value Recent',
    );
  });

  it('names every segment it can return', () => {
    expect([...segmentNames].sort()).toEqual(
      ['At-Risk', 'Dormant', 'High-Value Recent', 'New', 'Standard'].sort(),
    );
  });
});
