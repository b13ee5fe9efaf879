import {
  betaBinomialComparison,
  DEFAULT_MIXING_VARIANCE,
  mixtureLook,
  mixtureSprt,
  mixtureSprtMeans,
  newcombeInterval,
  normalCdf,
  normalQuantile,
  normalTail,
  relativeLift,
  relativeLiftOfMeans,
  stratifiedDifference,
  studentTQuantile,
  twoProportionZTest,
  welchTTest,
  wilsonInterval,
  type Proportion,
  type SampleSummary,
} from './statistics/index.js';
import { toTwoSided } from './statistics/tail-probability.js';

/** A point estimate and its two-sided interval at the analysis' confidence. */
export interface Estimate {
  estimate: number;
  lower: number;
  upper: number;
}

/** One arm's figures for one metric: a rate (binary) or a mean (numeric), with its interval. */
export interface MetricArm extends Estimate {
  arm: string;
  n: number;
  /** Binary metrics: the number of 1s. */
  successes?: number;
  /** Numeric metrics: the sample standard deviation. */
  standardDeviation?: number;
}

/** One treatment against control on one metric, before multiplicity adjustment. */
export interface RawComparison {
  treatment: string;
  /** Treatment minus control (rates or means). */
  absoluteLift: Estimate;
  /**
   * Treatment / control − 1; for a numeric metric whose control mean is negative,
   * (treatment − control) / |control|, so that it has the absolute lift's sign (and a `note`).
   */
  relativeLift: Estimate;
  /** Fixed-horizon two-sided p-value (z-test for rates, Welch for means) and its log. */
  p: number;
  logP: number;
  /** Mixture-SPRT p-value at this look: always valid, safe under peeking. */
  alwaysValidP: number;
  alwaysValidLogP: number;
  /** Pr(treatment's true rate or mean exceeds control's). */
  chanceToBeatControl: number;
  /** Binary metrics: Beta-Binomial expected loss of choosing treatment, in rate units. */
  expectedLoss?: number;
  /** Why figures are missing (p = 1, unbounded intervals), or how to read them, when needed. */
  note?: string;
}

export interface CompareOptions {
  alpha: number;
  /** τ² for binary metrics (rates); DEFAULT_MIXING_VARIANCE (τ = 1 point) by default. */
  mixingVariance?: number;
  /** τ for numeric metrics in control standard deviations; 0.1 by default. */
  numericMixingSd?: number;
}

/**
 * The fewest successes and failures each of the two arms must expect, at the pooled rate, before
 * the mixture SPRT's p-value counts (it is 1 until then) — the rule of thumb for the normal
 * approximation its martingale property rests on, as for a chi-square test. With a 1 % holdout
 * converting at 0.1 %, one conversion in the small arm gave Λ ≈ 5,600 (p ≈ 1.8e-4, where
 * Fisher's exact test gives 0.03), and an A/A test peeked at every hour for a week rejected at
 * p < 0.05 in 10.4 % of 1,000 simulated runs; with the rule, none did (and 0–3.3 % across rates
 * of 0.1–5 % and splits of 1–50 %). Expected, not observed, counts: an arm that never converts
 * against one that does is evidence, and the three-phase policy must be able to act on it.
 */
export const MIN_EXPECTED_EVENTS = 5;

const enoughEvents = (a: Proportion, b: Proportion): boolean => {
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  return Math.min(a.trials, b.trials) * Math.min(pooled, 1 - pooled) >= MIN_EXPECTED_EVENTS;
};

/**
 * One treatment against control on a rate, within strata (assignment days) rather than pooled:
 * the Cochran–Mantel–Haenszel difference θ̂, its variance V under H₀ and its variance V̂ where it
 * is (`stratifiedDifference`). On V, as a test needs: the z-test 2·Pr(Z ≥ |θ̂|/√V) and the mixture
 * SPRT on (θ̂, V). On V̂, as an estimate needs: the interval θ̂ ± z·√V̂, the normal approximation
 * Φ(θ̂/√V̂) for the chance to beat control (with its expected loss √V̂·φ(θ̂/√V̂) − θ̂·Φ(−θ̂/√V̂)) —
 * the Beta-Binomial posteriors would be the pooled counts' — and a delta-method relative lift of
 * the two rates standardised to the same strata, each with its own variance. The pooled counts
 * still gate the always-valid p (`enoughEvents`).
 */
const compareStratified = (
  arm: string,
  data: Proportion,
  control: Proportion,
  strata: readonly { treatment: Proportion; control: Proportion }[],
  options: CompareOptions,
): RawComparison => {
  const s = stratifiedDifference(strata);
  // No day on which both arms had units: nothing to compare them by.
  if (s === null)
    return {
      treatment: arm,
      absoluteLift: { estimate: 0, lower: -Infinity, upper: Infinity },
      relativeLift: { estimate: 0, lower: -1, upper: Infinity },
      p: 1,
      logP: 0,
      alwaysValidP: 1,
      alwaysValidLogP: 0,
      chanceToBeatControl: 0.5,
      note: 'no assignment day with units in both arms',
    };
  const d = s.difference;
  const seUnderH0 = Math.sqrt(s.variance);
  const se = Math.sqrt(s.unpooledVariance);
  const z = normalQuantile(1 - options.alpha / 2);
  const test =
    seUnderH0 === 0 ? { p: 1, logP: 0 } : toTwoSided(normalTail(Math.abs(d) / seUnderH0));
  const sequential = mixtureLook(d, s.variance, options.mixingVariance ?? DEFAULT_MIXING_VARIANCE);
  const [r1, r2] = [s.treatmentRate, s.controlRate];
  const relative =
    r1 === 0 || r2 === 0
      ? { estimate: r2 > 0 ? -1 : r1 > 0 ? Infinity : 0, lower: -1, upper: Infinity }
      : (() => {
          const logRatio = Math.log(r1 / r2);
          const margin =
            z * Math.sqrt(s.treatmentRateVariance / r1 ** 2 + s.controlRateVariance / r2 ** 2);
          return {
            estimate: Math.expm1(logRatio),
            lower: Math.expm1(logRatio - margin),
            upper: Math.expm1(logRatio + margin),
          };
        })();
  // V̂ > 0 always (no rate in it is 0 or 1), so the chance and the loss need no special case.
  const standardised = d / se;
  return {
    treatment: arm,
    // A difference of two rates lies in [−1, 1]: the normal interval can reach past it when an
    // arm converted none or all of its units (0/40 against 40/40 gave [0.952, 1.048]).
    absoluteLift: {
      estimate: d,
      lower: Math.max(-1, d - z * se),
      upper: Math.min(1, d + z * se),
    },
    relativeLift: relative,
    p: test.p,
    logP: test.logP,
    ...(enoughEvents(data, control)
      ? { alwaysValidP: sequential.p, alwaysValidLogP: sequential.logP }
      : { alwaysValidP: 1, alwaysValidLogP: 0 }),
    chanceToBeatControl: normalCdf(standardised),
    expectedLoss:
      se * (Math.exp(-0.5 * standardised ** 2) / Math.sqrt(2 * Math.PI)) -
      d * normalCdf(-standardised),
  };
};

/**
 * Rate with Wilson interval per arm; Newcombe, delta-method lift, z-test, mSPRT, Beta-Binomial.
 * Given strata (each the arms' counts on one assignment day, summing to the arms' data), every
 * comparison is made within them instead (`compareStratified`); the arms' rates stay pooled.
 */
export const compareBinary = (
  arms: readonly { arm: string; data: Proportion }[],
  control: Proportion,
  options: CompareOptions,
  strata?: readonly Readonly<Record<string, Proportion>>[],
): { arms: MetricArm[]; comparisons: RawComparison[] } => ({
  arms: arms.map(({ arm, data }) => ({
    arm,
    n: data.trials,
    successes: data.successes,
    estimate: data.successes / data.trials,
    ...wilsonInterval(data, options.alpha),
  })),
  comparisons: arms.slice(1).map(({ arm, data }) => {
    if (strata !== undefined) {
      const controlArm = arms[0]?.arm ?? '';
      const none = { successes: 0, trials: 0 };
      return compareStratified(
        arm,
        data,
        control,
        strata.map((s) => ({ treatment: s[arm] ?? none, control: s[controlArm] ?? none })),
        options,
      );
    }
    const test = twoProportionZTest(data, control);
    const sequential = mixtureSprt(data, control, {
      mixingVariance: options.mixingVariance ?? DEFAULT_MIXING_VARIANCE,
    });
    const lift = relativeLift(data, control, options.alpha);
    const bayes = betaBinomialComparison(data, control);
    return {
      treatment: arm,
      absoluteLift: {
        estimate: test.difference,
        ...newcombeInterval(data, control, options.alpha),
      },
      relativeLift: { estimate: lift.lift, lower: lift.lower, upper: lift.upper },
      p: test.p,
      logP: test.logP,
      ...(enoughEvents(data, control)
        ? { alwaysValidP: sequential.p, alwaysValidLogP: sequential.logP }
        : { alwaysValidP: 1, alwaysValidLogP: 0 }),
      chanceToBeatControl: bayes.chanceToBeatControl,
      expectedLoss: bayes.expectedLossTreatment,
    };
  }),
});

/**
 * A numeric metric's arm, with how many of its units have a value other than 0 when the
 * metric is mostly zeros (revenue per unit: the units that ordered).
 */
export type NumericSummary = SampleSummary & { nonZero?: number };

/**
 * The fewest non-zero values (buyers, for revenue per unit) each of the two arms must expect, at
 * the pooled share, before a test of a mostly-zero metric's means counts: its own rule, far above
 * `MIN_EXPECTED_EVENTS`, because what it must approximate is not a count but the mean of a few
 * skewed values. A holdout of 200 units with no buyer against 19,800 with 40 (0.2 % each way,
 * Fisher's exact p = 1) gave a revenue Welch p of 7e-10, the arm without buyers having no
 * variance. And a small arm's few buyers make its mean and variance rise and fall together: in
 * 1,000 simulated A/A tests with a 10 % arm, 3 % buying, log-normal order values (σ = 1.5) and 80
 * looks, the always-valid p fell below 5 % in 18.4 % of runs counted from 5 expected buyers, 9.6 %
 * from 30, 5.2 % from 75, 3.8 % from 100 (1.2 % at σ = 1, 5.3 % at σ = 2). Even then the
 * fixed-horizon Welch p and interval stay approximate (at 100 buyers 8.3 % of those A/A tests
 * were "significant" at σ = 1.5, 12.4 % at σ = 2; 6.9 % at σ = 1).
 */
export const MIN_EXPECTED_NON_ZERO = 100;

/**
 * Whether two arms of a mostly-zero metric each expect `MIN_EXPECTED_NON_ZERO` non-zero values at
 * the pooled share, for a test of their means to count. A metric that does not say how many
 * values are non-zero is taken as it is.
 */
export const enoughNonZero = (a: NumericSummary, b: NumericSummary): boolean => {
  if (a.nonZero === undefined || b.nonZero === undefined) return true;
  const pooled = (a.nonZero + b.nonZero) / (a.n + b.n);
  return Math.min(a.n, b.n) * pooled >= MIN_EXPECTED_NON_ZERO;
};

/** Why a mostly-zero metric has no p-value or interval yet (see `enoughNonZero`). */
export const tooFewNonZero = (a: NumericSummary, b: NumericSummary): string => {
  const pooled = ((a.nonZero ?? 0) + (b.nonZero ?? 0)) / (a.n + b.n);
  const expected = Math.min(a.n, b.n) * pooled;
  return `the smaller arm expects ${expected.toFixed(1)} non-zero values (buyers) at the pooled share, fewer than the ${String(MIN_EXPECTED_NON_ZERO)} a test of the means needs`;
};

// How a relative lift against a negative control mean reads (see `relativeLiftOfMeans`).
const NEGATIVE_CONTROL_NOTE =
  'the control mean is negative: the relative lift is the change as a share of its size, (treatment − control) / |control|, not treatment / control − 1';

const meanInterval = (summary: SampleSummary, alpha: number): Estimate => {
  const margin =
    studentTQuantile(1 - alpha / 2, summary.n - 1) * Math.sqrt(summary.variance / summary.n);
  return { estimate: summary.mean, lower: summary.mean - margin, upper: summary.mean + margin };
};

/**
 * Mean with t interval per arm; Welch difference with Welch–Satterthwaite t interval, delta-method
 * relative lift, Welch p, mSPRT on means, and the chance to beat control by the normal
 * approximation Φ((x̄₁ − x̄₂)/SE) — the posterior Pr(μ₁ > μ₂) under flat priors when the means
 * are approximately normal (large n), not an exact Bayesian answer for skewed revenue. A
 * mostly-zero metric whose arms expect too few non-zero values (`enoughNonZero`) gets p = 1,
 * unbounded intervals, an even chance and a note saying why. Against a negative control mean the
 * relative lift is (x̄₁ − x̄₂)/|x̄₂| (`relativeLiftOfMeans`), with a note saying so.
 */
export const compareNumeric = (
  arms: readonly { arm: string; data: NumericSummary }[],
  control: NumericSummary,
  options: CompareOptions,
): { arms: MetricArm[]; comparisons: RawComparison[] } => {
  const sdFraction = options.numericMixingSd ?? 0.1;
  return {
    arms: arms.map(({ arm, data }) => ({
      arm,
      n: data.n,
      standardDeviation: Math.sqrt(data.variance),
      ...meanInterval(data, options.alpha),
    })),
    comparisons: arms.slice(1).map(({ arm, data }) => {
      const test = welchTTest(data, control);
      const margin =
        test.standardError === 0
          ? 0
          : studentTQuantile(1 - options.alpha / 2, test.df) * test.standardError;
      // τ in the metric's units: a tenth of a standard deviation by default (either arm's when
      // control does not vary; with neither varying V = 0 and τ does not matter).
      const spread = Math.sqrt(control.variance) || Math.sqrt(data.variance) || 1;
      const sequential = mixtureSprtMeans(data, control, {
        mixingVariance: (sdFraction * spread) ** 2,
      });
      const lift = relativeLiftOfMeans(data, control, options.alpha);
      // Too few non-zero values to measure a spread by: no evidence, no interval.
      if (!enoughNonZero(data, control))
        return {
          treatment: arm,
          absoluteLift: { estimate: test.difference, lower: -Infinity, upper: Infinity },
          relativeLift: { estimate: lift.lift, lower: -Infinity, upper: Infinity },
          p: 1,
          logP: 0,
          alwaysValidP: 1,
          alwaysValidLogP: 0,
          chanceToBeatControl: 0.5,
          note:
            control.mean < 0
              ? `${tooFewNonZero(data, control)}; ${NEGATIVE_CONTROL_NOTE}`
              : tooFewNonZero(data, control),
        };
      const chance =
        test.standardError > 0
          ? normalCdf(test.difference / test.standardError)
          : test.difference > 0
            ? 1
            : test.difference < 0
              ? 0
              : 0.5;
      return {
        treatment: arm,
        absoluteLift: {
          estimate: test.difference,
          lower: test.difference - margin,
          upper: test.difference + margin,
        },
        relativeLift: { estimate: lift.lift, lower: lift.lower, upper: lift.upper },
        p: test.p,
        logP: test.logP,
        alwaysValidP: sequential.p,
        alwaysValidLogP: sequential.logP,
        chanceToBeatControl: chance,
        ...(control.mean < 0 ? { note: NEGATIVE_CONTROL_NOTE } : {}),
      };
    }),
  };
};
