import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import { DAY_MS } from '../../core/time.js';
import type { ModelStore, StoredOrder } from '../../ports/model-store.js';
import { seededRandom } from '../../ports/random.js';
import { checkDrift } from './check-drift.js';
import { populationStability, sharesIn, toBins } from './feature-bins.js';
import { trainClvModel } from './train-clv-model.js';

describe('population stability', () => {
  it('is 0 for the same distribution and grows with the shift', () => {
    const random = seededRandom(3);
    const base = Array.from({ length: 5000 }, () => random.next());
    const bins = toBins(base);
    expect(bins.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(populationStability(bins.shares, sharesIn(base, bins.edges))).toBe(0);
    const slightly = base.map((v) => v + 0.02);
    const far = base.map((v) => v + 0.5);
    const small = populationStability(bins.shares, sharesIn(slightly, bins.edges));
    const large = populationStability(bins.shares, sharesIn(far, bins.edges));
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(0.1);
    expect(large).toBeGreaterThan(0.25);
  });

  it('keeps one bin per repeated value of a discrete feature', () => {
    const bins = toBins([0, 0, 0, 0, 0, 0, 0, 1, 1, 2]);
    expect(bins.edges).toEqual([0, 1, 2]);
    expect(bins.shares).toEqual([0.7, 0.2, 0.1, 0]);
  });
});

describe('checkDrift', () => {
  const start = Date.UTC(2024, 0, 1);
  /** Customers buying every `gapDays` (± noise) from their first day, up to `untilMs`. */
  const ordersOf = (
    prefix: string,
    customers: number,
    gapDays: number,
    untilMs: number,
    seed: number,
  ) => {
    const random = seededRandom(seed);
    const orders: StoredOrder[] = [];
    for (let c = 0; c < customers; c += 1) {
      let at = start + Math.floor(random.next() * 60) * DAY_MS;
      for (let n = 0; at < untilMs; n += 1) {
        orders.push({
          orderId: `${prefix}-${c}-${n}`,
          customerId: toCustomerId(`${prefix}${c}`),
          placedAtMs: at,
          totalCents: 2000 + Math.floor(random.next() * 3000),
        });
        at += Math.max(1, Math.round(gapDays * (0.5 + random.next()))) * DAY_MS;
      }
    }
    return orders;
  };
  const storeOf = (orders: StoredOrder[]): Pick<ModelStore, 'listOrders' | 'saveModel'> => {
    const sorted = [...orders].sort((a, b) => (a.orderId < b.orderId ? -1 : 1));
    return {
      listOrders: (after, limit) =>
        Promise.resolve(sorted.filter((o) => after === null || o.orderId > after).slice(0, limit)),
      saveModel: (draft) => Promise.resolve({ ...draft, version: 1 }),
    };
  };

  it('finds no drift in the training window itself and a shift once buying changes', async () => {
    const cutoff = start + 200 * DAY_MS;
    const before = ordersOf('a', 600, 30, cutoff, 1);
    const version = await trainClvModel(storeOf(before), { nowMs: cutoff });
    expect(version.status).toBe('trained');
    const same = await checkDrift(storeOf(before), version, cutoff);
    expect(same.map((d) => d.feature).sort()).toEqual([
      'age',
      'frequency',
      'meanSpend',
      'recency',
      'sinceLastPurchase',
    ]);
    expect(same.every((d) => d.psi === 0 && d.level === 'stable')).toBe(true);
    // A wave of new customers buying every few days.
    const later = [
      ...before,
      ...ordersOf('b', 900, 3, cutoff, 2).map((o) => ({
        ...o,
        placedAtMs: o.placedAtMs + 100 * DAY_MS,
      })),
    ].filter((o) => o.placedAtMs < cutoff);
    const drift = await checkDrift(storeOf(later), version, cutoff);
    expect(drift.find((d) => d.feature === 'frequency')?.level).toBe('shifted');
  });

  it('has nothing to compare for a version without stored bins', async () => {
    const refused = await trainClvModel(storeOf([]), { nowMs: start });
    expect(await checkDrift(storeOf([]), refused, start)).toEqual([]);
  });
});
