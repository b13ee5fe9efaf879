import { normalQuantile } from './normal-sf.js';
import { studentTSf } from './student-t-sf.js';

/**
 * The t with Pr(T ≤ t) = probability for T ~ Student t(df), df > 0 (not necessarily an integer),
 * to ~1e-12 relative. Formula: the root of ln Pr(T ≥ t) = ln(1 − probability) for probability
 * > ½ (symmetric below), bracketed from the normal quantile outward and found by bisection on
 * the log tail, so far tails lose no digits.
 */
export const studentTQuantile = (probability: number, df: number): number => {
  if (!(probability > 0 && probability < 1)) {
    throw new RangeError(`probability must be in (0, 1), got ${probability}`);
  }
  if (!(df > 0)) throw new RangeError(`df must be > 0, got ${df}`);
  if (probability === 0.5) return 0;
  if (probability < 0.5) return -studentTQuantile(1 - probability, df);
  const target = Math.log1p(-probability);
  const logTail = (t: number): number => studentTSf(t, df).logP;
  // The t quantile is never below the normal one; widen until the tail is below the target.
  let lo = 0;
  let hi = Math.max(normalQuantile(probability), 1);
  while (logTail(hi) > target) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const middle = (lo + hi) / 2;
    if (logTail(middle) > target) lo = middle;
    else hi = middle;
  }
  return (lo + hi) / 2;
};
