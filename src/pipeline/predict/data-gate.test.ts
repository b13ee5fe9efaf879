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
    expect(checked.shortfalls).toEqual([
      '7 days of order history for 50 customers (needs ≥ 180)',
      '0 customers with a repeat purchase (needs ≥ 20)',
    ]);
  });

  it('passes when 50 customers had ordered 180 days before the cutoff, and 20 came back', () => {
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
    const repeats = old.slice(0, 20).map((t) => ({ ...t, atMs: cutoffMs - 10 * DAY_MS }));
    const checked = checkTrainingGate(
      [...recent, ...old, ...repeats],
      cutoffMs,
      defaultTrainingGate,
    );
    expect(checked).toMatchObject({
      orderingCustomers: 500,
      historyDays: 180,
      repeatCustomers: 20,
      shortfalls: [],
    });
  });

  it('refuses too few customers who bought on a second day, saying how many and how many needed', () => {
    const once = Array.from({ length: 500 }, (_, i) => ({
      customerId: `c${String(i)}`,
      atMs: cutoffMs - (1 + (i % 300)) * DAY_MS,
      value: 20,
    }));
    const back = once.slice(1, 20).map((t) => ({ ...t, atMs: cutoffMs - 12 * 3_600_000 }));
    // Another order on the same UTC day, and one at the cutoff, are no repeat purchase.
    const sameDay = { ...once[100], atMs: (once[100]?.atMs ?? 0) + 3_600_000 } as (typeof once)[0];
    const atCutoff = { ...once[200], atMs: cutoffMs } as (typeof once)[0];
    const checked = checkTrainingGate([...once, ...back, sameDay, atCutoff], cutoffMs, {
      ...defaultTrainingGate,
    });
    expect(checked.repeatCustomers).toBe(19);
    expect(checked.shortfalls).toEqual(['19 customers with a repeat purchase (needs ≥ 20)']);
    expect(
      checkTrainingGate(once, cutoffMs, { ...defaultTrainingGate, minRepeatCustomers: 0 })
        .shortfalls,
    ).toEqual([]);
  });
});
