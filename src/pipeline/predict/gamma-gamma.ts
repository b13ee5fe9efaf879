import { logGamma } from '../../core/log-gamma.js';
import { minimise } from './math/minimise.js';

/** A repeat customer's spend: `x` ≥ 1 repeat purchases with mean value `meanSpend` > 0. */
export interface SpendHistory {
  x: number;
  meanSpend: number;
}

/**
 * Gamma-Gamma parameters: a purchase's value ~ Gamma(p, ν) with the customer's ν ~ Gamma(q, γ),
 * so a customer's mean spend is p/ν and the population's is pγ/(q − 1).
 */
export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

export interface GammaGammaFit {
  params: GammaGammaParams;
  logLikelihood: number;
  customers: number;
  iterations: number;
  converged: boolean;
  /**
   * Why the fit is no model to score with, or null when it is one: it did not converge, its
   * mean spend is infinite (q ≤ 1), it ran to the edge of the parameters' range (spend that
   * barely varies between customers has its optimum at infinity), or the population's mean
   * spend it implies is far from the customers' own.
   */
  problem: string | null;
}

/**
 * How far ln p and ln q may go (about 8.9 million): past that, ln Γ of them loses the precision
 * the likelihood's differences need, and a fit that wants more describes no variation between
 * customers, which the model cannot.
 */
export const GAMMA_GAMMA_LOG_BOUND = 16;
/** How far ln γ may go: γ is in the currency's units (scaled by q/p), so it has more room. */
const LOG_GAMMA_BOUND = 40;
/** How far the population's mean spend pγ/(q − 1) may be from the customers' mean m̄, as a factor. */
const MEAN_SPEND_FACTOR = 3;

/**
 * The log-density of a customer's mean spend m̄ over x purchases (Fader & Hardie 2013, "The
 * Gamma-Gamma Model of Monetary Value", eq. 3): ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ
 * + (px−1) ln m̄ + px ln x − (px+q) ln(γ + x m̄).
 */
export const gammaGammaLogLikelihood = (h: SpendHistory, g: GammaGammaParams): number => {
  const px = g.p * h.x;
  return (
    logGamma(px + g.q) -
    logGamma(px) -
    logGamma(g.q) +
    g.q * Math.log(g.gamma) +
    (px - 1) * Math.log(h.meanSpend) +
    px * Math.log(h.x) -
    (px + g.q) * Math.log(g.gamma + h.x * h.meanSpend)
  );
};

const toParams = ([lp = 0, lq = 0, lg = 0]: readonly number[]): GammaGammaParams => ({
  p: Math.exp(lp),
  q: Math.exp(lq),
  gamma: Math.exp(lg),
});

/**
 * Fits the Gamma-Gamma model by maximum likelihood (BFGS over ln p, ln q, ln γ) on customers
 * with at least one repeat purchase and a positive mean spend; others are refused, because the
 * model describes repeat spend only.
 */
export const fitGammaGamma = (
  histories: readonly SpendHistory[],
  start: GammaGammaParams = { p: 1, q: 1, gamma: 1 },
): GammaGammaFit => {
  if (histories.length === 0) throw new RangeError('fitGammaGamma needs at least one customer');
  for (const h of histories)
    if (!(Number.isInteger(h.x) && h.x >= 1 && h.meanSpend > 0 && Number.isFinite(h.meanSpend)))
      throw new RangeError(`not a repeat customer's spend: ${JSON.stringify(h)}`);
  const n = histories.length;
  const mean = histories.reduce((sum, h) => sum + h.meanSpend, 0) / n;
  const inRange = ([lp = 0, lq = 0, lg = 0]: readonly number[], margin = 0): boolean =>
    Math.abs(lp) <= GAMMA_GAMMA_LOG_BOUND - margin &&
    Math.abs(lq) <= GAMMA_GAMMA_LOG_BOUND - margin &&
    Math.abs(lg) <= LOG_GAMMA_BOUND - margin;
  const objective = (theta: number[]): number => {
    // Outside the range the terms below are rounding noise the optimiser would chase.
    if (!inRange(theta)) return Number.NaN;
    const g = toParams(theta);
    // ln Γ(px+q) − ln Γ(px) depends on x alone: computed once per distinct x.
    const perX = new Map<number, number>();
    let total = 0;
    try {
      const base = -logGamma(g.q);
      for (const h of histories) {
        const px = g.p * h.x;
        let c = perX.get(h.x);
        if (c === undefined)
          perX.set(h.x, (c = logGamma(px + g.q) - logGamma(px) + px * Math.log(h.x)));
        // q ln γ − (px+q) ln(γ + x m̄), without the two large terms that cancel.
        const spend = h.x * h.meanSpend;
        total +=
          base +
          c +
          (px - 1) * Math.log(h.meanSpend) -
          g.q * Math.log1p(spend / g.gamma) -
          px * Math.log(g.gamma + spend);
      }
    } catch {
      // ln Γ of an argument that underflowed to 0: no value here.
      return Number.NaN;
    }
    const value = -total / n;
    return Number.isFinite(value) ? value : Number.NaN;
  };
  const problemOf = (theta: readonly number[], converged: boolean, logLikelihood: number) => {
    const g = toParams(theta);
    if (!converged) return 'the fit did not converge';
    if (!Number.isFinite(logLikelihood)) return 'the likelihood is not finite';
    if (!(g.q > 1)) return `the mean spend is infinite (q = ${String(g.q)} ≤ 1)`;
    if (!inRange(theta, 0.5))
      return 'the fit ran to the edge of its range: spend varies too little between customers for the model';
    const implied = (g.p * g.gamma) / (g.q - 1);
    if (!(implied <= mean * MEAN_SPEND_FACTOR && implied >= mean / MEAN_SPEND_FACTOR))
      return `the population's mean spend it implies (${implied.toPrecision(4)}) is far from the customers' (${mean.toPrecision(4)})`;
    return null;
  };
  const fitFrom = (from: GammaGammaParams): GammaGammaFit => {
    const found = minimise(objective, [from.p, from.q, from.gamma].map(Math.log));
    const logLikelihood = -found.value * n;
    return {
      params: toParams(found.x),
      logLikelihood,
      customers: n,
      iterations: found.iterations,
      converged: found.converged,
      problem: problemOf(found.x, found.converged, logLikelihood),
    };
  };
  const first = fitFrom(start);
  if (first.problem === null) return first;
  // Stuck (spend that varies little from customer to customer puts the optimum far from
  // p = q = γ = 1): again from starts whose population mean pγ/(q−1) is the sample's, the
  // best usable fit kept.
  const fits = [
    first,
    ...[
      { p: 10, q: 10 },
      { p: 10, q: 100 },
      { p: 100, q: 1000 },
    ].map(({ p, q }) => fitFrom({ p, q, gamma: (mean * (q - 1)) / p })),
  ];
  const usable = fits.filter((f) => f.problem === null);
  const pool = usable.length > 0 ? usable : fits;
  return pool.reduce((best, f) =>
    // A likelihood that is not a number loses to any that is.
    f.logLikelihood > best.logLikelihood || Number.isNaN(best.logLikelihood) ? f : best,
  );
};

/**
 * E[M | p, q, γ, m̄, x] = (γ + x m̄) p / (px + q − 1) (Fader & Hardie 2013, eq. 5): a weighted
 * mean of the population mean pγ/(q−1) and the customer's own m̄, leaning on m̄ as x grows. A
 * customer with no repeat purchase (x = 0) gets the population mean. Needs q > 1.
 */
export const expectedSpend = (h: SpendHistory, g: GammaGammaParams): number => {
  if (!(g.q > 1)) throw new RangeError(`the mean spend is infinite when q ≤ 1 (q = ${g.q})`);
  if (h.x === 0) return (g.p * g.gamma) / (g.q - 1);
  return ((g.gamma + h.x * h.meanSpend) * g.p) / (g.p * h.x + g.q - 1);
};
