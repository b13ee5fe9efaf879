import { normalQuantile } from './normal-sf.js';
import { assertAlpha, assertProportion, type Proportion } from './proportion.js';

export interface RelativeLift {
  /** p̂₁ / p̂₂ − 1, e.g. 0.5 for a treatment rate 50 % above control. */
  lift: number;
  /** The interval for the lift, from the interval for ln(p₁/p₂); never below −1. */
  lower: number;
  upper: number;
  /** The delta-method standard error of ln(p̂₁/p̂₂); Infinity when an arm has no successes. */
  logRatioStandardError: number;
}

/**
 * The relative lift of treatment over control, p₁/p₂ − 1, with a delta-method interval built on
 * the log ratio (so it is asymmetric and never below −1) at confidence 1 − alpha.
 * Formula: SE(ln(p̂₁/p̂₂)) = √(1/x₁ − 1/n₁ + 1/x₂ − 1/n₂), interval
 * exp(ln(p̂₁/p̂₂) ± z·SE) − 1 with z = Φ⁻¹(1 − α/2) (Katz, Baptista, Azen & Pike 1978, Biometrics
 * 34:469–474; Agresti 2013 §3.1.4). When either arm has no successes the standard error is
 * infinite and the interval is (−1, ∞); the lift is then −1 (treatment 0), ∞ (control 0) or 0
 * (both 0, no difference observed). When an arm converted every unit (x = n) the formula's
 * variance vanishes — 20/20 against 20/20 gave the interval [0, 0] — so the standard error then
 * comes from the table with ½ added to every cell (x + ½ of n + 1; Gart & Zweifel 1967,
 * Biometrika 54:181–187), around the uncorrected lift.
 */
export const relativeLift = (
  treatment: Proportion,
  control: Proportion,
  alpha = 0.05,
): RelativeLift => {
  assertProportion(treatment, 'treatment');
  assertProportion(control, 'control');
  assertAlpha(alpha);
  const x1 = treatment.successes;
  const x2 = control.successes;
  if (x1 === 0 || x2 === 0) {
    const lift = x2 > 0 ? -1 : x1 > 0 ? Infinity : 0;
    return { lift, lower: -1, upper: Infinity, logRatioStandardError: Infinity };
  }
  const logRatio = Math.log(x1 / treatment.trials) - Math.log(x2 / control.trials);
  const corrected = x1 === treatment.trials || x2 === control.trials ? 0.5 : 0;
  const logRatioStandardError = Math.sqrt(
    1 / (x1 + corrected) -
      1 / (treatment.trials + 2 * corrected) +
      1 / (x2 + corrected) -
      1 / (control.trials + 2 * corrected),
  );
  const margin = normalQuantile(1 - alpha / 2) * logRatioStandardError;
  return {
    lift: Math.expm1(logRatio),
    lower: Math.expm1(logRatio - margin),
    upper: Math.expm1(logRatio + margin),
    logRatioStandardError,
  };
};
