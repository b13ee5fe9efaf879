import { describe, expect, it } from 'vitest';
import { summariseTransactions } from './summarise-transactions.js';

const day = (d: number) => Date.UTC(2024, 0, 1) + d * 86_400_000;

describe('summariseTransactions', () => {
  const window = { cutoffMs: day(70), holdoutEndMs: day(100), periodDays: 7 };

  it('counts purchase days after the first, in periods, up to the cutoff', () => {
    const [s] = summariseTransactions(
      [
        { customerId: 'c', atMs: day(0) + 5000, value: 10 },
        { customerId: 'c', atMs: day(14), value: 20 },
        { customerId: 'c', atMs: day(14) + 3600_000, value: 4 },
        { customerId: 'c', atMs: day(35), value: 30 },
      ],
      window,
    );
    // Day 0, day 14 (two orders, one transaction of 24) and day 35; the last day before the
    // cutoff is day 69.
    expect(s).toMatchObject({ customerId: 'c', x: 2, tx: 5, T: 69 / 7, meanSpend: 27 });
  });

  it('keeps the holdout apart and leaves out customers who first buy after the cutoff', () => {
    const summaries = summariseTransactions(
      [
        { customerId: 'c', atMs: day(80), value: 5 },
        { customerId: 'c', atMs: day(10), value: 10 },
        { customerId: 'c', atMs: day(90), value: 7 },
        { customerId: 'c', atMs: day(120), value: 99 },
        { customerId: 'late', atMs: day(75), value: 1 },
      ],
      window,
    );
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ x: 0, tx: 0, meanSpend: 0 });
    expect(summaries[0]).toMatchObject({ holdoutPurchases: 2, holdoutValue: 12 });
  });
});
