import { describe, expect, it } from 'vitest';
import { checkTrainingGate, defaultTrainingGate } from './data-gate.js';

const DAY_MS = 86_400_000;
const cutoffMs = Date.UTC(2026, 5, 1);

describe('the training data gate', () => {
  it('takes no history from one old order beside hundreds of new customers', () => {
    const recent = Array.from({ length: 600 }, (_, i) => ({
      customerId: `c${String(i)}`,
      atMs: cutoffMs - 7 * DAY_MS,
      value: 20,
    }));
    const testOrder = { customerId: 'test', atMs: cutoffMs - 200 * DAY_MS, value: 1 };
    const checked = checkTrainingGate([testOrder, ...recent], cutoffMs, defaultTrainingGate);
    expect(checked.firstMs).toBe(testOrder.atMs);
    expect(checked.historyDays).toBe(7);
    expect(checked.shortfalls).toEqual(['7 days of order history for 50 customers (needs ≥ 180)']);
  });

  it('passes when 50 customers had ordered 180 days before the cutoff', () => {
    const old = Array.from({ length: 50 }, (_, i) => ({
      customerId: `old${String(i)}`,
      atMs: cutoffMs - (180 + i) * DAY_MS,
      value: 20,
    }));
    const recent = Array.from({ length: 450 }, (_, i) => ({
      customerId: `new${String(i)}`,
      atMs: cutoffMs - DAY_MS,
      value: 20,
    }));
    const checked = checkTrainingGate([...recent, ...old], cutoffMs, defaultTrainingGate);
    expect(checked).toMatchObject({ orderingCustomers: 500, historyDays: 180, shortfalls: [] });
  });
});
