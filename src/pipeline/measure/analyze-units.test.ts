import { describe, expect, it } from 'vitest';
import { analyzeUnits, incrementalRevenue, revenueSummary, type ArmSums } from './analyze-units.js';

/** Per-unit revenues (major units) as the store sums them, in cents. */
const sums = (arm: string, revenues: readonly number[]): ArmSums => ({
  arm,
  units: revenues.length,
  converted: revenues.filter((r) => r > 0).length,
  revenueCents: revenues.reduce((a, r) => a + Math.round(r * 100), 0),
  revenueSquares: revenues.reduce((a, r) => a + Math.round(r * 100) ** 2, 0),
});

const treated = [0, 0, 25, 0, 40, 0, 0, 12.5, 0, 80, 0, 0];
const held = [0, 0, 0, 25, 0, 0, 0, 0];
/** Each value `times` times over: arms large enough to expect a few buyers each. */
const repeat = (values: readonly number[], times: number) =>
  Array.from({ length: times }, () => values).flat();

describe('analysing experiment units from their sums', () => {
  it('recovers the mean and unbiased variance of revenue per unit', () => {
    const s = revenueSummary(sums('t', treated));
    const mean = treated.reduce((a, r) => a + r, 0) / treated.length;
    const variance = treated.reduce((a, r) => a + (r - mean) ** 2, 0) / (treated.length - 1);
    expect(s.n).toBe(12);
    expect(s.mean).toBeCloseTo(mean, 12);
    expect(s.variance).toBeCloseTo(variance, 9);
  });

  it("scales the revenue test's interval to the treated units for the incremental revenue", () => {
    const t = sums('treatment', repeat(treated, 4));
    const h = sums('holdout', repeat(held, 4));
    const result = analyzeUnits('holdout', [h, t], { holdout: 1, treatment: 1 });
    if (!result.ok) throw new Error(result.reason);
    const revenue = result.analysis.metrics.find((m) => m.name === 'revenue');
    const lift = revenue?.comparisons[0]?.absoluteLift;
    const incremental = incrementalRevenue(t, h);
    expect(lift).toBeDefined();
    expect(Number.isFinite(lift?.lower)).toBe(true);
    expect(incremental?.estimate).toBeCloseTo((lift?.estimate ?? NaN) * 48, 9);
    expect(incremental?.lower).toBeCloseTo((lift?.lower ?? NaN) * 48, 9);
    expect(incremental?.upper).toBeCloseTo((lift?.upper ?? NaN) * 48, 9);
  });

  it('says why there is no analysis yet instead of failing', () => {
    expect(analyzeUnits('a', [sums('a', []), sums('b', [1, 2])], { a: 1, b: 1 })).toEqual({
      ok: false,
      reason: 'no units yet in a',
    });
    // No revenue anywhere: conversion only.
    const flat = analyzeUnits('a', [sums('a', [0, 0, 0]), sums('b', [0, 0])], { a: 1, b: 1 });
    expect(flat.ok && flat.analysis.metrics.map((m) => m.name)).toEqual(['conversion']);
    expect(incrementalRevenue(sums('t', [5]), sums('h', [0, 0]))).toBeNull();
    // Two units an arm expect no buyer to measure a spread by: no interval.
    expect(incrementalRevenue(sums('t', [5, 5]), sums('h', [0, 0]))).toEqual({
      estimate: 10,
      lower: -Infinity,
      upper: Infinity,
    });
  });

  it('finds no evidence in revenue while an arm expects too few buyers, as in conversion', () => {
    // A 1 % holdout at 0.2 %: 200 units without a buyer (two times in three at that rate)
    // against 19,800 with 40 buyers of $50 each.
    const buyers = (units: number, bought: number) =>
      sums('x', [...Array<number>(bought).fill(50), ...Array<number>(units - bought).fill(0)]);
    const h = { ...buyers(200, 0), arm: 'holdout' };
    const t = { ...buyers(19_800, 40), arm: 'treatment' };
    const result = analyzeUnits('holdout', [h, t], { holdout: 1, treatment: 99 });
    if (!result.ok) throw new Error(result.reason);
    const [conversion, revenue] = result.analysis.metrics.map((m) => m.comparisons[0]);
    expect(conversion?.p).toBeGreaterThan(0.05);
    expect(revenue).toMatchObject({
      p: 1,
      alwaysValidP: 1,
      absoluteLift: { lower: -Infinity, upper: Infinity },
      relativeLift: { lower: -Infinity, upper: Infinity },
    });
    expect(incrementalRevenue(t, h)).toMatchObject({ lower: -Infinity, upper: Infinity });
    // Fifteen times the holdout, at the same rates: enough buyers expected, and an answer.
    const large = { ...buyers(3_000, 6), arm: 'holdout' };
    const measured = analyzeUnits('holdout', [large, t], { holdout: 1, treatment: 6.6 });
    if (!measured.ok) throw new Error(measured.reason);
    const lift = measured.analysis.metrics[1]?.comparisons[0];
    expect(Number.isFinite(lift?.absoluteLift.lower)).toBe(true);
    expect(lift?.p).toBeLessThan(1);
    expect(Number.isFinite(incrementalRevenue(t, large)?.lower)).toBe(true);
  });
});
