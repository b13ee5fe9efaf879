import type { ModelDraft, ModelStore, ModelVersion } from '../../ports/model-store.js';
import { expectedPurchases, fitBgNbd, type BgNbdFit } from './bg-nbd.js';
import { checkTrainingGate, defaultTrainingGate, type TrainingGate } from './data-gate.js';
import { featureBinsOf } from './feature-bins.js';
import { fitGammaGamma, type GammaGammaFit } from './gamma-gamma.js';
import {
  summariseTransactions,
  type CustomerSummary,
  type Transaction,
} from './summarise-transactions.js';

const DAY_MS = 86_400_000;

export interface TrainOptions {
  /** The training run's own time (the registry's `trainedAtMs`). */
  nowMs: number;
  /** Orders before this instant are used (default: `nowMs`). */
  cutoffMs?: number;
  /**
   * The last `holdoutDays` before the cutoff are held out once to measure the forecast (a model
   * fitted on the days before them predicts them); 0 skips the measurement.
   */
  holdoutDays?: number;
  /** Length of the model's time unit in days (default 7, as in the BG/NBD paper). */
  periodDays?: number;
  gate?: TrainingGate;
  /** Orders read per page. */
  pageSize?: number;
}

export const clvFeatures = [
  'frequency (repeat purchase days)',
  'recency (first to last purchase day)',
  'T (first purchase day to cutoff)',
  'mean repeat spend',
];

/** Every order before `beforeMs`, paged through the store by order id. */
export const loadTransactions = async (
  store: Pick<ModelStore, 'listOrders'>,
  beforeMs: number,
  pageSize = 10_000,
): Promise<Transaction[]> => {
  const out: Transaction[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await store.listOrders(after, pageSize);
    for (const o of page)
      if (o.placedAtMs < beforeMs)
        out.push({ customerId: o.customerId, atMs: o.placedAtMs, value: o.totalCents / 100 });
    const last = page.at(-1);
    if (last === undefined || page.length < pageSize) return out;
    after = last.orderId;
  }
};

/** The spend model, or why there is none (spend, and so CLV, is then not scored). */
const fitSpend = (
  summaries: readonly CustomerSummary[],
): { fit: GammaGammaFit; refused: null } | { fit: undefined; refused: string } => {
  const repeaters = summaries.filter((s) => s.x > 0 && s.meanSpend > 0);
  // Three parameters need more than a handful of repeat customers; below that spend is unknown.
  if (repeaters.length < 20)
    return { fit: undefined, refused: `${String(repeaters.length)} repeat customers (20 needed)` };
  try {
    const fit = fitGammaGamma(repeaters);
    // A fit gone wrong (an infinite mean spend, a run to the edge of its range) is never a
    // model to score with.
    return fit.problem === null ? { fit, refused: null } : { fit: undefined, refused: fit.problem };
  } catch (error) {
    return { fit: undefined, refused: `the fit failed: ${(error as Error).message}` };
  }
};

/** Forecast quality on the held-out days, from a fit on the days before them. */
const measureHoldout = (
  transactions: readonly Transaction[],
  cutoffMs: number,
  holdoutDays: number,
  periodDays: number,
): Record<string, number> => {
  const calibrationEndMs = cutoffMs - holdoutDays * DAY_MS;
  const summaries = summariseTransactions(transactions, {
    cutoffMs: calibrationEndMs,
    holdoutEndMs: cutoffMs,
    periodDays,
  });
  if (summaries.length === 0) return {};
  const fit = fitBgNbd(summaries);
  const t = holdoutDays / periodDays;
  let absError = 0;
  let naiveError = 0;
  let predicted = 0;
  let actual = 0;
  for (const s of summaries) {
    const forecast = expectedPurchases(s, fit.params, t);
    // The naive baseline: the customer's calibration rate of repeat purchases carried forward.
    const naive = s.T > 0 ? (s.x / s.T) * t : 0;
    absError += Math.abs(forecast - s.holdoutPurchases);
    naiveError += Math.abs(naive - s.holdoutPurchases);
    predicted += forecast;
    actual += s.holdoutPurchases;
  }
  return {
    holdoutDays,
    holdoutCustomers: summaries.length,
    holdoutPredictedPurchases: predicted,
    holdoutActualPurchases: actual,
    holdoutMaePurchases: absError / summaries.length,
    holdoutMaePurchasesNaive: naiveError / summaries.length,
  };
};

const paramsOf = (bg: BgNbdFit, gg: GammaGammaFit | undefined): ModelDraft['params'] => ({
  bgNbd: { ...bg.params },
  ...(gg === undefined ? {} : { gammaGamma: { ...gg.params } }),
});

/**
 * Trains the CLV model (BG/NBD + Gamma-Gamma) on the store's orders before the cutoff and
 * registers the run. Below the data-sufficiency gate nothing is fitted: the run is registered
 * as `insufficient-data` with the reason, so the rule-based scores stay and say why.
 */
export const trainClvModel = async (
  store: Pick<ModelStore, 'listOrders' | 'saveModel'>,
  options: TrainOptions,
): Promise<ModelVersion> => {
  const transactions = await loadTransactions(
    store,
    options.cutoffMs ?? options.nowMs,
    options.pageSize,
  );
  return store.saveModel(toClvDraft(transactions, options));
};

/** The CLV registry entry for the orders before the cutoff (see `trainClvModel`). */
export const toClvDraft = (
  transactions: readonly Transaction[],
  options: TrainOptions,
): ModelDraft => {
  const cutoffMs = options.cutoffMs ?? options.nowMs;
  const periodDays = options.periodDays ?? 7;
  const holdoutDays = options.holdoutDays ?? 0;
  const gate = options.gate ?? defaultTrainingGate;
  const checked = checkTrainingGate(transactions, cutoffMs, gate);
  const { historyDays, shortfalls } = checked;
  const base = {
    kind: 'clv',
    trainedAtMs: options.nowMs,
    windowStartMs: checked.firstMs,
    windowEndMs: cutoffMs,
    features: clvFeatures,
  };
  const gateDetails = {
    orderingCustomers: checked.orderingCustomers,
    historyDays: Math.floor(historyDays),
    repeatCustomers: checked.repeatCustomers,
    orders: transactions.length,
    gate: { ...gate },
    periodDays,
  };
  if (shortfalls.length > 0)
    return {
      ...base,
      status: 'insufficient-data',
      reason: `not enough data: ${shortfalls.join('; ')}; the rule-based scores stay`,
      params: {},
      metrics: {},
      details: gateDetails,
    };
  const summaries = summariseTransactions(transactions, { cutoffMs, periodDays });
  const bg = fitBgNbd(summaries);
  const spend = fitSpend(summaries);
  const gg = spend.fit;
  const metrics: Record<string, number> = {
    customers: summaries.length,
    bgNbdLogLikelihood: bg.logLikelihood,
    ...(gg === undefined
      ? {}
      : { gammaGammaLogLikelihood: gg.logLikelihood, gammaGammaCustomers: gg.customers }),
    ...(holdoutDays > 0 && holdoutDays < historyDays
      ? measureHoldout(transactions, cutoffMs, holdoutDays, periodDays)
      : {}),
  };
  return {
    ...base,
    status: 'trained',
    reason: null,
    params: paramsOf(bg, gg),
    metrics,
    details: {
      ...gateDetails,
      converged: bg.converged && (gg?.converged ?? true),
      // Why there is no spend model (and so no CLV), when there is none.
      ...(spend.refused === null ? {} : { spendModelRefused: spend.refused }),
      // What the customers looked like, for the drift check against later ones.
      featureBins: featureBinsOf(summaries),
    },
  };
};
