/**
 * A probability together with its natural log. `logP` stays finite (and accurate) far beyond the
 * point where `p` underflows to 0, e.g. ln p ≈ −804.6 for a normal tail at z = 40.
 */
export interface TailProbability {
  p: number;
  logP: number;
}

/**
 * The two-sided p-value 2·min(sf, 1 − sf) of a symmetric statistic from the upper tail at |stat|,
 * capped at 1 (the tail at 0 is ½). Formula: p = 2·Pr(T ≥ |t|) for T symmetric about 0.
 */
export const toTwoSided = (upperTailAtAbs: TailProbability): TailProbability => ({
  p: Math.min(1, 2 * upperTailAtAbs.p),
  logP: Math.min(0, Math.LN2 + upperTailAtAbs.logP),
});
