import { chiSquareSf } from './chi-square-sf.js';

export interface SampleRatioCheck {
  /** Pearson's X² of the observed arm sizes against the designed split. */
  statistic: number;
  /** Number of arms with a positive designed weight, minus one. */
  df: number;
  p: number;
  logP: number;
  /** True when p < threshold: the assignment is broken and promotion must be blocked. */
  alarm: boolean;
}

export interface SampleRatioOptions {
  /** Alarm below this p-value; 0.001 by default (issue 6), strict enough to rarely fire by chance. */
  threshold?: number;
}

/**
 * The sample-ratio-mismatch check: a chi-square goodness-of-fit test of observed arm sizes
 * against the *designed* weights, raising `alarm` when p < threshold (0.001 by default).
 * Formula: Eᵢ = N·wᵢ / Σw, X² = Σ (Oᵢ − Eᵢ)² / Eᵢ, p = Pr(χ²_{k−1} ≥ X²) (Pearson 1900;
 * Fabijan et al. 2019, "Diagnosing Sample Ratio Mismatch in Online Controlled Experiments",
 * KDD). An arm designed at weight 0 that received traffic is a certain mismatch (X² = ∞, p = 0);
 * arms at weight 0 with no traffic are left out.
 */
export const checkSampleRatio = (
  observed: readonly number[],
  weights: readonly number[],
  options: SampleRatioOptions = {},
): SampleRatioCheck => {
  const threshold = options.threshold ?? 0.001;
  if (!(threshold > 0 && threshold < 1)) {
    throw new RangeError(`threshold must be in (0, 1), got ${threshold}`);
  }
  if (observed.length !== weights.length) {
    throw new RangeError(`${observed.length} arm counts but ${weights.length} weights`);
  }
  if (observed.some((count) => !Number.isFinite(count) || count < 0)) {
    throw new RangeError('arm counts must be finite and ≥ 0');
  }
  if (weights.some((weight) => !Number.isFinite(weight) || weight < 0)) {
    throw new RangeError('weights must be finite and ≥ 0');
  }
  const weightTotal = weights.reduce((sum, weight) => sum + weight, 0);
  const total = observed.reduce((sum, count) => sum + count, 0);
  if (!(weightTotal > 0)) throw new RangeError('weights must sum to more than 0');
  if (!(total > 0)) throw new RangeError('no observations: every arm count is 0');
  let statistic = 0;
  let cells = 0;
  observed.forEach((count, i) => {
    const weight = weights[i] ?? 0;
    if (weight === 0) {
      if (count > 0) statistic = Infinity;
      return;
    }
    cells += 1;
    const expected = (total * weight) / weightTotal;
    statistic += (count - expected) ** 2 / expected;
  });
  const df = cells - 1;
  if (statistic === Infinity) return { statistic, df, p: 0, logP: -Infinity, alarm: true };
  // A single designed arm leaves nothing to compare.
  if (df === 0) return { statistic: 0, df, p: 1, logP: 0, alarm: false };
  const tail = chiSquareSf(statistic, df);
  return { statistic, df, ...tail, alarm: tail.p < threshold };
};
