import { logGamma } from '../../../core/log-gamma.js';

import { EPSILON, MAX_ITERATIONS, TINY } from './continued-fraction-limits.js';

/** Both tails of the regularized incomplete gamma function, plus ln Q for tails beyond 1e-308. */
export interface GammaTails {
  /** P(a, x) = γ(a, x) / Γ(a), the lower tail. */
  lower: number;
  /** Q(a, x) = Γ(a, x) / Γ(a) = 1 − P(a, x), the upper tail. */
  upper: number;
  /** ln Q(a, x), finite even when Q underflows to 0. */
  logUpper: number;
}

const notConverged = (what: string, a: number, x: number): Error =>
  new Error(`${what} did not converge for a = ${a}, x = ${x}`);

// Σₙ xⁿ / (a (a+1) … (a+n)), so that P(a, x) = xᵃ e⁻ˣ / Γ(a) · Σ (Press et al. eq. 6.2.5).
const lowerSeries = (a: number, x: number): number => {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) return sum;
  }
  throw notConverged('incomplete gamma series', a, x);
};

// Legendre's continued fraction 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …))), so that
// Q(a, x) = xᵃ e⁻ˣ / Γ(a) · CF, evaluated by the modified Lentz method (Press et al. eq. 6.2.7).
export const upperGammaFraction = (a: number, x: number): number => {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) return h;
  }
  throw notConverged('incomplete gamma continued fraction', a, x);
};

/**
 * The regularized incomplete gamma tails P(a, x) and Q(a, x) for a > 0, x ≥ 0, each with a
 * relative error near 1e-14 (and ln Q without underflow).
 * Formula: the power series for P when x < a + 1, Legendre's continued fraction for Q otherwise,
 * both multiplied by exp(a ln x − x − ln Γ(a)) — Press et al., Numerical Recipes 3rd ed. §6.2;
 * Abramowitz & Stegun 6.5.29 and 6.5.31. The smaller tail is computed directly, the other as
 * its complement, so neither suffers cancellation.
 */
export const gammaTails = (a: number, x: number): GammaTails => {
  if (!(a > 0)) throw new RangeError(`incomplete gamma needs a > 0, got ${a}`);
  if (!(x >= 0)) throw new RangeError(`incomplete gamma needs x ≥ 0, got ${x}`);
  if (x === 0) return { lower: 0, upper: 1, logUpper: 0 };
  if (x === Infinity) return { lower: 1, upper: 0, logUpper: -Infinity };
  const logPrefactor = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    const lower = Math.exp(logPrefactor) * lowerSeries(a, x);
    return { lower, upper: 1 - lower, logUpper: Math.log1p(-lower) };
  }
  const fraction = upperGammaFraction(a, x);
  const logUpper = logPrefactor + Math.log(fraction);
  const upper = Math.exp(logUpper);
  return { lower: 1 - upper, upper, logUpper };
};
