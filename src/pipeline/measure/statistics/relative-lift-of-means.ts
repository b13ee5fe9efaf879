import { normalQuantile } from './normal-sf.js';
import { assertAlpha } from './proportion.js';
import type { SampleSummary } from './welch-t-test.js';

export interface RelativeLiftOfMeans {
  /** x̄₁ / x̄₂ − 1; ±Infinity (or 0 when both are 0) when the control mean is 0. */
  lift: number;
  lower: number;
  upper: number;
  /** 'log' when both means are positive (interval on ln(x̄₁/x̄₂)), else 'linear'. */
  scale: 'log' | 'linear';
  /** Standard error of ln(x̄₁/x̄₂) on the log scale, of x̄₁/x̄₂ on the linear one. */
  standardError: number;
}

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
 * interval r − 1 ± z·SE (Casella & Berger 2002, §5.5.4). A control mean of 0 has no ratio: the
 * interval is (−∞, ∞).
 */
export const relativeLiftOfMeans = (
  treatment: SampleSummary,
  control: SampleSummary,
  alpha = 0.05,
): RelativeLiftOfMeans => {
  assertSummary(treatment, 'treatment');
  assertSummary(control, 'control');
  assertAlpha(alpha);
  const z = normalQuantile(1 - alpha / 2);
  const m1 = treatment.mean;
  const m2 = control.mean;
  const a = treatment.variance / treatment.n;
  const b = control.variance / control.n;
  if (m2 === 0) {
    const lift = m1 > 0 ? Infinity : m1 < 0 ? -Infinity : 0;
    return { lift, lower: -Infinity, upper: Infinity, scale: 'linear', standardError: Infinity };
  }
  if (m1 > 0 && m2 > 0) {
    const logRatio = Math.log(m1) - Math.log(m2);
    const standardError = Math.sqrt(a / (m1 * m1) + b / (m2 * m2));
    return {
      lift: Math.expm1(logRatio),
      lower: Math.expm1(logRatio - z * standardError),
      upper: Math.expm1(logRatio + z * standardError),
      scale: 'log',
      standardError,
    };
  }
  const ratio = m1 / m2;
  const standardError = Math.sqrt(a / (m2 * m2) + (m1 * m1 * b) / m2 ** 4);
  return {
    lift: ratio - 1,
    lower: ratio - 1 - z * standardError,
    upper: ratio - 1 + z * standardError,
    scale: 'linear',
    standardError,
  };
};
