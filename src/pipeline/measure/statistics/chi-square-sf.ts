import { gammaTails } from './regularized-gamma.js';
import type { TailProbability } from './tail-probability.js';

/**
 * Pr(X ≥ x) for X ~ χ²(df), df > 0, with a relative error near 1e-14 and a finite log far beyond
 * underflow (ln p ≈ −1004.03 at x = 2000, df = 1).
 * Formula: Pr(χ²_k ≥ x) = Q(k/2, x/2), the regularized upper incomplete gamma function
 * (Abramowitz & Stegun 26.4.19), computed by `gammaTails`; x ≤ 0 gives p = 1.
 */
export const chiSquareSf = (x: number, df: number): TailProbability => {
  if (!(df > 0)) throw new RangeError(`chiSquareSf needs df > 0, got ${df}`);
  if (Number.isNaN(x)) throw new RangeError('chiSquareSf needs a statistic, got NaN');
  if (x <= 0) return { p: 1, logP: 0 };
  const tails = gammaTails(df / 2, x / 2);
  return { p: tails.upper, logP: tails.logUpper };
};
