import { normalCdf, normalQuantile } from './normal-sf.js';
import { assertAlpha } from './proportion.js';

/** The smallest effect worth detecting, as a difference of rates or a lift over the baseline. */
export type MinimumEffect =
  { kind: 'absolute'; difference: number } | { kind: 'relative'; lift: number };

export interface SampleSizeInput {
  /** The control's conversion rate, in (0, 1). */
  baselineRate: number;
  minimumEffect: MinimumEffect;
  /** Two-sided significance level; 0.05 by default. */
  alpha?: number;
  /** Probability of detecting the minimum effect; 0.8 by default. */
  power?: number;
}

export interface SampleSize {
  /** Customers needed in each of the two arms, rounded up. */
  perArm: number;
  /** The unrounded solution of the formula. */
  exact: number;
  /** The treatment rate the minimum effect implies. */
  treatmentRate: number;
}

const treatmentRateOf = (baselineRate: number, effect: MinimumEffect): number => {
  if (!(baselineRate > 0 && baselineRate < 1)) {
    throw new RangeError(`baselineRate must be in (0, 1), got ${baselineRate}`);
  }
  const rate =
    effect.kind === 'absolute'
      ? baselineRate + effect.difference
      : baselineRate * (1 + effect.lift);
  if (!(rate > 0 && rate < 1) || rate === baselineRate) {
    throw new RangeError(`the minimum effect must move the rate to another value in (0, 1)`);
  }
  return rate;
};

// The two standard deviations of the pooled z-test: √(2 p̄ q̄) under H₀, √(p₁q₁ + p₂q₂) under H₁.
const spreads = (p1: number, p2: number): { null: number; alternative: number } => {
  const mean = (p1 + p2) / 2;
  return {
    null: Math.sqrt(2 * mean * (1 - mean)),
    alternative: Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)),
  };
};

/**
 * The number of customers per arm (equal allocation) that gives the two-sided pooled z-test of
 * two proportions the requested power against the minimum effect; it matches R's
 * `power.prop.test` without `strict`.
 * Formula: n = (z_{1−α/2} √(2 p̄ q̄) + z_{power} √(p₁q₁ + p₂q₂))² / (p₁ − p₂)², p̄ = (p₁ + p₂)/2
 * (Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions 3rd ed. 2003, eq. 4.14
 * without continuity correction).
 */
export const sampleSizePerArm = (input: SampleSizeInput): SampleSize => {
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  assertAlpha(alpha);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must be in (0, 1), got ${power}`);
  const treatmentRate = treatmentRateOf(input.baselineRate, input.minimumEffect);
  const spread = spreads(input.baselineRate, treatmentRate);
  const numerator =
    normalQuantile(1 - alpha / 2) * spread.null + normalQuantile(power) * spread.alternative;
  const exact = numerator ** 2 / (input.baselineRate - treatmentRate) ** 2;
  return { perArm: Math.ceil(exact), exact, treatmentRate };
};

export interface PowerInput {
  baselineRate: number;
  minimumEffect: MinimumEffect;
  /** Customers in each arm. */
  perArm: number;
  alpha?: number;
}

/**
 * The power of the two-sided pooled z-test with `perArm` customers in each arm against the
 * minimum effect; the inverse of `sampleSizePerArm` (rejections in the wrong tail, below α/2,
 * are not counted, as in R's `power.prop.test` without `strict`).
 * Formula: power = Φ((√n |p₁ − p₂| − z_{1−α/2} √(2 p̄ q̄)) / √(p₁q₁ + p₂q₂)) (Fleiss, Levin &
 * Paik 2003, eq. 4.13).
 */
export const powerForSampleSize = (input: PowerInput): number => {
  const alpha = input.alpha ?? 0.05;
  assertAlpha(alpha);
  if (!(input.perArm > 0)) throw new RangeError(`perArm must be > 0, got ${input.perArm}`);
  const treatmentRate = treatmentRateOf(input.baselineRate, input.minimumEffect);
  const spread = spreads(input.baselineRate, treatmentRate);
  const shift = Math.sqrt(input.perArm) * Math.abs(treatmentRate - input.baselineRate);
  return normalCdf((shift - normalQuantile(1 - alpha / 2) * spread.null) / spread.alternative);
};
