import { expectedPurchases, fitBgNbd, probabilityAlive, type BgNbdParams } from '../bg-nbd.js';
import { expectedSpend, fitGammaGamma } from '../gamma-gamma.js';
import {
  summariseTransactions,
  type CustomerSummary,
  type Transaction,
} from '../summarise-transactions.js';
import {
  areaUnderRoc,
  brierScore,
  calibrationCurve,
  liftInTopDecile,
  type CalibrationBin,
} from './classification-metrics.js';
import {
  fitLogisticRegression,
  predictLogistic,
  type LogisticModel,
} from './logistic-regression.js';

const DAY_MS = 86_400_000;

/** What a churn scorer sees of a customer at a cutoff: order facts only. */
export interface ChurnFeatures {
  daysSinceLastOrder: number;
  /** Purchase days before the cutoff, the first included. */
  orders: number;
  totalValue: number;
  tenureDays: number;
  /** P(alive) from a BG/NBD fitted on the orders before the same cutoff. */
  pAlive: number;
  /** BG/NBD expected purchases in the churn window. */
  expectedPurchases: number;
}

export const churnFeatureNames = [
  'days since last order',
  'ln(1 + orders)',
  'ln(1 + total value)',
  'tenure days',
  'BG/NBD P(alive)',
  'ln(1 + BG/NBD expected purchases in the window)',
];

const toRow = (f: ChurnFeatures): number[] => [
  f.daysSinceLastOrder,
  Math.log1p(f.orders),
  Math.log1p(f.totalValue),
  f.tenureDays,
  f.pAlive,
  Math.log1p(f.expectedPurchases),
];

export interface ScorerQuality {
  auc: number;
  brier: number;
  liftTopDecile: number;
  calibration: CalibrationBin[];
}

export interface BacktestOptions {
  /** Train on what happened before this instant, evaluate after it. */
  splitMs: number;
  /** The end of the evaluation period (default: as long after the split as the data before it). */
  untilMs?: number;
  /** Churn means no purchase in this many days after a cutoff (default 90). */
  churnDays?: number;
  periodDays?: number;
  /** L2 penalty of the logistic regression on standardised features (default 1). */
  l2?: number;
  /** The rule-based churn score (in [0, 1], higher = riskier) to compare with. */
  ruleScore?: (f: ChurnFeatures) => number;
}

export interface BacktestReport {
  splitMs: number;
  untilMs: number;
  churnDays: number;
  /** Customers scored at the split (first purchase before it), and the share that churned. */
  customers: number;
  churnRate: number;
  trainingCustomers: number;
  scorers: Record<string, ScorerQuality>;
  logistic: { features: string[]; weights: number[]; converged: boolean };
  bgNbd: BgNbdParams;
  /** BG/NBD + Gamma-Gamma forecasts of the evaluation period against what happened. */
  forecast: {
    predictedPurchases: number;
    actualPurchases: number;
    maePurchases: number;
    predictedValue: number | null;
    actualValue: number;
    maeValue: number | null;
  };
}

const featuresAt = (
  transactions: readonly Transaction[],
  cutoffMs: number,
  churnDays: number,
  periodDays: number,
) => {
  const summaries = summariseTransactions(transactions, {
    cutoffMs,
    holdoutEndMs: cutoffMs + churnDays * DAY_MS,
    periodDays,
  });
  const fit = fitBgNbd(summaries);
  const lastDayMs = Math.floor((cutoffMs - 1) / DAY_MS) * DAY_MS;
  const features = summaries.map((s): ChurnFeatures => ({
    daysSinceLastOrder: (lastDayMs - s.lastAtMs) / DAY_MS,
    orders: s.x + 1,
    totalValue: s.totalValue,
    tenureDays: (lastDayMs - s.firstAtMs) / DAY_MS,
    pAlive: probabilityAlive(s, fit.params),
    expectedPurchases: expectedPurchases(s, fit.params, churnDays / periodDays),
  }));
  const labels = summaries.map((s): 0 | 1 => (s.holdoutPurchases === 0 ? 1 : 0));
  return { summaries, features, labels, bgNbd: fit.params };
};

const quality = (scores: number[], labels: (0 | 1)[]): ScorerQuality => ({
  auc: areaUnderRoc(scores, labels),
  brier: brierScore(scores, labels),
  liftTopDecile: liftInTopDecile(scores, labels),
  calibration: calibrationCurve(scores, labels),
});

const forecastError = (
  summaries: readonly CustomerSummary[],
  bgNbd: BgNbdParams,
  periods: number,
) => {
  const repeaters = summaries.filter((s) => s.x > 0 && s.meanSpend > 0);
  const spend = repeaters.length >= 20 ? fitGammaGamma(repeaters).params : undefined;
  let predictedPurchases = 0;
  let actualPurchases = 0;
  let absPurchases = 0;
  let predictedValue = 0;
  let actualValue = 0;
  let absValue = 0;
  for (const s of summaries) {
    const n = expectedPurchases(s, bgNbd, periods);
    predictedPurchases += n;
    actualPurchases += s.holdoutPurchases;
    absPurchases += Math.abs(n - s.holdoutPurchases);
    actualValue += s.holdoutValue;
    if (spend !== undefined && (s.x === 0 || s.meanSpend > 0)) {
      const v = n * expectedSpend(s, spend);
      predictedValue += v;
      absValue += Math.abs(v - s.holdoutValue);
    }
  }
  return {
    predictedPurchases,
    actualPurchases,
    maePurchases: absPurchases / summaries.length,
    predictedValue: spend === undefined ? null : predictedValue,
    actualValue,
    maeValue: spend === undefined ? null : absValue / summaries.length,
  };
};

/**
 * A time-based backtest of the churn scorers and the CLV forecast. The logistic regression learns
 * from features at split − churnDays and whether each customer bought in the churn window up to
 * the split; every scorer then scores the customers at the split and is judged on whether they
 * bought in the churn window after it — no information from after the split is used to train.
 * The BG/NBD and Gamma-Gamma fitted before the split also forecast purchases and spend up to
 * `untilMs`, against what happened.
 */
export const backtestChurn = (
  transactions: readonly Transaction[],
  options: BacktestOptions,
): BacktestReport => {
  const churnDays = options.churnDays ?? 90;
  const periodDays = options.periodDays ?? 7;
  let firstMs = Infinity;
  for (const t of transactions) firstMs = Math.min(firstMs, t.atMs);
  const untilMs = options.untilMs ?? options.splitMs + (options.splitMs - firstMs);
  const trainCutoffMs = options.splitMs - churnDays * DAY_MS;
  if (!(trainCutoffMs > firstMs))
    throw new RangeError(`the split leaves less than ${churnDays} days of history to learn from`);
  const train = featuresAt(transactions, trainCutoffMs, churnDays, periodDays);
  const test = featuresAt(transactions, options.splitMs, churnDays, periodDays);
  const model: LogisticModel = fitLogisticRegression(train.features.map(toRow), train.labels, {
    l2: options.l2 ?? 1,
  });
  const scorers: Record<string, ScorerQuality> = {
    logistic: quality(
      test.features.map((f) => predictLogistic(model, toRow(f))),
      test.labels,
    ),
    '1 - P(alive)': quality(
      test.features.map((f) => 1 - f.pAlive),
      test.labels,
    ),
  };
  const rule = options.ruleScore;
  if (rule !== undefined) scorers['rule-based'] = quality(test.features.map(rule), test.labels);
  const horizon = summariseTransactions(transactions, {
    cutoffMs: options.splitMs,
    holdoutEndMs: untilMs,
    periodDays,
  });
  return {
    splitMs: options.splitMs,
    untilMs,
    churnDays,
    customers: test.labels.length,
    churnRate: test.labels.reduce<number>((s, l) => s + l, 0) / test.labels.length,
    trainingCustomers: train.labels.length,
    scorers,
    logistic: {
      features: churnFeatureNames,
      weights: model.weights,
      converged: model.converged,
    },
    bgNbd: test.bgNbd,
    forecast: forecastError(horizon, test.bgNbd, (untilMs - options.splitMs) / DAY_MS / periodDays),
  };
};
