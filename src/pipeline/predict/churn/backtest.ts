import { expectedPurchases, fitBgNbd, type BgNbdParams } from '../bg-nbd.js';
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
import {
  churnFeatureNames,
  toChurnFeatures,
  toChurnRow,
  type ActivityFacts,
  type ChurnFeatures,
} from './churn-features.js';

const DAY_MS = 86_400_000;

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

/**
 * Every customer who bought before `cutoffMs`: their churn features then (with a BG/NBD fitted
 * on the orders before it, and their profile's activity then when `activity` has it) and
 * whether they bought nothing in the `churnDays` after it (1).
 */
export const churnSetAt = (
  transactions: readonly Transaction[],
  cutoffMs: number,
  churnDays: number,
  periodDays: number,
  activity?: ReadonlyMap<string, ActivityFacts>,
) => {
  const summaries = summariseTransactions(transactions, {
    cutoffMs,
    holdoutEndMs: cutoffMs + churnDays * DAY_MS,
    periodDays,
  });
  const fit = fitBgNbd(summaries);
  const model = { bgNbd: fit.params, periodDays, churnDays };
  const features = summaries.map((s) =>
    toChurnFeatures(
      {
        firstOrderAtMs: s.firstAtMs,
        lastOrderAtMs: s.lastAtMs,
        orders: s.x + 1,
        totalValue: s.totalValue,
      },
      cutoffMs,
      model,
      activity?.get(s.customerId) ?? null,
    ),
  );
  const labels = summaries.map((s): 0 | 1 => (s.holdoutPurchases === 0 ? 1 : 0));
  return { summaries, features, labels, bgNbd: fit.params };
};

export const measureScorer = (scores: number[], labels: (0 | 1)[]): ScorerQuality => ({
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
  let lastMs = -Infinity;
  for (const t of transactions) {
    firstMs = Math.min(firstMs, t.atMs);
    lastMs = Math.max(lastMs, t.atMs);
  }
  const untilMs = options.untilMs ?? options.splitMs + (options.splitMs - firstMs);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  // An evaluation with nothing in it reported a perfect forecast (0 predicted, 0 happened), and
  // churn judged past the history's end counted every customer as churned.
  if (!(untilMs > options.splitMs))
    throw new RangeError(
      `the evaluation must end after the split (--until ${day(untilMs)} is not after --split ${day(options.splitMs)})`,
    );
  const windowEndMs = options.splitMs + churnDays * DAY_MS;
  if (lastMs < windowEndMs)
    throw new RangeError(
      `the history ends on ${day(lastMs)}, before the ${churnDays} days after the split (to ${day(windowEndMs)}) that churn is judged on: split earlier`,
    );
  const trainCutoffMs = options.splitMs - churnDays * DAY_MS;
  if (!(trainCutoffMs > firstMs))
    throw new RangeError(`the split leaves less than ${churnDays} days of history to learn from`);
  const train = churnSetAt(transactions, trainCutoffMs, churnDays, periodDays);
  const test = churnSetAt(transactions, options.splitMs, churnDays, periodDays);
  const model: LogisticModel = fitLogisticRegression(train.features.map(toChurnRow), train.labels, {
    l2: options.l2 ?? 1,
  });
  const scorers: Record<string, ScorerQuality> = {
    logistic: measureScorer(
      test.features.map((f) => predictLogistic(model, toChurnRow(f))),
      test.labels,
    ),
    'P(no purchase)': measureScorer(
      test.features.map((f) => f.pNoPurchase),
      test.labels,
    ),
  };
  const rule = options.ruleScore;
  if (rule !== undefined)
    scorers['rule-based'] = measureScorer(test.features.map(rule), test.labels);
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
