/** Why a series could not be summed. */
export class SeriesDidNotConverge extends Error {
  override readonly name = 'SeriesDidNotConverge';
}

/**
 * The Gaussian hypergeometric function ₂F₁(a, b; c; z) = Σₙ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ summed term
 * by term (Abramowitz & Stegun 15.1.1). Valid for 0 ≤ z < 1 with a, b > 0 and c > 0 — the case
 * of the BG/NBD forecast, where every term is positive — or c in (−1, 0), where every term
 * after the first is negative; so stopping when a term falls below
 * `relTol` of the running sum bounds the truncation error by roughly relTol·z/(1 − z). Terms
 * shrink like n^(a+b−c−1) zⁿ, so z near 1 needs many of them; past `maxTerms` it throws
 * instead of returning a wrong value.
 */
export const hyp2f1 = (
  a: number,
  b: number,
  c: number,
  z: number,
  { relTol = 1e-15, maxTerms = 1_000_000 } = {},
): number => {
  if (!(z >= 0 && z < 1)) throw new RangeError(`hyp2f1 series needs 0 ≤ z < 1, got ${z}`);
  // c in (−1, 0) is the forecast of a customer with no repeat purchase when a + b < 1: only
  // the first denominator is negative, so every term after the first has its sign, and the
  // tail bound below holds on magnitudes.
  if (!(a > 0 && b > 0 && c > -1 && c !== 0))
    throw new RangeError(
      `hyp2f1 series here needs a, b > 0 and c > −1, c ≠ 0, got ${a}, ${b}, ${c}`,
    );
  let term = 1;
  let sum = 1;
  for (let n = 0; n < maxTerms; n++) {
    term *= (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    sum += term;
    // Once the ratio of successive terms is below 1 the tail is at most term·ratio/(1 − ratio).
    const ratio = (((a + n + 1) * (b + n + 1)) / ((c + n + 1) * (n + 2))) * z;
    if (ratio < 1 && Math.abs(term) * (ratio / (1 - ratio)) <= relTol * Math.abs(sum)) return sum;
  }
  throw new SeriesDidNotConverge(
    `hyp2f1(${a}, ${b}; ${c}; ${z}) did not converge in ${maxTerms} terms`,
  );
};
