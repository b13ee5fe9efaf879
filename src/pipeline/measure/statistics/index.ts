// In: per-arm counts (successes/trials), metric summaries (n, mean, variance), p-values, weights.
// Out: p-values with their logs, test statistics, intervals, adjusted p-values, SRM alarms, sizes.
//
// Conventions (all functions are pure and deterministic):
// - Invalid arguments (negative counts, trials = 0, successes > trials, n < 2, alpha or power
//   outside (0, 1), weights that do not sum to > 0, …) throw a RangeError with a clear message:
//   they are caller bugs, and data from outside must be validated where it is parsed. Valid but
//   degenerate data (no variation, an arm with no successes) returns a documented value instead.
// - Every p-value comes with `logP`, computed without forming p, so it stays finite and accurate
//   far beyond double underflow (p < 1e-308).
// - "treatment" is compared with "control": differences are treatment − control.
// - jstat's cdfs lose relative accuracy in the tails (1 − cdf, NR 2e-10 ln Γ, 3e-7 beta
//   continued-fraction stop), so the distributions here are Herald's own (`normal-sf.ts`,
//   `regularized-gamma.ts`, `regularized-beta.ts`); jstat only seeds the normal quantile.
export type { TailProbability } from './tail-probability.js';
export { normalTail, normalSf, normalCdf, logNormalSf, normalQuantile } from './normal-sf.js';
export { chiSquareSf } from './chi-square-sf.js';
export { studentTSf } from './student-t-sf.js';
export { studentTQuantile } from './student-t-quantile.js';
export { gammaTails, type GammaTails } from './regularized-gamma.js';
export { betaTails, type BetaTails } from './regularized-beta.js';
export { logGamma } from '../../../core/log-gamma.js';
export type { Proportion } from './proportion.js';
export { twoProportionZTest, type ZTestResult } from './two-proportion-z-test.js';
export {
  chiSquareTest,
  type ChiSquareTestOptions,
  type ChiSquareTestResult,
} from './chi-square-test.js';
export { welchTTest, type SampleSummary, type WelchTestResult } from './welch-t-test.js';
export { wilsonInterval, type Interval } from './wilson-interval.js';
export { newcombeInterval } from './newcombe-interval.js';
export { relativeLift, type RelativeLift } from './relative-lift.js';
export { relativeLiftOfMeans, type RelativeLiftOfMeans } from './relative-lift-of-means.js';
export {
  checkSampleRatio,
  type SampleRatioCheck,
  type SampleRatioOptions,
} from './check-sample-ratio.js';
export { adjustHolm, adjustBenjaminiHochberg } from './adjust-p-values.js';
export {
  sampleSizePerArm,
  powerForSampleSize,
  type MinimumEffect,
  type SampleSize,
  type SampleSizeInput,
  type PowerInput,
} from './sample-size.js';
export {
  betaBinomialComparison,
  type BetaBinomialComparison,
  type BetaPrior,
} from './beta-binomial-comparison.js';
export {
  mixtureSprt,
  updateAlwaysValidP,
  alwaysValidPValues,
  mixtureLook,
  DEFAULT_MIXING_VARIANCE,
  type MixtureSprtOptions,
  type MixtureSprtResult,
  type SequentialLook,
} from './mixture-sprt.js';
export { mixtureSprtMeans } from './mixture-sprt-means.js';
export {
  stratifiedDifference,
  type RateStratum,
  type StratifiedDifference,
} from './stratified-difference.js';
