// Experiment units summed per arm (how many, how many ordered, the revenue and its squares)
// become the analysis' input: conversion as a rate, revenue per unit as a mean with its
// variance. Nothing here reads the store.
import {
  analyzeExperiment,
  type AnalyzeOptions,
  type ExperimentAnalysis,
  type MetricInput,
} from './analyze-experiment.js';
import { enoughNonZero, tooFewNonZero, type Estimate } from './compare-metric.js';
import { studentTQuantile, welchTTest, type SampleSummary } from './statistics/index.js';

/** One arm's sums: units, units with an order in their window, revenue and Σ revenue² (cents). */
export interface ArmSums {
  arm: string;
  units: number;
  converted: number;
  revenueCents: number;
  revenueSquares: number;
}

/** Revenue per unit in major units: mean and unbiased variance from the sums. */
export const revenueSummary = (s: ArmSums): SampleSummary => {
  const mean = s.revenueCents / 100 / s.units;
  const squares = s.revenueSquares / 10_000;
  const variance = s.units < 2 ? 0 : Math.max(0, (squares - s.units * mean * mean) / (s.units - 1));
  return { n: s.units, mean, variance };
};

export type UnitAnalysis =
  { ok: true; analysis: ExperimentAnalysis } | { ok: false; reason: string };

export type AnalyzeUnitsOptions = Omit<AnalyzeOptions, 'designedWeights'> & {
  /**
   * The same units summed per arm within each stratum (an assignment day): conversion is then
   * compared within the strata, not on the pooled sums (revenue stays pooled).
   */
  strata?: readonly (readonly ArmSums[])[];
};

/**
 * The analysis of units summed per arm: `conversion` (primary, binary) and, once any arm's
 * revenue varies, `revenue` per unit (numeric). Reports why not, rather than throwing, when an
 * arm has no units yet.
 */
export const analyzeUnits = (
  control: string,
  arms: readonly ArmSums[],
  designedWeights: Readonly<Record<string, number>>,
  { strata, ...options }: AnalyzeUnitsOptions = {},
): UnitAnalysis => {
  const empty = arms.filter((a) => a.units === 0).map((a) => a.arm);
  if (empty.length > 0) return { ok: false, reason: `no units yet in ${empty.join(', ')}` };
  if (!arms.some((a) => a.arm === control)) return { ok: false, reason: `no control (${control})` };
  const settled = options.sampleRatioSizes;
  if (settled !== undefined && Object.values(settled).every((n) => n === 0))
    return {
      ok: false,
      reason: 'no exposure settled yet: a message of an earlier unit may still go',
    };
  const metrics: MetricInput[] = [
    {
      name: 'conversion',
      kind: 'binary',
      arms: Object.fromEntries(
        arms.map((a) => [a.arm, { successes: a.converted, trials: a.units }]),
      ),
      ...(strata === undefined
        ? {}
        : {
            strata: strata.map((stratum) =>
              Object.fromEntries(
                stratum.map((a) => [a.arm, { successes: a.converted, trials: a.units }]),
              ),
            ),
          }),
    },
  ];
  // Revenue is mostly zeros: each arm says how many of its units ordered.
  const revenue = arms.map((a) => [a.arm, { ...revenueSummary(a), nonZero: a.converted }] as const);
  if (revenue.every(([, r]) => r.n >= 2) && revenue.some(([, r]) => r.variance > 0))
    metrics.push({ name: 'revenue', kind: 'numeric', arms: Object.fromEntries(revenue) });
  try {
    return {
      ok: true,
      analysis: analyzeExperiment(
        { control, arms: arms.map((a) => ({ name: a.arm, n: a.units })), metrics },
        { ...options, designedWeights },
      ),
    };
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, reason: error.message };
    throw error;
  }
};

/** The revenue a treatment added, with a note when its interval cannot be given yet. */
export type IncrementalRevenue = Estimate & { note?: string };

/**
 * Revenue the treatment earned over doing nothing: (mean per treated unit − mean per holdout
 * unit) × treated units, with the Welch interval of the difference scaled the same way —
 * unbounded, with a note, while the arms expect too few buyers for the Welch interval to hold
 * (`enoughNonZero`: 100 each). Past that it is still approximate against a small holdout.
 */
export const incrementalRevenue = (
  treated: ArmSums,
  holdout: ArmSums,
  alpha = 0.05,
): IncrementalRevenue | null => {
  if (treated.units < 2 || holdout.units < 2) return null;
  const welch = welchTTest(revenueSummary(treated), revenueSummary(holdout));
  const difference = welch.difference;
  const scale = treated.units;
  const t = { ...revenueSummary(treated), nonZero: treated.converted };
  const h = { ...revenueSummary(holdout), nonZero: holdout.converted };
  if (!enoughNonZero(t, h))
    return {
      estimate: difference * scale,
      lower: -Infinity,
      upper: Infinity,
      note: tooFewNonZero(t, h),
    };
  // No variance in either arm: the difference is known exactly.
  const half =
    welch.standardError === 0 ? 0 : studentTQuantile(1 - alpha / 2, welch.df) * welch.standardError;
  return {
    estimate: difference * scale,
    lower: (difference - half) * scale,
    upper: (difference + half) * scale,
  };
};
