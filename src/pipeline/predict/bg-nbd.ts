import { hyp2f1 } from './math/hyp2f1.js';
import { logGamma } from '../../core/log-gamma.js';
import { minimise } from './math/minimise.js';

/**
 * One customer's purchase history in the BG/NBD's terms, in one time unit (weeks for CDNOW):
 * `x` repeat purchases (after the first), the last of them at `tx` after the first purchase
 * (0 when x = 0), and `T` the time from the first purchase to the end of the calibration period.
 */
export interface PurchaseHistory {
  x: number;
  tx: number;
  T: number;
}

/** BG/NBD parameters: purchase rates ~ Gamma(r, α), drop-out probabilities ~ Beta(a, b). */
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface BgNbdFit {
  params: BgNbdParams;
  /** The maximised log-likelihood, summed over customers. */
  logLikelihood: number;
  customers: number;
  iterations: number;
  converged: boolean;
}

const logAddExp = (u: number, v: number): number => {
  const m = Math.max(u, v);
  return m + Math.log(Math.exp(u - m) + Math.exp(v - m));
};

/**
 * The log-likelihood of one customer's (x, t_x, T) under the BG/NBD (Fader, Hardie & Lee 2005,
 * eq. 6), in log space: ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
 * + ln[(α+T)^−(r+x) + 1{x>0} a/(b+x−1) (α+t_x)^−(r+x)], the last sum by log-sum-exp.
 */
export const bgNbdLogLikelihood = (h: PurchaseHistory, p: BgNbdParams): number => {
  const { r, alpha, a, b } = p;
  const { x, tx, T } = h;
  const gammas =
    logGamma(r + x) -
    logGamma(r) +
    r * Math.log(alpha) +
    logGamma(a + b) +
    logGamma(b + x) -
    logGamma(b) -
    logGamma(a + b + x);
  const stays = -(r + x) * Math.log(alpha + T);
  if (x === 0) return gammas + stays;
  const left = Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx);
  return gammas + logAddExp(stays, left);
};

/** Identical histories counted once with a weight: many customers share x = 0 and one T. */
const groupHistories = (histories: readonly PurchaseHistory[]) => {
  const groups = new Map<string, { h: PurchaseHistory; n: number }>();
  for (const h of histories) {
    const key = `${h.x}|${h.tx}|${h.T}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { h, n: 1 });
    else g.n += 1;
  }
  return [...groups.values()];
};

const toParams = ([lr = 0, lalpha = 0, la = 0, lb = 0]: readonly number[]): BgNbdParams => ({
  r: Math.exp(lr),
  alpha: Math.exp(lalpha),
  a: Math.exp(la),
  b: Math.exp(lb),
});

/** The summed log-likelihood of many customers; ln Γ terms are shared by customers with one x. */
export const bgNbdTotalLogLikelihood = (
  histories: readonly PurchaseHistory[],
  p: BgNbdParams,
): number => sumGrouped(groupHistories(histories), p);

const sumGrouped = (groups: readonly { h: PurchaseHistory; n: number }[], p: BgNbdParams) => {
  const { r, alpha, a, b } = p;
  // The ln Γ terms depend on x alone: computed once per distinct x, not once per customer.
  const perX = new Map<number, { gammas: number; logOdds: number }>();
  const base = r * Math.log(alpha) + logGamma(a + b) - logGamma(r) - logGamma(b);
  let total = 0;
  for (const { h, n } of groups) {
    let c = perX.get(h.x);
    if (c === undefined) {
      c = {
        gammas: base + logGamma(r + h.x) + logGamma(b + h.x) - logGamma(a + b + h.x),
        logOdds: h.x === 0 ? -Infinity : Math.log(a) - Math.log(b + h.x - 1),
      };
      perX.set(h.x, c);
    }
    const stays = -(r + h.x) * Math.log(alpha + h.T);
    const ll =
      h.x === 0
        ? c.gammas + stays
        : c.gammas + logAddExp(stays, c.logOdds - (r + h.x) * Math.log(alpha + h.tx));
    total += n * ll;
  }
  return total;
};

const checkHistory = (h: PurchaseHistory): void => {
  const valid =
    Number.isInteger(h.x) &&
    h.x >= 0 &&
    h.tx >= 0 &&
    h.T >= h.tx &&
    (h.x > 0 || h.tx === 0) &&
    Number.isFinite(h.T);
  if (!valid) throw new RangeError(`not a purchase history: ${JSON.stringify(h)}`);
};

/**
 * Fits the BG/NBD by maximum likelihood: BFGS over (ln r, ln α, ln a, ln b), so every parameter
 * stays positive, minimising the mean negative log-likelihood (a scale near 1 suits the
 * optimiser's identity start). Throws on an empty or malformed input.
 */
export const fitBgNbd = (
  histories: readonly PurchaseHistory[],
  start: BgNbdParams = { r: 1, alpha: 1, a: 1, b: 1 },
): BgNbdFit => {
  if (histories.length === 0) throw new RangeError('fitBgNbd needs at least one customer');
  for (const h of histories) checkHistory(h);
  const groups = groupHistories(histories);
  const n = histories.length;
  const objective = (theta: number[]): number => {
    const value = -sumGrouped(groups, toParams(theta)) / n;
    // The line search halves its step on NaN; an overflow to ±∞ is treated the same way.
    return Number.isFinite(value) ? value : Number.NaN;
  };
  const found = minimise(objective, [start.r, start.alpha, start.a, start.b].map(Math.log));
  return {
    params: toParams(found.x),
    logLikelihood: -found.value * n,
    customers: n,
    iterations: found.iterations,
    converged: found.converged,
  };
};

/**
 * P(alive | x, t_x, T) (Fader, Hardie & Lee 2005, eq. 11):
 * 1 / (1 + 1{x>0} a/(b+x−1) ((α+T)/(α+t_x))^(r+x)); a customer with no repeat purchase is
 * alive with probability 1 under the model (drop-out happens only right after a purchase).
 */
export const probabilityAlive = (h: PurchaseHistory, p: BgNbdParams): number => {
  if (h.x === 0) return 1;
  const logOdds =
    Math.log(p.a) -
    Math.log(p.b + h.x - 1) +
    (p.r + h.x) * (Math.log(p.alpha + h.T) - Math.log(p.alpha + h.tx));
  return 1 / (1 + Math.exp(logOdds));
};

/**
 * P(Y(t) = 0 | x, t_x, T), the probability of no purchase in the next `t` periods (Fader, Hardie
 * & Lee 2005, §3 and eq. 11): a customer who dropped out buys nothing, and one still alive has
 * λ | data ~ Gamma(r+x, α+T), so buys nothing with probability ((α+T)/(α+T+t))^(r+x):
 * (1 − P(alive)) + P(alive) · ((α+T)/(α+T+t))^(r+x). Not 1 − P(alive): an alive customer may
 * buy nothing too, and one with no repeat purchase (P(alive) = 1) often does.
 */
export const probabilityNoPurchase = (h: PurchaseHistory, p: BgNbdParams, t: number): number => {
  if (t <= 0) return 1;
  const alive = probabilityAlive(h, p);
  const silentIfAlive = Math.exp((p.r + h.x) * Math.log((p.alpha + h.T) / (p.alpha + h.T + t)));
  return 1 - alive + alive * silentIfAlive;
};

/**
 * E[Y(t) | x, t_x, T], the expected purchases in the next `t` periods (Fader, Hardie & Lee 2005,
 * eq. 10):
 *   (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
 *   / (1 + 1{x>0} a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).
 * Both the factor and the bracket change sign at a = 1, so the product is valid for a < 1 too
 * (CDNOW's a = 0.793); a within 1e-9 of 1 is nudged off the removable singularity. Needs
 * a+b+x−1 > 0 for the series.
 */
export const expectedPurchases = (h: PurchaseHistory, p: BgNbdParams, t: number): number => {
  if (t <= 0) return 0;
  const numerator = expectedPurchasesIfAlive(h.x, h.T, p, t);
  if (h.x === 0) return numerator;
  const a = Math.abs(p.a - 1) < 1e-9 ? 1 + 1e-9 : p.a;
  const { r, alpha, b } = p;
  const { x, tx, T } = h;
  const odds = (a / (b + x - 1)) * Math.exp((r + x) * Math.log((alpha + T) / (alpha + tx)));
  return numerator / (1 + odds);
};

/**
 * Eq. 10's numerator, (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(…)]: the expected
 * purchases in the next `t` periods of a customer known to be alive. It depends on x and T but
 * not on t_x, and E[Y(t) | x, t_x, T] is it times P(alive), so customers who share (x, T) share
 * it (`createCustomerScorer`).
 */
export const expectedPurchasesIfAlive = (
  x: number,
  T: number,
  p: BgNbdParams,
  t: number,
): number => {
  if (t <= 0) return 0;
  const a = Math.abs(p.a - 1) < 1e-9 ? 1 + 1e-9 : p.a;
  const { r, alpha, b } = p;
  const z = t / (alpha + T + t);
  const f = hyp2f1(r + x, b + x, a + b + x - 1, z);
  const bracket = 1 - Math.exp((r + x) * Math.log((alpha + T) / (alpha + T + t))) * f;
  return ((a + b + x - 1) / (a - 1)) * bracket;
};

/**
 * E[X(t)], the expected purchases of a new customer in their first `t` periods (eq. 9):
 * (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))].
 */
export const expectedPurchasesOfNewCustomer = (p: BgNbdParams, t: number): number =>
  expectedPurchases({ x: 0, tx: 0, T: 0 }, p, t);
