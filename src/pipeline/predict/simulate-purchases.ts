import type { Random } from '../../ports/random.js';
import type { BgNbdParams, PurchaseHistory } from './bg-nbd.js';

const standardNormal = (random: Random): number => {
  // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1].
  const u = 1 - random.next();
  const v = random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
};

/** A Gamma(shape, 1) draw (Marsaglia & Tsang 2000; shape < 1 boosted by U^(1/shape)). */
export const sampleGamma = (shape: number, random: Random): number => {
  if (shape < 1) return sampleGamma(shape + 1, random) * Math.pow(1 - random.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = standardNormal(random);
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    const u = 1 - random.next();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
};

const sampleBeta = (a: number, b: number, random: Random): number => {
  const g = sampleGamma(a, random);
  return g / (g + sampleGamma(b, random));
};

/**
 * Purchase times of one simulated BG/NBD customer after their first purchase at 0, up to
 * `until`: Poisson purchases at rate λ ~ Gamma(r, α), and after each purchase the customer
 * drops out with probability p ~ Beta(a, b) (Fader, Hardie & Lee 2005, §3).
 */
export const simulatePurchaseTimes = (p: BgNbdParams, until: number, random: Random): number[] => {
  const rate = sampleGamma(p.r, random) / p.alpha;
  const dropout = sampleBeta(p.a, p.b, random);
  const times: number[] = [];
  let t = 0;
  for (;;) {
    t += -Math.log(1 - random.next()) / rate;
    if (t > until) return times;
    times.push(t);
    if (random.next() < dropout) return times;
  }
};

/** A seeded BG/NBD population observed for `T` periods each: for tests and benchmarks. */
export const simulateHistories = (
  p: BgNbdParams,
  customers: number,
  T: number,
  random: Random,
): PurchaseHistory[] =>
  Array.from({ length: customers }, () => {
    const times = simulatePurchaseTimes(p, T, random);
    return { x: times.length, tx: times.at(-1) ?? 0, T };
  });
