import { betaTails } from './regularized-beta.js';
import type { TailProbability } from './tail-probability.js';

/**
 * Pr(T ≥ t) for T ~ Student t(df), df > 0 (not necessarily an integer, as in Welch's test),
 * with a relative error near 1e-12 and a finite log far beyond underflow.
 * Formula: for t ≥ 0, Pr(T ≥ t) = ½ I_{ν/(ν+t²)}(ν/2, ½), the regularized incomplete beta
 * (Abramowitz & Stegun 26.7.1 with 26.5.27); for t < 0 its complement. The argument's
 * complement t²/(ν + t²) is passed exactly so that large ν and small t lose no digits.
 */
export const studentTSf = (t: number, df: number): TailProbability => {
  if (!(df > 0)) throw new RangeError(`studentTSf needs df > 0, got ${df}`);
  if (Number.isNaN(t)) throw new RangeError('studentTSf needs a statistic, got NaN');
  if (t === 0) return { p: 0.5, logP: -Math.LN2 };
  if (!Number.isFinite(t)) return t > 0 ? { p: 0, logP: -Infinity } : { p: 1, logP: 0 };
  const square = t * t;
  // Dividing both by (ν + t²) keeps x and 1 − x accurate when one of them is tiny.
  const x = df / (df + square);
  const complement = square / (df + square);
  const tails = betaTails(x, df / 2, 0.5, complement);
  if (t > 0) return { p: 0.5 * tails.lower, logP: tails.logLower - Math.LN2 };
  const p = 1 - 0.5 * tails.lower;
  return { p, logP: Math.log(p) };
};
