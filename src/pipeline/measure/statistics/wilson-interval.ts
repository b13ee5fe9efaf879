import { normalQuantile } from './normal-sf.js';
import { assertAlpha, assertProportion, type Proportion } from './proportion.js';

/** A two-sided confidence interval [lower, upper]. */
export interface Interval {
  lower: number;
  upper: number;
}

/**
 * The Wilson score interval for one proportion at confidence 1 − alpha; it always lies in [0, 1]
 * and has close to nominal coverage even for small n or rates near 0 and 1.
 * Formula: the roots in p of (p̂ − p)² = z² p(1 − p)/n, z = Φ⁻¹(1 − α/2):
 * (2x + z² ∓ z√(z² + 4x(n − x)/n)) / (2(n + z²)) (Wilson 1927; Newcombe 1998a, method 3;
 * Agresti & Coull 1998). This form is exactly 0 at x = 0 and exactly 1 at x = n.
 */
export const wilsonInterval = (arm: Proportion, alpha = 0.05): Interval => {
  assertProportion(arm, 'arm');
  assertAlpha(alpha);
  const z = normalQuantile(1 - alpha / 2);
  return wilsonBounds(arm.successes, arm.trials, z);
};

/** Wilson bounds for a z already computed (shared with the Newcombe interval). */
export const wilsonBounds = (successes: number, trials: number, z: number): Interval => {
  const square = z * z;
  const spread = z * Math.sqrt(square + (4 * successes * (trials - successes)) / trials);
  const denominator = 2 * (trials + square);
  const centre = 2 * successes + square;
  return {
    lower: Math.max(0, (centre - spread) / denominator),
    upper: Math.min(1, (centre + spread) / denominator),
  };
};
