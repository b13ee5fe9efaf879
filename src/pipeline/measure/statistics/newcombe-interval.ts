import { normalQuantile } from './normal-sf.js';
import { assertAlpha, assertProportion, type Proportion } from './proportion.js';
import { wilsonBounds, type Interval } from './wilson-interval.js';

/**
 * Newcombe's hybrid score interval for the difference of two independent proportions p₁ − p₂
 * (treatment minus control) at confidence 1 − alpha; it lies in [−1, 1] and behaves well at 0
 * successes and small n, unlike the Wald interval.
 * Formula: with Wilson intervals (l₁, u₁), (l₂, u₂) and d = p̂₁ − p̂₂,
 * [d − √((p̂₁ − l₁)² + (u₂ − p̂₂)²), d + √((u₁ − p̂₁)² + (p̂₂ − l₂)²)]
 * (Newcombe 1998b, "Interval estimation for the difference between independent proportions",
 * Stat. Med. 17:873–890, method 10).
 */
export const newcombeInterval = (
  treatment: Proportion,
  control: Proportion,
  alpha = 0.05,
): Interval => {
  assertProportion(treatment, 'treatment');
  assertProportion(control, 'control');
  assertAlpha(alpha);
  const z = normalQuantile(1 - alpha / 2);
  const rate1 = treatment.successes / treatment.trials;
  const rate2 = control.successes / control.trials;
  const one = wilsonBounds(treatment.successes, treatment.trials, z);
  const two = wilsonBounds(control.successes, control.trials, z);
  const difference = rate1 - rate2;
  return {
    lower: difference - Math.hypot(rate1 - one.lower, two.upper - rate2),
    upper: difference + Math.hypot(one.upper - rate1, rate2 - two.lower),
  };
};
