import { describe, expect, it } from 'vitest';
import { customerLifetimeValue } from './clv.js';
import { scoreCustomer } from './score-customer.js';

describe('customerLifetimeValue', () => {
  it('is purchases × spend without discounting', () => {
    expect(customerLifetimeValue((m) => 0.5 * m, 40, 12)).toBeCloseTo(0.5 * 12 * 40, 10);
  });

  it('discounts each month’s purchases at the month’s end', () => {
    const value = customerLifetimeValue((m) => m, 100, 2, 0.01);
    expect(value).toBeCloseTo(100 / 1.01 + 100 / 1.01 ** 2, 10);
  });
});

describe('scoreCustomer', () => {
  const model = {
    bgNbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
    gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 },
    periodDays: 7,
  };

  it('scores a customer with P(alive), purchases, spend and CLV', () => {
    const score = scoreCustomer(
      model,
      { x: 2, tx: 30.43, T: 38.86, meanSpend: 30 },
      { horizonDays: 273, clvMonths: 12 },
    );
    expect(score.pAlive).toBeGreaterThan(0.7);
    // 273 days = 39 weeks: the paper's eq. 10 at t = 39 (see bg-nbd.test.ts).
    expect(score.expectedPurchases).toBeCloseTo(1.22602817476714, 10);
    expect(score.expectedSpend).toBeCloseTo(((15.44 + 60) * 6.25) / (12.5 + 2.74), 10);
    expect(score.clv).toBeGreaterThan(0);
  });

  it('has no spend or CLV without a spend model', () => {
    const score = scoreCustomer(
      { bgNbd: model.bgNbd, periodDays: 7 },
      { x: 0, tx: 0, T: 10, meanSpend: 0 },
      { horizonDays: 90, clvMonths: 12 },
    );
    expect(score).toMatchObject({ pAlive: 1, expectedSpend: null, clv: null });
  });
});
