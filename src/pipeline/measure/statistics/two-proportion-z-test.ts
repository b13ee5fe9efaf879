import { normalTail } from './normal-sf.js';
import { assertProportion, type Proportion } from './proportion.js';
import { toTwoSided } from './tail-probability.js';

export interface ZTestResult {
  /** p̂₁ − p̂₂, treatment minus control. */
  difference: number;
  /** √(p̄(1 − p̄)(1/n₁ + 1/n₂)), the pooled standard error under H₀: p₁ = p₂. */
  standardError: number;
  z: number;
  /** Two-sided p-value 2·Pr(Z ≥ |z|). */
  p: number;
  /** ln p, finite when p underflows. */
  logP: number;
}

/**
 * The pooled two-proportion z-test of H₀: p₁ = p₂ against p₁ ≠ p₂, with a two-sided p-value that
 * does not underflow; z² equals the uncorrected 2×2 chi-square statistic.
 * Formula: z = (p̂₁ − p̂₂) / √(p̄(1 − p̄)(1/n₁ + 1/n₂)), p̄ = (x₁ + x₂)/(n₁ + n₂), p = 2·Pr(Z ≥ |z|)
 * (Agresti, Categorical Data Analysis 3rd ed., §3.1; Fleiss, Levin & Paik 2003, §2.2). When p̄ is
 * 0 or 1 there is no variation and no evidence of a difference: z = 0 and p = 1.
 */
export const twoProportionZTest = (treatment: Proportion, control: Proportion): ZTestResult => {
  assertProportion(treatment, 'treatment');
  assertProportion(control, 'control');
  const rate1 = treatment.successes / treatment.trials;
  const rate2 = control.successes / control.trials;
  const pooled = (treatment.successes + control.successes) / (treatment.trials + control.trials);
  const standardError = Math.sqrt(
    pooled * (1 - pooled) * (1 / treatment.trials + 1 / control.trials),
  );
  const difference = rate1 - rate2;
  if (standardError === 0) return { difference, standardError, z: 0, p: 1, logP: 0 };
  const z = difference / standardError;
  return { difference, standardError, z, ...toTwoSided(normalTail(Math.abs(z))) };
};
