import { chiSquareSf } from './chi-square-sf.js';
import { assertProportion, type Proportion } from './proportion.js';

export interface ChiSquareTestResult {
  statistic: number;
  /** k − 1 for k arms. */
  df: number;
  p: number;
  /** ln p, finite when p underflows. */
  logP: number;
  /** Whether Yates' continuity correction was applied (only ever for 2 arms). */
  corrected: boolean;
}

export interface ChiSquareTestOptions {
  /** Apply Yates' continuity correction; it exists for 2×2 tables only and is ignored otherwise. */
  yates?: boolean;
}

/**
 * Pearson's chi-square test of homogeneity for k ≥ 2 arms (the 2×k table of successes and
 * failures), optionally with Yates' correction for 2 arms, with a p-value that does not underflow.
 * Formula: X² = Σᵢⱼ (|Oᵢⱼ − Eᵢⱼ| − c)² / Eᵢⱼ with Eᵢⱼ = rowᵢ·colⱼ / N, df = k − 1,
 * p = Q((k − 1)/2, X²/2); c = 0 uncorrected, c = min(½, |Oᵢⱼ − Eᵢⱼ|) with Yates (Yates 1934;
 * Agresti 2013 §3.2; the same clipping as scipy.stats.chi2_contingency). If every arm has only
 * successes or only failures there is no variation: X² = 0 and p = 1.
 */
export const chiSquareTest = (
  arms: readonly Proportion[],
  options: ChiSquareTestOptions = {},
): ChiSquareTestResult => {
  if (arms.length < 2)
    throw new RangeError(`chiSquareTest needs at least 2 arms, got ${arms.length}`);
  arms.forEach((arm, i) => {
    assertProportion(arm, `arm ${i}`);
  });
  const corrected = (options.yates ?? false) && arms.length === 2;
  const df = arms.length - 1;
  const total = arms.reduce((sum, arm) => sum + arm.trials, 0);
  const successes = arms.reduce((sum, arm) => sum + arm.successes, 0);
  const failures = total - successes;
  if (successes === 0 || failures === 0) return { statistic: 0, df, p: 1, logP: 0, corrected };
  let statistic = 0;
  for (const arm of arms) {
    const cells: [number, number][] = [
      [arm.successes, (successes * arm.trials) / total],
      [arm.trials - arm.successes, (failures * arm.trials) / total],
    ];
    for (const [observed, expected] of cells) {
      const gap = Math.abs(observed - expected);
      const deviation = corrected ? gap - Math.min(0.5, gap) : gap;
      statistic += (deviation * deviation) / expected;
    }
  }
  return { statistic, df, ...chiSquareSf(statistic, df), corrected };
};
