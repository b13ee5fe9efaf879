import { logGamma } from '../../../core/log-gamma.js';
import { minimise } from '../math/minimise.js';

/** One customer's record on a channel: `sends` messages, `conversions` of them credited with an order. */
export interface SendRecord {
  sends: number;
  conversions: number;
}

/** A Beta(α, β) prior on customers' conversion probabilities, fitted to their send records. */
export interface BetaPrior {
  alpha: number;
  beta: number;
  logLikelihood: number;
  converged: boolean;
}

const logBeta = (a: number, b: number): number => logGamma(a) + logGamma(b) - logGamma(a + b);

/**
 * How far the prior's strength α + β may grow (e^16, about 8.9 million pseudo-sends): customers
 * who differ no more than chance says have their best fit at an infinite strength, and past this
 * ln Γ of it loses the precision the likelihood needs. Before 2026-12-07 the search went on to
 * about 1e162 and reported rounding noise (a log-likelihood of 0, a mean off the pooled rate) as
 * its fit.
 */
export const BETA_PRIOR_LOG_STRENGTH_BOUND = 16;

/**
 * Empirical Bayes: the Beta(α, β) that maximises the beta-binomial likelihood of the customers'
 * (sends, conversions), Σ ln B(k+α, n−k+β) − ln B(α, β) (the binomial coefficients do not
 * depend on α, β), by BFGS over the mean's logit and the strength's log (at most
 * `BETA_PRIOR_LOG_STRENGTH_BOUND`) from the pooled rate with strength 10. Identical records are
 * counted once with a weight.
 */
export const fitBetaPrior = (records: readonly SendRecord[]): BetaPrior => {
  const groups = new Map<string, { n: number; k: number; weight: number }>();
  let sends = 0;
  let conversions = 0;
  for (const r of records) {
    if (!(
      Number.isInteger(r.sends) &&
      r.sends > 0 &&
      r.conversions >= 0 &&
      r.conversions <= r.sends
    ))
      throw new RangeError(`not a send record: ${JSON.stringify(r)}`);
    sends += r.sends;
    conversions += r.conversions;
    const key = `${r.sends}|${r.conversions}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { n: r.sends, k: r.conversions, weight: 1 });
    else g.weight += 1;
  }
  if (sends === 0) throw new RangeError('fitBetaPrior needs at least one send');
  const mean = Math.min(Math.max(conversions / sends, 1e-6), 1 - 1e-6);
  const priorOf = ([logit = 0, logStrength = 0]: readonly number[]) => {
    const m = 1 / (1 + Math.exp(-logit));
    const strength = Math.exp(Math.min(logStrength, BETA_PRIOR_LOG_STRENGTH_BOUND));
    return { a: m * strength, b: (1 - m) * strength };
  };
  const objective = (x: number[]): number => {
    const { a, b } = priorOf(x);
    const base = logBeta(a, b);
    let total = 0;
    for (const g of groups.values()) total += g.weight * (logBeta(g.k + a, g.n - g.k + b) - base);
    const value = -total / records.length;
    return Number.isFinite(value) ? value : Number.NaN;
  };
  const found = minimise(objective, [Math.log(mean / (1 - mean)), Math.log(10)]);
  const { a: alpha, b: beta } = priorOf(found.x);
  // With one send per customer the likelihood depends on α/(α+β) alone: the strength stays
  // where the search started, learnt from nothing — no fit.
  const identified = [...groups.values()].some((g) => g.n >= 2);
  return {
    alpha,
    beta,
    logLikelihood: -found.value * records.length,
    converged: found.converged && identified,
  };
};

/** The posterior mean (k + α) / (n + α + β): a customer's rate shrunk toward the population's. */
export const shrunkRate = (record: SendRecord, prior: Pick<BetaPrior, 'alpha' | 'beta'>): number =>
  (record.conversions + prior.alpha) / (record.sends + prior.alpha + prior.beta);
