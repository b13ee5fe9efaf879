import { describe, expect, it } from 'vitest';
import { toChurnFeatures, toChurnRow } from './churn-features.js';

const DAY_MS = 86_400_000;
const day0 = Date.UTC(2026, 0, 5);
const model = {
  bgNbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
  periodDays: 7,
  churnDays: 90,
};
// Orders on days 0 and 28; now is day 56 at noon, the day T and recency count to.
const facts = {
  firstOrderAtMs: day0,
  lastOrderAtMs: day0 + 28 * DAY_MS,
  orders: 2,
  totalValue: 60,
};
const now = day0 + 56 * DAY_MS + DAY_MS / 2;

describe('toChurnFeatures', () => {
  it('counts whole days as the summaries do, and reads the activity the profile had', () => {
    const f = toChurnFeatures(facts, now, model, {
      engagementScore: 0.35,
      daysSinceActive: 3.5,
      cartValue: 40,
      responsesByChannel: { email: 3, sms: 0, push: 2 },
    });
    expect(f).toMatchObject({
      daysSinceLastOrder: 28,
      tenureDays: 56,
      orders: 2,
      totalValue: 60,
      engagementScore: 0.35,
      daysSinceActive: 3.5,
      cartValue: 40,
      responses: 5,
      respondingChannels: 2,
    });
    // P(alive) for x = 1, t_x = 4 weeks, T = 8 weeks (eq. 11).
    const { r, alpha, a, b } = model.bgNbd;
    const pAlive = 1 / (1 + (a / b) * ((alpha + 8) / (alpha + 4)) ** (r + 1));
    expect(f.pAlive).toBeCloseTo(pAlive, 12);
    expect(toChurnRow(f)).toHaveLength(11);
  });

  it('gives the BG/NBD probability of no purchase in the churn window, counted in model periods', () => {
    const f = toChurnFeatures(facts, now, model);
    // Dropped out, or alive with λ ~ Gamma(r+x, α+T) and silent for 90 days = 90/7 weeks.
    const { r, alpha, a, b } = model.bgNbd;
    const pAlive = 1 / (1 + (a / b) * ((alpha + 8) / (alpha + 4)) ** (r + 1));
    const silentIfAlive = ((alpha + 8) / (alpha + 8 + 90 / 7)) ** (r + 1);
    expect(f.pNoPurchase).toBeCloseTo(1 - pAlive + pAlive * silentIfAlive, 12);
    // A one-time buyer is alive for sure under the BG/NBD, and still likely to buy nothing.
    const oneTime = toChurnFeatures({ ...facts, lastOrderAtMs: day0, orders: 1 }, now, model);
    expect(oneTime.pAlive).toBe(1);
    expect(oneTime.pNoPurchase).toBeCloseTo(((alpha + 8) / (alpha + 8 + 90 / 7)) ** r, 12);
  });

  it('falls back to neutral activity without a profile: no engagement, no cart, last order', () => {
    expect(toChurnFeatures(facts, now, model)).toMatchObject({
      engagementScore: 0,
      daysSinceActive: 28,
      cartValue: 0,
      responses: 0,
      respondingChannels: 0,
    });
  });
});
