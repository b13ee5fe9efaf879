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
// For intervals each rate is p̃ = (x + ½)/(n + 1), and p̃q̃ is 0.0400827 (10/250), 0.0295411
// (30/1000), 0.127745 (150/1000) and 0.0750028 (20/250), so
// V̂ = 200²·(0.0400827/250 + 0.0295411/1000 + 0.127745/1000 + 0.0750028/250) / 400² = 1.54407e-4.
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
    expectClose(s.unpooledVariance, 1.5440691762670403e-4, 1e-9);
    // Standardised rates: (0.04 + 0.15)/2 and (0.03 + 0.08)/2; their variances, each from its
    // own arm, 200²·(0.0400827/250 + 0.127745/1000)/400² and 200²·(0.0295411/1000 + 0.0750028/250)/400².
    expectClose(s.treatmentRate, 0.095, 1e-12);
    expectClose(s.controlRate, 0.055, 1e-12);
    expectClose(s.treatmentRateVariance, 7.20188553473931e-5, 1e-9);
    expectClose(s.controlRateVariance, 8.238806227931097e-5, 1e-9);
  });

  it('gives the difference its own spread where V, under H₀, has none (0/40 against 0/40)', () => {
    const s = stratifiedDifference([
      { treatment: { successes: 0, trials: 40 }, control: { successes: 0, trials: 40 } },
    ]);
    expect(s).not.toBeNull();
    if (s === null) return;
    expect(s.variance).toBe(0);
    // w = 20, p̃ = ½/41 in both arms: V̂ = 20²·2·p̃q̃/40 / 20² = (½·40½/41²)/20.
    expectClose(s.unpooledVariance, 20.25 / 1681 / 20, 1e-12);
    expectClose(s.treatmentRateVariance, 20.25 / 1681 / 40, 1e-12);
    expectClose(s.controlRateVariance, 20.25 / 1681 / 40, 1e-12);
  });

  it('is the variance of the difference of two independent rates on a single stratum', () => {
    // 30 % of 200 against 5 % of 4,000: √V̂ is within a part in a thousand of √(p₁q₁/n₁ + p₂q₂/n₂),
    // where under H₀ (the pooled 6.2 %) √V is little more than half of it.
    const s = stratifiedDifference([
      { treatment: { successes: 60, trials: 200 }, control: { successes: 200, trials: 4000 } },
    ]);
    expect(s).not.toBeNull();
    if (s === null) return;
    const wald = Math.sqrt((0.3 * 0.7) / 200 + (0.05 * 0.95) / 4000);
    expectClose(Math.sqrt(s.unpooledVariance), wald, 1e-3);
    expect(Math.sqrt(s.variance)).toBeLessThan(0.6 * wald);
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
    // with τ² = 1e-4; θ̂ ± 1.95996·√V̂; the standardised rates' ratio by the delta method on its
    // log; with ẑ = θ̂/√V̂, Φ(ẑ) and √V̂·φ(ẑ) − θ̂·Φ(−ẑ).
    expect(stratified).toBeDefined();
    if (stratified === undefined) return;
    expectClose(stratified.absoluteLift.estimate, 0.04, 1e-12);
    expectClose(stratified.absoluteLift.lower, 0.01564537383384229, 1e-9);
    expectClose(stratified.absoluteLift.upper, 0.0643546261661577, 1e-9);
    expectClose(stratified.p, 0.003323659831140873, 1e-9);
    expectClose(stratified.logP, -5.706688744427647, 1e-9);
    expectClose(stratified.alwaysValidP, 0.27424725901563496, 1e-9);
    expectClose(stratified.relativeLift.estimate, 0.7272727272727273, 1e-12);
    expectClose(stratified.relativeLift.lower, 0.19570996680110958, 1e-9);
    expectClose(stratified.relativeLift.upper, 1.4951461116961868, 1e-9);
    expectClose(stratified.chanceToBeatControl, 0.9993569013019379, 1e-9);
    expectClose(stratified.expectedLoss ?? NaN, 2.144563996222546e-6, 1e-6);
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
