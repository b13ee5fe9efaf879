import { normalQuantile } from './normal-sf.js';
import { assertAlpha } from './proportion.js';
import { studentTQuantile } from './student-t-quantile.js';
import type { SampleSummary } from './welch-t-test.js';

export interface RelativeLiftOfMeans {
  /**
   * x̄₁ / x̄₂ − 1, or (x̄₁ − x̄₂) / |x̄₂| when the control mean is negative (so it has the sign of
   * x̄₁ − x̄₂); ±Infinity (or 0 when both are 0) when the control mean is 0.
   */
  lift: number;
  lower: number;
  upper: number;
  /** 'log' when both means are positive (interval on ln(x̄₁/x̄₂)), else 'linear'. */
  scale: 'log' | 'linear';
  /** Standard error of ln(x̄₁/x̄₂) on the log scale, of x̄₁/x̄₂ on the linear one. */
  standardError: number;
  /** Welch–Satterthwaite degrees of freedom of that standard error (∞ when it is 0). */
  degreesOfFreedom: number;
}

/**
 * Welch–Satterthwaite degrees of freedom of a variance made of two parts, each estimated from
 * a sample of its own: (A + B)² / (A²/(n₁ − 1) + B²/(n₂ − 1)). A part that is 0 adds nothing;
 * with no part left, ∞ (the normal quantile).
 */
const satterthwaite = (a: number, n1: number, b: number, n2: number): number => {
  const denominator = (a > 0 ? (a * a) / (n1 - 1) : 0) + (b > 0 ? (b * b) / (n2 - 1) : 0);
  return denominator > 0 ? ((a + b) * (a + b)) / denominator : Infinity;
};

// The t quantile for the interval; the normal one (its limit) when df is infinite.
const quantileOf = (alpha: number, df: number): number =>
  Number.isFinite(df) ? studentTQuantile(1 - alpha / 2, df) : normalQuantile(1 - alpha / 2);

const assertSummary = (summary: SampleSummary, name: string): void => {
  if (!(Number.isInteger(summary.n) && summary.n >= 1)) {
    throw new RangeError(`${name}: n must be an integer ≥ 1, got ${summary.n}`);
  }
  if (!Number.isFinite(summary.mean)) throw new RangeError(`${name}: mean must be finite`);
  if (!(Number.isFinite(summary.variance) && summary.variance >= 0)) {
    throw new RangeError(`${name}: variance must be finite and ≥ 0, got ${summary.variance}`);
  }
};

/**
 * The relative lift of treatment over control for a numeric metric, x̄₁/x̄₂ − 1, with a
 * delta-method interval at confidence 1 − alpha (independent arms). When both means are
 * positive (revenue, say) the interval is built on the log ratio, as for proportions:
 * SE(ln(x̄₁/x̄₂)) = √(s₁²/(n₁x̄₁²) + s₂²/(n₂x̄₂²)), interval exp(ln r ± z·SE) − 1, never below −1.
 * Otherwise (a mean ≤ 0) on the ratio itself: SE(r) = √(s₁²/(n₁x̄₂²) + x̄₁²s₂²/(n₂x̄₂⁴)),
 * interval r − 1 ± z·SE (Casella & Berger 2002, §5.5.4). Against a negative control mean (net
 * margin after returns, say) r − 1 has the opposite sign to the change: −5 against −10 is r − 1 =
 * −50 % for a gain of 5. There the lift is the change as a share of the control mean's size,
 * (x̄₁ − x̄₂)/|x̄₂| = 1 − r, +50 %, with the same SE (it is r − 1 negated), interval
 * 1 − r ± z·SE; it is no longer a ratio of the means. A control mean of 0 has no ratio: the
 * interval is (−∞, ∞); so is that of a treatment arm of zeros alone (lift −1), whose standard
 * error the delta method cannot give. The quantile is Student's t, not the normal one, with the
 * Welch–Satterthwaite degrees of freedom of the two parts of the variance as weighted here, as
 * the Welch test of the difference uses: with three customers an arm, a normal quantile gave a
 * relative interval that excluded 0 where the test of the difference did not.
 */
export const relativeLiftOfMeans = (
  treatment: SampleSummary,
  control: SampleSummary,
  alpha = 0.05,
): RelativeLiftOfMeans => {
  assertSummary(treatment, 'treatment');
  assertSummary(control, 'control');
  assertAlpha(alpha);
  const m1 = treatment.mean;
  const m2 = control.mean;
  const a = treatment.variance / treatment.n;
  const b = control.variance / control.n;
  if (m2 === 0) {
    const lift = m1 > 0 ? Infinity : m1 < 0 ? -Infinity : 0;
    return {
      lift,
      lower: -Infinity,
      upper: Infinity,
      scale: 'linear',
      standardError: Infinity,
      degreesOfFreedom: Infinity,
    };
  }
  if (m1 > 0 && m2 > 0) {
    const logRatio = Math.log(m1) - Math.log(m2);
    const partA = a / (m1 * m1);
    const partB = b / (m2 * m2);
    const standardError = Math.sqrt(partA + partB);
    const degreesOfFreedom = satterthwaite(partA, treatment.n, partB, control.n);
    const z = quantileOf(alpha, degreesOfFreedom);
    return {
      lift: Math.expm1(logRatio),
      lower: Math.expm1(logRatio - z * standardError),
      upper: Math.expm1(logRatio + z * standardError),
      scale: 'log',
      standardError,
      degreesOfFreedom,
    };
  }
  // A treatment arm of zeros alone (no revenue at all in the arm, say) has no spread to measure
  // the ratio's by: the delta method would give a standard error of 0 and the certainty of −100 %
  // (+100 % against a negative control mean), where the same arm's next unit could move it
  // anywhere. As for a control mean of 0, no interval.
  if (m1 === 0 && treatment.variance === 0)
    return {
      lift: m2 > 0 ? -1 : 1,
      lower: -Infinity,
      upper: Infinity,
      scale: 'linear',
      standardError: Infinity,
      degreesOfFreedom: Infinity,
    };
  const ratio = m1 / m2;
  const partA = a / (m2 * m2);
  const partB = (m1 * m1 * b) / m2 ** 4;
  const standardError = Math.sqrt(partA + partB);
  const degreesOfFreedom = satterthwaite(partA, treatment.n, partB, control.n);
  const z = quantileOf(alpha, degreesOfFreedom);
  const lift = m2 > 0 ? ratio - 1 : 1 - ratio;
  return {
    lift,
    lower: lift - z * standardError,
    upper: lift + z * standardError,
    scale: 'linear',
    standardError,
    degreesOfFreedom,
  };
};
