import {
  compareBinary,
  compareNumeric,
  type MetricArm,
  type NumericSummary,
  type RawComparison,
} from './compare-metric.js';
import {
  adjustBenjaminiHochberg,
  adjustHolm,
  checkSampleRatio,
  type Proportion,
  type SampleRatioCheck,
} from './statistics/index.js';

/**
 * One metric's per-arm data, keyed by arm name: 0/1 outcomes as counts, others as summaries. A
 * binary metric may also give its counts per stratum (an assignment day; they sum to `arms`):
 * its comparisons are then made within the strata (see `compareBinary`).
 */
export type MetricInput =
  | {
      name: string;
      kind: 'binary';
      arms: Readonly<Record<string, Proportion>>;
      strata?: readonly Readonly<Record<string, Proportion>>[];
    }
  | { name: string; kind: 'numeric'; arms: Readonly<Record<string, NumericSummary>> };

export interface ExperimentData {
  control: string;
  /** Every arm with the number of units assigned to it (the counts the SRM check tests). */
  arms: readonly { name: string; n: number }[];
  /** The first metric is the primary one: promotion is judged on it. */
  metrics: readonly MetricInput[];
}

export interface AnalyzeOptions {
  /** Designed traffic weights by arm name (relative); equal by default. */
  designedWeights?: Readonly<Record<string, number>>;
  /** 1 − confidence of every interval and the significance level of promotion; 0.05. */
  alpha?: number;
  /** τ² of the mixture SPRT for binary metrics; 1e-4 (τ = one percentage point) by default. */
  mixingVariance?: number;
  /** τ of the mixture SPRT for numeric metrics, in control standard deviations; 0.1. */
  numericMixingSd?: number;
  /** The SRM alarm threshold; 0.001 (issue 6). */
  sampleRatioThreshold?: number;
  /**
   * The arm sizes the sample-ratio check counts, when they are not the analysed ones (the
   * units whose exposure is settled, where the analysis takes mature units only); an arm left
   * out counts 0.
   */
  sampleRatioSizes?: Readonly<Record<string, number>>;
}

export interface Comparison extends RawComparison {
  /** Fixed-horizon p adjusted across all treatments × metrics: Holm (FWER) and BH (FDR). */
  holmP: number;
  benjaminiHochbergP: number;
  /** The always-valid p adjusted by Holm across all treatments × metrics (used for promotion). */
  alwaysValidHolmP: number;
}

export interface MetricResult {
  name: string;
  kind: 'binary' | 'numeric';
  /** Control first, then the treatments in the order of `ExperimentData.arms`. */
  arms: MetricArm[];
  comparisons: Comparison[];
  /**
   * Set when the comparisons were made within strata (the number given), not on the pooled
   * counts the arms show.
   */
  strata?: number;
}

export type PromotionBlock =
  /** `logP` stays finite where a gross mismatch's `p` underflows to 0. */
  | { kind: 'sample-ratio-mismatch'; p: number; logP: number }
  | { kind: 'no-significant-improvement'; metric: string };

/**
 * A p-value readable at any size (three significant figures, or two in exponent form below
 * 1e-4), from its log when p itself underflowed to 0 (`6.25e-4174`).
 */
export const formatP = (p: number, logP: number): string => {
  if (p >= 1e-4) return p.toPrecision(3);
  if (p > 0) return p.toExponential(2);
  if (!Number.isFinite(logP)) return '0';
  const log10 = logP / Math.LN10;
  let exponent = Math.floor(log10);
  let mantissa = (10 ** (log10 - exponent)).toFixed(2);
  // 9.996e-5000 rounds to 10.00: written 1.00e-4999.
  if (mantissa === '10.00') [mantissa, exponent] = ['1.00', exponent + 1];
  return `${mantissa}e${String(exponent)}`;
};

/** Why promotion was refused, in words. */
export const describeBlocks = (blocks: readonly PromotionBlock[]): string =>
  blocks
    .map((b) =>
      b.kind === 'sample-ratio-mismatch'
        ? `sample-ratio mismatch (p = ${formatP(b.p, b.logP)})`
        : `no significant improvement on ${b.metric}`,
    )
    .join('; ');

export type Promotion =
  { allowed: true; winner: string; metric: string } | { allowed: false; blocks: PromotionBlock[] };

export interface ExperimentAnalysis {
  control: string;
  alpha: number;
  arms: { name: string; n: number; share: number; designedShare: number }[];
  sampleRatio: SampleRatioCheck;
  metrics: MetricResult[];
  promotion: Promotion;
}

const assertData = (data: ExperimentData, weights: Readonly<Record<string, number>>): void => {
  const names = new Set<string>();
  for (const { name, n } of data.arms) {
    if (names.has(name)) throw new RangeError(`arm "${name}" is listed twice`);
    names.add(name);
    if (!(Number.isInteger(n) && n >= 0)) {
      throw new RangeError(`arm "${name}": n must be an integer ≥ 0, got ${n}`);
    }
  }
  if (!names.has(data.control)) throw new RangeError(`control arm "${data.control}" has no data`);
  if (names.size < 2) throw new RangeError('an experiment needs a control and a treatment');
  for (const name of Object.keys(weights)) {
    if (!names.has(name)) throw new RangeError(`weight given for "${name}", which has no data`);
  }
  for (const name of names) {
    if (weights[name] === undefined) throw new RangeError(`no designed weight for arm "${name}"`);
  }
  if (data.metrics.length === 0) throw new RangeError('at least one metric is needed');
  for (const metric of data.metrics) {
    for (const name of names) {
      const arm = metric.arms[name];
      if (arm === undefined) throw new RangeError(`metric "${metric.name}" has no arm "${name}"`);
      if (metric.kind === 'numeric' && 'n' in arm && arm.n < 2) {
        throw new RangeError(
          `metric "${metric.name}", arm "${name}": a numeric metric needs at least 2 values`,
        );
      }
      if (metric.kind === 'binary' && 'trials' in arm && arm.trials === 0) {
        throw new RangeError(`metric "${metric.name}", arm "${name}": no observations`);
      }
    }
  }
};

/** Per-arm data in analysis order (control first), or a RangeError naming the missing arm. */
const inOrder = <T>(record: Readonly<Record<string, T>>, order: readonly string[]) =>
  order.map((arm) => {
    const data = record[arm];
    if (data === undefined) throw new RangeError(`no data for arm "${arm}"`);
    return { arm, data };
  });

/**
 * Analyses a finished (or running) experiment from per-arm summaries: per arm n and rate or
 * mean with its interval; per treatment and metric the absolute and relative lift with
 * intervals, fixed-horizon and always-valid p-values, the chance to beat control, and Holm and
 * Benjamini–Hochberg adjustments across all treatments × metrics; the sample-ratio check against
 * the designed weights; and whether a winner may be promoted: only when the SRM check does not
 * alarm and, on the primary (first) metric, a treatment beats control with a Holm-adjusted
 * always-valid p below alpha (the best such lift wins).
 */
export const analyzeExperiment = (
  data: ExperimentData,
  options: AnalyzeOptions = {},
): ExperimentAnalysis => {
  const alpha = options.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const weights =
    options.designedWeights ?? Object.fromEntries(data.arms.map((arm) => [arm.name, 1]));
  assertData(data, weights);
  const order = [
    data.control,
    ...data.arms.map((arm) => arm.name).filter((name) => name !== data.control),
  ];
  const sizes = order.map((name) => data.arms.find((arm) => arm.name === name)?.n ?? 0);
  const designed = order.map((name) => weights[name] ?? 0);
  const counted =
    options.sampleRatioSizes === undefined
      ? sizes
      : order.map((name) => options.sampleRatioSizes?.[name] ?? 0);
  const sampleRatio = checkSampleRatio(counted, designed, {
    threshold: options.sampleRatioThreshold ?? 0.001,
  });
  const total = sizes.reduce((sum, n) => sum + n, 0);
  const weightTotal = designed.reduce((sum, w) => sum + w, 0);
  const compareOptions = {
    alpha,
    ...(options.mixingVariance === undefined ? {} : { mixingVariance: options.mixingVariance }),
    ...(options.numericMixingSd === undefined ? {} : { numericMixingSd: options.numericMixingSd }),
  };

  const raw = data.metrics.map((metric) => {
    if (metric.kind === 'binary') {
      const arms = inOrder(metric.arms, order);
      const control = arms[0]?.data ?? { successes: 0, trials: 0 };
      return { metric, ...compareBinary(arms, control, compareOptions, metric.strata) };
    }
    const arms = inOrder(metric.arms, order);
    const control = arms[0]?.data ?? { n: 0, mean: 0, variance: 0 };
    return { metric, ...compareNumeric(arms, control, compareOptions) };
  });

  const flat = raw.flatMap((result) => result.comparisons);
  const holm = adjustHolm(flat.map((c) => c.p));
  const bh = adjustBenjaminiHochberg(flat.map((c) => c.p));
  const sequentialHolm = adjustHolm(flat.map((c) => c.alwaysValidP));
  let index = 0;
  const metrics: MetricResult[] = raw.map(({ metric, arms, comparisons }) => ({
    name: metric.name,
    kind: metric.kind,
    ...(metric.kind === 'binary' && metric.strata !== undefined
      ? { strata: metric.strata.length }
      : {}),
    arms,
    comparisons: comparisons.map((comparison) => {
      const i = index++;
      return {
        ...comparison,
        holmP: holm[i] ?? 1,
        benjaminiHochbergP: bh[i] ?? 1,
        alwaysValidHolmP: sequentialHolm[i] ?? 1,
      };
    }),
  }));

  return {
    control: data.control,
    alpha,
    arms: order.map((name, i) => ({
      name,
      n: sizes[i] ?? 0,
      share: total > 0 ? (sizes[i] ?? 0) / total : 0,
      designedShare: (designed[i] ?? 0) / weightTotal,
    })),
    sampleRatio,
    metrics,
    promotion: decidePromotion(metrics[0], sampleRatio, alpha),
  };
};

const decidePromotion = (
  primary: MetricResult | undefined,
  sampleRatio: SampleRatioCheck,
  alpha: number,
): Promotion => {
  const blocks: PromotionBlock[] = [];
  if (sampleRatio.alarm)
    blocks.push({ kind: 'sample-ratio-mismatch', p: sampleRatio.p, logP: sampleRatio.logP });
  const winners = (primary?.comparisons ?? [])
    .filter((c) => c.alwaysValidHolmP < alpha && c.absoluteLift.estimate > 0)
    .sort((a, b) => b.absoluteLift.estimate - a.absoluteLift.estimate);
  const winner = winners[0];
  if (winner === undefined || primary === undefined) {
    blocks.push({ kind: 'no-significant-improvement', metric: primary?.name ?? '' });
  }
  if (blocks.length > 0 || winner === undefined || primary === undefined) {
    return { allowed: false, blocks };
  }
  return { allowed: true, winner: winner.treatment, metric: primary.name };
};
