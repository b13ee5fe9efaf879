import { studentTSf } from './student-t-sf.js';
import { toTwoSided } from './tail-probability.js';

/** Summary statistics of a numeric metric in one arm (e.g. revenue per exposed customer). */
export interface SampleSummary {
  n: number;
  mean: number;
  /** The unbiased sample variance, Σ(x − x̄)² / (n − 1). */
  variance: number;
}

export interface WelchTestResult {
  /** x̄₁ − x̄₂, treatment minus control. */
  difference: number;
  /** √(s₁²/n₁ + s₂²/n₂). */
  standardError: number;
  t: number;
  /** Welch–Satterthwaite degrees of freedom (not an integer in general). */
  df: number;
  /** Two-sided p-value 2·Pr(T_df ≥ |t|). */
  p: number;
  logP: number;
}

const assertSummary = (summary: SampleSummary, name: string): void => {
  if (!Number.isInteger(summary.n) || summary.n < 2) {
    throw new RangeError(`${name}: n must be an integer ≥ 2, got ${summary.n}`);
  }
  if (!Number.isFinite(summary.mean)) throw new RangeError(`${name}: mean must be finite`);
  if (!Number.isFinite(summary.variance) || summary.variance < 0) {
    throw new RangeError(`${name}: variance must be finite and ≥ 0, got ${summary.variance}`);
  }
};

/**
 * Welch's unequal-variance t-test of H₀: μ₁ = μ₂ from summary statistics, with a two-sided
 * p-value that does not underflow.
 * Formula: t = (x̄₁ − x̄₂) / √(s₁²/n₁ + s₂²/n₂), ν = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁ − 1) +
 * (s₂²/n₂)²/(n₂ − 1)) (Welch 1947; Satterthwaite 1946), p = 2·Pr(T_ν ≥ |t|). With both variances
 * 0 the test degenerates: equal means give t = 0, p = 1; different means t = ±∞, p = 0, and ν is
 * reported as n₁ + n₂ − 2.
 */
export const welchTTest = (treatment: SampleSummary, control: SampleSummary): WelchTestResult => {
  assertSummary(treatment, 'treatment');
  assertSummary(control, 'control');
  const a = treatment.variance / treatment.n;
  const b = control.variance / control.n;
  const difference = treatment.mean - control.mean;
  const standardError = Math.sqrt(a + b);
  if (standardError === 0) {
    const df = treatment.n + control.n - 2;
    if (difference === 0) return { difference, standardError, t: 0, df, p: 1, logP: 0 };
    const t = difference > 0 ? Infinity : -Infinity;
    return { difference, standardError, t, df, p: 0, logP: -Infinity };
  }
  const t = difference / standardError;
  const df = (a + b) ** 2 / ((a * a) / (treatment.n - 1) + (b * b) / (control.n - 1));
  return { difference, standardError, t, df, ...toTwoSided(studentTSf(Math.abs(t), df)) };
};
