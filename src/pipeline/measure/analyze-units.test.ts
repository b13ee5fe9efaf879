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
    const t = sums('treatment', treated);
    const h = sums('holdout', held);
    const result = analyzeUnits('holdout', [h, t], { holdout: 1, treatment: 1 });
    if (!result.ok) throw new Error(result.reason);
    const revenue = result.analysis.metrics.find((m) => m.name === 'revenue');
    const lift = revenue?.comparisons[0]?.absoluteLift;
    const incremental = incrementalRevenue(t, h);
    expect(lift).toBeDefined();
    expect(incremental?.estimate).toBeCloseTo((lift?.estimate ?? NaN) * 12, 9);
    expect(incremental?.lower).toBeCloseTo((lift?.lower ?? NaN) * 12, 9);
    expect(incremental?.upper).toBeCloseTo((lift?.upper ?? NaN) * 12, 9);
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
    expect(incrementalRevenue(sums('t', [5, 5]), sums('h', [0, 0]))).toEqual({
      estimate: 10,
      lower: 10,
      upper: 10,
    });
  });
});
