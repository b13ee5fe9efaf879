import { describe, expect, it } from 'vitest';
import type { ProfileState } from '../../../core/profile.js';
import { aComputed, aState, anOrders, daysMs, defaultDecidePolicy, t0 } from '../test-builders.js';
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

  it('puts a recent buyer with $500 or more in High-Value Recent', () => {
    const state = established(2, { orders: anOrders({ count: 4, revenueCents: 80_000 }) });
    expect(segmentCustomer(state, highValue, t0, segments)).toBe('High-Value Recent');
    const edge = aComputed({ monetary: 500, recencyDays: 30, frequency: 2 });
    expect(segmentCustomer(state, edge, t0, segments)).toBe('High-Value Recent');
  });

  it('keeps big spenders without a recent order in Standard', () => {
    const state = established(2);
    expect(
      segmentCustomer(state, aComputed({ monetary: 800, recencyDays: 31 }), t0, segments),
    ).toBe('Standard');
    expect(
      segmentCustomer(state, aComputed({ monetary: 800, recencyDays: null }), t0, segments),
    ).toBe('Standard');
    expect(
      segmentCustomer(state, aComputed({ monetary: 499.99, recencyDays: 1 }), t0, segments),
    ).toBe('Standard');
  });

  it('names every segment it can return', () => {
    expect([...segmentNames].sort()).toEqual(
      ['At-Risk', 'Dormant', 'High-Value Recent', 'New', 'Standard'].sort(),
    );
  });
});
