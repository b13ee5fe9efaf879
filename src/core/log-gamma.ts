// Lanczos approximation, g = 7, n = 9 (Godfrey's coefficients as tabulated in Press et al.,
// Numerical Recipes 3rd ed., §6.1, and Pugh 2004): relative error below 1e-15 for x ≥ 1/2.
// Shared by the statistics (measure) and the customer-base models (predict).
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
] as const;
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * ln Γ(x) for x > 0, with an absolute error near 1e-15·max(1, |ln Γ(x)|).
 * Formula: Γ(x + 1) = √(2π) (x + g + ½)^(x+½) e^−(x+g+½) A_g(x) (Lanczos 1964), with the
 * reflection Γ(x) Γ(1 − x) = π / sin(πx) for x < ½.
 */
export const logGamma = (x: number): number => {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const shifted = x - 1;
  let series = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) series += (LANCZOS[i] ?? 0) / (shifted + i);
  const t = shifted + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (shifted + 0.5) * Math.log(t) - t + Math.log(series);
};
