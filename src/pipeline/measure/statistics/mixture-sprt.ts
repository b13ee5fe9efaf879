import { assertProportion, type Proportion } from './proportion.js';
import type { TailProbability } from './tail-probability.js';

/**
 * The default mixing variance τ² = 1e-4, i.e. a prior spread τ = 0.01 (one percentage point) on
 * the absolute difference of conversion rates. See `MixtureSprtOptions.mixingVariance`.
 */
export const DEFAULT_MIXING_VARIANCE = 1e-4;

export interface MixtureSprtOptions {
  /**
   * τ², the variance of the normal mixture over true differences (the tuning parameter). Validity
   * holds for every τ² > 0; it only moves power: the test is most sensitive around the sample
   * size at which the difference's variance V is near τ², so set τ to roughly the absolute
   * difference worth detecting (Johari et al. 2022 §4.2 fit it to past experiments' effects).
   * Defaults to `DEFAULT_MIXING_VARIANCE` (τ = 0.01).
   */
  mixingVariance?: number;
}

export interface MixtureSprtResult extends TailProbability {
  /** θ̂ = p̂₁ − p̂₂, treatment minus control. */
  difference: number;
  /** V = p̄(1 − p̄)(1/n₁ + 1/n₂), the pooled variance of θ̂ under H₀ (as in the z-test). */
  variance: number;
  /** ln Λ, the log mixture likelihood ratio at this look (−∞ when V = 0). */
  logLikelihoodRatio: number;
  /** p = min(1, 1/Λ) at this look alone; the always-valid p-value is its running minimum. */
  p: number;
  /** ln p = min(0, −ln Λ), finite when p underflows. */
  logP: number;
}

/**
 * The normal-mixture sequential probability ratio test (mSPRT) of H₀: p₁ = p₂ for two proportions,
 * evaluated at one look (Johari, Koomen, Pekelis & Walsh, "Always valid inference: continuous
 * monitoring of A/B tests", Operations Research 70(3), 2022, eq. (11) and §4; Robbins 1970).
 * Formula: with θ̂ = p̂₁ − p̂₂, V = p̄(1 − p̄)(1/n₁ + 1/n₂), p̄ = (x₁ + x₂)/(n₁ + n₂) and mixing
 * variance τ²,
 *   Λ = √(V/(V + τ²)) · exp(θ̂²τ² / (2V(V + τ²))),
 *   ln Λ = −½ ln(1 + τ²/V) + θ̂²τ² / (2V(V + τ²)),
 * and p = min(1, 1/Λ). Λ is a nonnegative martingale under H₀ (for the normal approximation of
 * θ̂), so by Ville's inequality Pr(sup Λ ≥ 1/α) ≤ α: the running minimum of p over any sequence of
 * looks (`updateAlwaysValidP`, `alwaysValidPValues`) is an always-valid p-value, safe to peek at.
 * When V = 0 (both arms all 0 or all 1) there is no evidence: Λ = 0 and p = 1.
 */
export const mixtureSprt = (
  treatment: Proportion,
  control: Proportion,
  options: MixtureSprtOptions = {},
): MixtureSprtResult => {
  assertProportion(treatment, 'treatment');
  assertProportion(control, 'control');
  const tau2 = options.mixingVariance ?? DEFAULT_MIXING_VARIANCE;
  if (!(tau2 > 0 && Number.isFinite(tau2))) {
    throw new RangeError(`mixingVariance must be a positive finite number, got ${tau2}`);
  }
  const difference = treatment.successes / treatment.trials - control.successes / control.trials;
  const pooled = (treatment.successes + control.successes) / (treatment.trials + control.trials);
  const variance = pooled * (1 - pooled) * (1 / treatment.trials + 1 / control.trials);
  return mixtureLook(difference, variance, tau2);
};

/**
 * The normal-mixture likelihood ratio of an observed difference with its variance, and the
 * p-value min(1, 1/Λ) in log space; no variation (variance 0) is no evidence (p = 1).
 */
export const mixtureLook = (
  difference: number,
  variance: number,
  tau2: number,
): MixtureSprtResult => {
  if (variance === 0) {
    return { difference, variance, logLikelihoodRatio: -Infinity, p: 1, logP: 0 };
  }
  const logLikelihoodRatio =
    -0.5 * Math.log1p(tau2 / variance) +
    (difference * difference * tau2) / (2 * variance * (variance + tau2));
  const logP = Math.min(0, -logLikelihoodRatio);
  return { difference, variance, logLikelihoodRatio, p: Math.exp(logP), logP };
};

/**
 * One step of the always-valid p-value: the running minimum of the per-look p = min(1, 1/Λ).
 * Start from `{ p: 1, logP: 0 }` (nothing observed) and fold in every look, in any order.
 */
export const updateAlwaysValidP = (
  running: TailProbability,
  look: TailProbability,
): TailProbability => (look.logP < running.logP ? { p: look.p, logP: look.logP } : running);

/** Cumulative counts of both arms at one look. */
export interface SequentialLook {
  treatment: Proportion;
  control: Proportion;
}

/**
 * The always-valid p-value after each of a sequence of looks at cumulative counts: the running
 * minimum over looks of `mixtureSprt(...)`'s p (non-increasing, ≤ 1).
 */
export const alwaysValidPValues = (
  looks: readonly SequentialLook[],
  options: MixtureSprtOptions = {},
): TailProbability[] => {
  const path: TailProbability[] = [];
  let running: TailProbability = { p: 1, logP: 0 };
  for (const look of looks) {
    running = updateAlwaysValidP(running, mixtureSprt(look.treatment, look.control, options));
    path.push(running);
  }
  return path;
};
