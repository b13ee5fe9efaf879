import type { Random } from '../../ports/random.js';

/** A uniform draw in (0, 1], safe to take the log of. */
const openUniform = (random: Random): number => 1 - random.next();

/**
 * A standard normal draw by the Box–Muller transform (Box & Muller 1958):
 * √(−2 ln U₁) · cos(2πU₂), with U₁ in (0, 1] so the log is finite.
 */
export const sampleNormal = (random: Random): number =>
  Math.sqrt(-2 * Math.log(openUniform(random))) * Math.cos(2 * Math.PI * random.next());

/**
 * A Gamma(shape, 1) draw by Marsaglia & Tsang's squeeze method ("A simple method for generating
 * gamma variables", ACM TOMS 26(3), 2000): d = shape − ⅓, c = 1/√(9d); draw x ~ N(0, 1) and
 * v = (1 + cx)³ until v > 0 and U < 1 − 0.0331x⁴ or ln U < ½x² + d(1 − v + ln v); return d·v.
 * For shape < 1 it returns Gamma(shape + 1)·U^(1/shape) (same paper, §6). More than 95 % of
 * draws are accepted on the first try at any shape.
 */
export const sampleGamma = (shape: number, random: Random): number => {
  if (!(shape > 0 && Number.isFinite(shape))) {
    throw new RangeError(`gamma shape must be a positive finite number, got ${shape}`);
  }
  if (shape < 1) {
    return sampleGamma(shape + 1, random) * Math.pow(openUniform(random), 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = sampleNormal(random);
    const base = 1 + c * x;
    if (base <= 0) continue;
    const v = base * base * base;
    const u = openUniform(random);
    const square = x * x;
    if (u < 1 - 0.0331 * square * square) return d * v;
    if (Math.log(u) < 0.5 * square + d * (1 - v + Math.log(v))) return d * v;
  }
};

/** A Beta(alpha, beta) draw as X/(X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta). */
export const sampleBeta = (alpha: number, beta: number, random: Random): number => {
  const x = sampleGamma(alpha, random);
  const y = sampleGamma(beta, random);
  // Both can underflow to 0 for tiny shapes; the split is then a fair coin between the ends.
  if (x + y === 0) return random.next() < alpha / (alpha + beta) ? 1 : 0;
  return x / (x + y);
};
