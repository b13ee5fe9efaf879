import {
  expectedPurchases,
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
