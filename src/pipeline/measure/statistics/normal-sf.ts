import jStat from 'jstat';
import { gammaTails, upperGammaFraction } from './regularized-gamma.js';
import type { TailProbability } from './tail-probability.js';

const SQRT_THREE = Math.sqrt(3);
const LOG_SQRT_TWO_PI = 0.5 * Math.log(2 * Math.PI);
const TWO_SQRT_TWO_PI = 2 * Math.sqrt(2 * Math.PI);

// exp(−z²/2) without the error of rounding z² first: z = hi + lo with hi on a 2⁻¹⁶ grid, so hi²
// is exact and z² = hi² + lo·(z + hi) (the splitting of Cody's erfc and Cephes' expx2).
const expMinusHalfSquare = (z: number): number => {
  const hi = Math.round(z * 65_536) / 65_536;
  const lo = z - hi;
  return Math.exp(-0.5 * hi * hi) * Math.exp(-0.5 * lo * (z + hi));
};

/**
 * The standard normal upper tail Pr(Z ≥ z) and its log, with a relative error near 1e-15 for
 * every z and a finite log beyond the underflow point (z ≳ 38.5).
 * Formula: Pr(Z ≥ z) = ½ erfc(z/√2) = ½ Q(½, z²/2). For z ≥ √3 it is φ(z)·z·CF/2 with Legendre's
 * continued fraction CF for Q(½, z²/2) (Abramowitz & Stegun 26.2.14 / 6.5.31), so ln Pr = −z²/2 +
 * ln(z·CF / (2√(2π))); for |z| < √3 it is ½(1 − erf(|z|/√2)) from the series of P(½, ·), and for
 * z ≤ −√3 the complement of the upper tail at −z.
 */
export const normalTail = (z: number): TailProbability => {
  if (Number.isNaN(z)) throw new RangeError('normalTail needs a number, got NaN');
  if (z === Infinity) return { p: 0, logP: -Infinity };
  if (z === -Infinity) return { p: 1, logP: 0 };
  if (z >= SQRT_THREE) {
    const fraction = upperGammaFraction(0.5, 0.5 * z * z);
    const factor = (z * fraction) / TWO_SQRT_TWO_PI;
    return { p: expMinusHalfSquare(z) * factor, logP: -0.5 * z * z + Math.log(factor) };
  }
  if (z > -SQRT_THREE) {
    const halfErf = 0.5 * gammaTails(0.5, 0.5 * z * z).lower;
    const p = z >= 0 ? 0.5 - halfErf : 0.5 + halfErf;
    return { p, logP: Math.log(p) };
  }
  const upper = normalTail(-z).p;
  return { p: 1 - upper, logP: Math.log1p(-upper) };
};

/** Pr(Z ≥ z) for Z ~ N(0, 1), accurate in relative terms far into the tail (see normalTail). */
export const normalSf = (z: number): number => normalTail(z).p;

/** Pr(Z ≤ z) for Z ~ N(0, 1); by symmetry Φ(z) = Pr(Z ≥ −z), so the lower tail is as accurate. */
export const normalCdf = (z: number): number => normalTail(-z).p;

/** ln Pr(Z ≥ z) for Z ~ N(0, 1), finite for every finite z (≈ −z²/2 − ln(z√(2π)) for large z). */
export const logNormalSf = (z: number): number => normalTail(z).logP;

/**
 * The standard normal quantile Φ⁻¹(p) for 0 < p < 1, to within a few ulps for p down to 1e-300.
 * Formula: jstat's erfc-inverse start (accurate to ~1e-15 only for p in [1e-3, 1 − 1e-3]), then
 * Newton steps on ln Φ(z) = ln p, z ← z − (ln Φ(z) − ln p)·Φ(z)/φ(z); for p > ½ the symmetry
 * Φ⁻¹(p) = −Φ⁻¹(1 − p), where 1 − p is exact (Sterbenz).
 */
export const normalQuantile = (p: number): number => {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  if (p > 0.5) return -normalQuantile(1 - p);
  if (p === 0.5) return 0;
  const logTarget = Math.log(p);
  const start = jStat.normal.inv(p, 0, 1);
  let z = Number.isFinite(start) ? start : -Math.sqrt(-2 * logTarget);
  for (let i = 0; i < 8; i++) {
    const logCdf = normalTail(-z).logP;
    const logPdf = -0.5 * z * z - LOG_SQRT_TWO_PI;
    const step = (logCdf - logTarget) * Math.exp(logCdf - logPdf);
    z -= step;
    if (Math.abs(step) <= 1e-15 * Math.abs(z)) break;
  }
  return z;
};
