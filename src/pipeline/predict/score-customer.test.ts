import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../ports/random.js';
import { createCustomerScorer, scoreCustomer, type ClvModel } from './score-customer.js';
import { simulatePurchaseTimes } from './simulate-purchases.js';

const models: ClvModel[] = [
  // The published CDNOW fit (a < 1) and one with r > a, where the series' terms shrink differently.
  {
    bgNbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
    gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 },
    periodDays: 7,
  },
  {
    bgNbd: { r: 1.8, alpha: 2.5, a: 1.4, b: 6 },
    gammaGamma: { p: 3, q: 5, gamma: 40 },
    periodDays: 1,
  },
];

/** Customers over two years, in whole days (shared (x, T)) or continuous times (none shared). */
const customers = (model: ClvModel, wholeDays: boolean, n: number) => {
  const random = seededRandom(5);
  const perDay = 1 / model.periodDays;
  const round = (t: number) => (wholeDays ? Math.floor(t / perDay) * perDay : t);
  return Array.from({ length: n }, (_, i) => {
    const T = round(random.next() * 730 * perDay);
    const times = simulatePurchaseTimes(model.bgNbd, T, random).map(round);
    return { x: times.length, tx: times.at(-1) ?? 0, T, meanSpend: 10 + (i % 30) };
  });
};

const relative = (a: number | null, b: number | null) =>
  a === null || b === null
    ? a === b
      ? 0
      : Infinity
    : Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('createCustomerScorer', () => {
  for (const [m, model] of models.entries())
    for (const wholeDays of [true, false])
      for (const monthlyDiscount of [0, 0.01])
        it(`agrees with scoreCustomer to 1e-12 (model ${m}, ${wholeDays ? 'whole days' : 'continuous times'}, discount ${monthlyDiscount})`, () => {
          const options = { horizonDays: 90, clvMonths: 12, monthlyDiscount };
          // A small cache: some pairs are kept and reused, the rest computed each time.
          const score = createCustomerScorer(model, options, { cacheSize: 50 });
          let worst = 0;
          for (const h of customers(model, wholeDays, 3000)) {
            const fast = score(h);
            const reference = scoreCustomer(model, h, options);
            expect(fast.pAlive).toBe(reference.pAlive);
            expect(fast.expectedSpend).toBe(reference.expectedSpend);
            worst = Math.max(
              worst,
              relative(fast.expectedPurchases, reference.expectedPurchases),
              relative(fast.clv, reference.clv),
            );
          }
          expect(worst).toBeLessThan(1e-12);
        });

  it('has no CLV without a spend model, like scoreCustomer', () => {
    const noSpend: ClvModel = {
      bgNbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
      periodDays: 7,
    };
    const h = { x: 2, tx: 10, T: 30, meanSpend: 20 };
    const options = { horizonDays: 90, clvMonths: 12, monthlyDiscount: 0.01 };
    expect(createCustomerScorer(noSpend, options)(h).clv).toBeNull();
    expect(scoreCustomer(noSpend, h, options).clv).toBeNull();
  });
});
