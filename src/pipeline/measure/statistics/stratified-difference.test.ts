import { describe, expect, it } from 'vitest';
import { compareBinary } from '../compare-metric.js';
import { expectClose } from './expect-close.js';
import { stratifiedDifference } from './stratified-difference.js';

// Two days of a test whose weights moved from control to treatment while the rate rose:
//   day 1: control 30/1000, treatment 10/250;   day 2: control 20/250, treatment 150/1000;
//   day 3: control 5/100, treatment none (its weight was 0): it counts for nothing.
// By hand: w₁ = w₂ = 1000·250/1250 = 200, so θ̂ = ((0.04 − 0.03) + (0.15 − 0.08))/2 = 0.04;
// p̄₁ = 40/1250 = 0.032, p̄₂ = 170/1250 = 0.136, 1/1000 + 1/250 = 0.005, and
// V = 200²·(0.032·0.968 + 0.136·0.864)·0.005 / 400² = (6.1952 + 23.5008)/160,000 = 1.856e-4.
// Pooled, treatment 160/1250 = 12.8 % against control 55/1350 = 4.07 %: a lift of 8.7 points.
const days = [
  { control: { successes: 30, trials: 1000 }, treatment: { successes: 10, trials: 250 } },
  { control: { successes: 20, trials: 250 }, treatment: { successes: 150, trials: 1000 } },
  { control: { successes: 5, trials: 100 }, treatment: { successes: 0, trials: 0 } },
];

describe('stratifiedDifference', () => {
  it('combines the days with Cochran–Mantel–Haenszel weights, as worked out by hand', () => {
    const s = stratifiedDifference(days);
    expect(s).not.toBeNull();
    if (s === null) return;
    expect(s.strata).toBe(2);
    expectClose(s.difference, 0.04, 1e-12);
    expectClose(s.variance, 1.856e-4, 1e-12);
    // Standardised rates: (0.04 + 0.15)/2 and (0.03 + 0.08)/2; their variances
    // 200²·(0.030976/250 + 0.117504/1000)/400² and 200²·(0.030976/1000 + 0.117504/250)/400².
    expectClose(s.treatmentRate, 0.095, 1e-12);
    expectClose(s.controlRate, 0.055, 1e-12);
    expectClose(s.treatmentRateVariance, 9.65632 / 160_000, 1e-12);
    expectClose(s.controlRateVariance, 20.03968 / 160_000, 1e-12);
  });

  it('has nothing to say without a day on which both arms had units', () => {
    expect(stratifiedDifference([])).toBeNull();
    expect(stratifiedDifference(days.slice(2))).toBeNull();
  });

  it('feeds the mixture SPRT and the intervals of a comparison within days', () => {
    const pooled = {
      control: { successes: 55, trials: 1350 },
      treatment: { successes: 160, trials: 1250 },
    };
    const [stratified] = compareBinary(
      [
        { arm: 'A', data: pooled.control },
        { arm: 'B', data: pooled.treatment },
      ],
      pooled.control,
      { alpha: 0.05 },
      days.map((d) => ({ A: d.control, B: d.treatment })),
    ).comparisons;
    // scipy: z = 0.04/√V = 2.93610, p = 2·norm.sf(z); ln Λ = −½ ln(1 + τ²/V) + θ̂²τ²/(2V(V + τ²))
    // with τ² = 1e-4; θ̂ ± 1.95996·√V; the standardised rates' ratio by the delta method on its
    // log; Φ(z) and √V·φ(z) − θ̂·Φ(−z).
    expect(stratified).toBeDefined();
    if (stratified === undefined) return;
    expectClose(stratified.absoluteLift.estimate, 0.04, 1e-12);
    expectClose(stratified.absoluteLift.lower, 0.013298412835173457, 1e-9);
    expectClose(stratified.absoluteLift.upper, 0.06670158716482655, 1e-9);
    expectClose(stratified.p, 0.003323659831140873, 1e-9);
    expectClose(stratified.logP, -5.706688744427647, 1e-9);
    expectClose(stratified.alwaysValidP, 0.27424725901563496, 1e-9);
    expectClose(stratified.relativeLift.estimate, 0.7272727272727273, 1e-12);
    expectClose(stratified.relativeLift.lower, 0.12381374422215831, 1e-9);
    expectClose(stratified.relativeLift.upper, 1.6547736132602284, 1e-9);
    expectClose(stratified.chanceToBeatControl, 0.9983381700844296, 1e-9);
    expectClose(stratified.expectedLoss ?? NaN, 6.512889970242136e-6, 1e-6);
    // Pooled, the same units show twice the lift and a p-value to promote on.
    const [naive] = compareBinary(
      [
        { arm: 'A', data: pooled.control },
        { arm: 'B', data: pooled.treatment },
      ],
      pooled.control,
      { alpha: 0.05 },
    ).comparisons;
    expect(naive?.absoluteLift.estimate).toBeCloseTo(160 / 1250 - 55 / 1350, 12);
    expect(naive?.alwaysValidP).toBeLessThan(1e-5);
  });
});
