import {
  expectedPurchases,
  expectedPurchasesIfAlive,
  probabilityAlive,
  type BgNbdParams,
  type PurchaseHistory,
} from './bg-nbd.js';
import { customerLifetimeValue } from './clv.js';
import { expectedSpend, type GammaGammaParams } from './gamma-gamma.js';

const DAYS_PER_MONTH = 365.25 / 12;

/** A fitted CLV model: BG/NBD for purchases, Gamma-Gamma for spend, in one time unit. */
export interface ClvModel {
  bgNbd: BgNbdParams;
  /** Absent when too few customers had repeat purchases to fit spend. */
  gammaGamma?: GammaGammaParams;
  /** The length of the models' time unit in days (7: weeks). */
  periodDays: number;
}

export interface CustomerScore {
  pAlive: number;
  /** Expected purchases in the next `horizonDays`. */
  expectedPurchases: number;
  /** Expected value of one future purchase; null without a spend model. */
  expectedSpend: number | null;
  /** Expected purchases × expected spend over `clvMonths`, discounted monthly; null without spend. */
  clv: number | null;
}

export interface ScoreOptions {
  horizonDays: number;
  clvMonths: number;
  /** Monthly discount rate for CLV (0: none). */
  monthlyDiscount?: number;
}

/**
 * A customer's P(alive), expected purchases over the horizon, expected spend and CLV under a
 * fitted model; `history` is in the model's time unit and `meanSpend` is their mean repeat spend.
 */
export const scoreCustomer = (
  model: ClvModel,
  history: PurchaseHistory & { meanSpend: number },
  options: ScoreOptions,
): CustomerScore => {
  const toPeriods = (days: number) => days / model.periodDays;
  const spend =
    model.gammaGamma === undefined || (history.x > 0 && !(history.meanSpend > 0))
      ? null
      : expectedSpend(history, model.gammaGamma);
  return {
    pAlive: probabilityAlive(history, model.bgNbd),
    expectedPurchases: expectedPurchases(history, model.bgNbd, toPeriods(options.horizonDays)),
    expectedSpend: spend,
    clv:
      spend === null
        ? null
        : customerLifetimeValue(
            (months) => expectedPurchases(history, model.bgNbd, toPeriods(months * DAYS_PER_MONTH)),
            spend,
            options.clvMonths,
            options.monthlyDiscount ?? 0,
          ),
  };
};

/** What a customer's (x, T) alone fixes: forecasts while alive, before P(alive) and spend. */
interface AliveForecast {
  horizon: number;
  /** CLV per unit of spend while alive: Σ_m (E_m − E_{m−1}) / (1+d)^m; null without spend. */
  clvPerSpend: number | null;
}

/**
 * A scorer for many customers under one model and one set of options, with `scoreCustomer`'s
 * figures (to rounding). E[Y(t)] is P(alive) (which needs t_x) times a forecast that depends on
 * x and T only, and in a store T is a whole number of days, so customers share (x, T) by the
 * thousand: each pair's forecasts — the horizon's and, for a discounted CLV, every month's — are
 * computed once and kept (up to `cacheSize` pairs, then computed each time), and a customer costs
 * one P(alive) and a lookup.
 */
export const createCustomerScorer = (
  model: ClvModel,
  options: ScoreOptions,
  { cacheSize = 200_000 } = {},
): ((history: PurchaseHistory & { meanSpend: number }) => CustomerScore) => {
  const toPeriods = (days: number) => days / model.periodDays;
  const horizon = toPeriods(options.horizonDays);
  const cache = new Map<number, Map<number, AliveForecast>>();
  let cached = 0;
  const forecastOf = (x: number, T: number): AliveForecast => ({
    horizon: expectedPurchasesIfAlive(x, T, model.bgNbd, horizon),
    clvPerSpend:
      model.gammaGamma === undefined
        ? null
        : customerLifetimeValue(
            (months) =>
              expectedPurchasesIfAlive(x, T, model.bgNbd, toPeriods(months * DAYS_PER_MONTH)),
            1,
            options.clvMonths,
            options.monthlyDiscount ?? 0,
          ),
  });
  const lookUp = (x: number, T: number): AliveForecast => {
    let byT = cache.get(x);
    let found = byT?.get(T);
    if (found !== undefined) return found;
    found = forecastOf(x, T);
    if (cached < cacheSize) {
      if (byT === undefined) cache.set(x, (byT = new Map<number, AliveForecast>()));
      byT.set(T, found);
      cached++;
    }
    return found;
  };
  return (history) => {
    const forecast = lookUp(history.x, history.T);
    const pAlive = probabilityAlive(history, model.bgNbd);
    const spend =
      model.gammaGamma === undefined || (history.x > 0 && !(history.meanSpend > 0))
        ? null
        : expectedSpend(history, model.gammaGamma);
    return {
      pAlive,
      expectedPurchases: forecast.horizon * pAlive,
      expectedSpend: spend,
      clv:
        spend === null || forecast.clvPerSpend === null
          ? null
          : forecast.clvPerSpend * pAlive * spend,
    };
  };
};
