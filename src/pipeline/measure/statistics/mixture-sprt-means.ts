import { mixtureLook, type MixtureSprtResult } from './mixture-sprt.js';
import type { SampleSummary } from './welch-t-test.js';

/**
 * The normal-mixture SPRT of H₀: μ₁ = μ₂ for a numeric metric at one look — the same test as
 * `mixtureSprt` (Johari et al. 2022, eq. (11)) with the difference of means and its unpooled
 * variance: θ̂ = x̄₁ − x̄₂, V = s₁²/n₁ + s₂²/n₂,
 *   ln Λ = −½ ln(1 + τ²/V) + θ̂²τ² / (2V(V + τ²)),  p = min(1, 1/Λ).
 * τ² (`mixingVariance`, required) is in the metric's units squared: set τ to the absolute
 * difference worth detecting. Fold looks with `updateAlwaysValidP` for the always-valid p-value.
 * With V = 0 there is no evidence: p = 1.
 */
export const mixtureSprtMeans = (
  treatment: SampleSummary,
  control: SampleSummary,
  options: { mixingVariance: number },
): MixtureSprtResult => {
  const tau2 = options.mixingVariance;
  if (!(tau2 > 0 && Number.isFinite(tau2))) {
    throw new RangeError(`mixingVariance must be a positive finite number, got ${tau2}`);
  }
  for (const [name, summary] of [
    ['treatment', treatment],
    ['control', control],
  ] as const) {
    if (!(Number.isInteger(summary.n) && summary.n >= 1)) {
      throw new RangeError(`${name}: n must be an integer ≥ 1, got ${summary.n}`);
    }
    if (!(Number.isFinite(summary.variance) && summary.variance >= 0)) {
      throw new RangeError(`${name}: variance must be finite and ≥ 0`);
    }
  }
  const difference = treatment.mean - control.mean;
  const variance = treatment.variance / treatment.n + control.variance / control.n;
  return mixtureLook(difference, variance, tau2);
};
