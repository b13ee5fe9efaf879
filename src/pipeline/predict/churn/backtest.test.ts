import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../ports/random.js';
import { simulatePurchaseTimes } from '../simulate-purchases.js';
import type { Transaction } from '../summarise-transactions.js';
import { backtestChurn } from './backtest.js';

const DAY_MS = 86_400_000;
const start = Date.UTC(2024, 0, 1);

/** 3,000 BG/NBD customers acquired over 12 weeks, followed for 400 days. */
const simulatedTransactions = (): Transaction[] => {
  const random = seededRandom(11);
  const out: Transaction[] = [];
  for (let c = 0; c < 3000; c++) {
    const first = start + Math.floor(random.next() * 84) * DAY_MS;
    const weeks = (start + 400 * DAY_MS - first) / (7 * DAY_MS);
    for (const t of [
      0,
      ...simulatePurchaseTimes({ r: 0.6, alpha: 4, a: 0.8, b: 2.5 }, weeks, random),
    ])
      out.push({ customerId: `c${c}`, atMs: first + Math.floor(t * 7) * DAY_MS, value: 20 });
  }
  return out;
};

describe('backtestChurn', () => {
  const transactions = simulatedTransactions();
  const report = backtestChurn(transactions, {
    splitMs: start + 200 * DAY_MS,
    ruleScore: (f) => Math.min(1, f.daysSinceLastOrder / 90),
  });

  it('scores every customer at the split with each scorer and an honest base rate', () => {
    expect(report.customers).toBe(3000);
    expect(report.untilMs).toBe(start + 400 * DAY_MS);
    expect(Object.keys(report.scorers)).toEqual(['logistic', 'P(no purchase)', 'rule-based']);
    expect(report.churnRate).toBeGreaterThan(0.3);
    expect(report.churnRate).toBeLessThan(0.95);
    expect(report.logistic.converged).toBe(true);
  });

  it('learns a churn model that ranks better than chance and is calibrated in the mean', () => {
    const logistic = report.scorers['logistic'];
    expect(logistic?.auc).toBeGreaterThan(0.65);
    // A calibrated model's Brier score beats predicting the base rate for everyone.
    expect(logistic?.brier).toBeLessThan(report.churnRate * (1 - report.churnRate));
    const bins = logistic?.calibration ?? [];
    const predicted = bins.reduce((s, b) => s + b.meanPredicted * b.count, 0) / 3000;
    expect(Math.abs(predicted - report.churnRate)).toBeLessThan(0.05);
  });

  it('forecasts the evaluation period’s purchases and spend', () => {
    const f = report.forecast;
    expect(f.predictedPurchases / f.actualPurchases).toBeGreaterThan(0.8);
    expect(f.predictedPurchases / f.actualPurchases).toBeLessThan(1.25);
    // Two purchases on one day are one transaction worth 40.
    expect(f.actualValue).toBeGreaterThanOrEqual(f.actualPurchases * 20);
    expect(f.predictedValue ?? 0).toBeGreaterThan(0.8 * f.actualValue);
    expect(f.predictedValue ?? 0).toBeLessThan(1.25 * f.actualValue);
  });

  it('refuses a split too early to learn from', () => {
    expect(() => backtestChurn(transactions, { splitMs: start + 30 * DAY_MS })).toThrow(RangeError);
  });

  it('refuses an evaluation that ends before it starts, or churn judged past the history', () => {
    const splitMs = start + 200 * DAY_MS;
    for (const untilMs of [splitMs - 30 * DAY_MS, splitMs])
      expect(() => backtestChurn(transactions, { splitMs, untilMs })).toThrow(
        /the evaluation must end after the split/,
      );
    // The history ends on day 400 at the latest: 90 days after day 350 are not all in it.
    expect(() => backtestChurn(transactions, { splitMs: start + 350 * DAY_MS })).toThrow(
      /before the 90 days after the split/,
    );
  });
});
