import type { ModelDraft } from '../../../ports/model-store.js';
import { fitBgNbd } from '../bg-nbd.js';
import {
  checkTrainingGate,
  countRepeatCustomers,
  defaultTrainingGate,
  type TrainingGate,
} from '../data-gate.js';
import { summariseTransactions, type Transaction } from '../summarise-transactions.js';
import { churnSetAt, measureScorer, type ScorerQuality } from './backtest.js';
import {
  churnFeatureNames,
  toChurnRow,
  type ActivityFacts,
  type ChurnFeatures,
} from './churn-features.js';
import { fitLogisticRegression, predictLogistic } from './logistic-regression.js';

const DAY_MS = 86_400_000;

/**
 * The scorers a churn run compares, by the names the registry keeps them under. `pAlive` is the
 * BG/NBD's P(no purchase in the churn window) (`probabilityNoPurchase`); the name is kept so
 * registered versions still read.
 */
export type ChurnScorerName = 'logistic' | 'pAlive' | 'rules';

export interface ChurnTrainOptions {
  nowMs: number;
  /** Orders before this instant are used (default: `nowMs`). */
  cutoffMs?: number;
  /** Churn means no purchase in this many days (default 90). */
  churnDays?: number;
  periodDays?: number;
  gate?: TrainingGate;
  /** L2 penalty of the logistic regression on standardised features (default 1). */
  l2?: number;
  /** The rule-based churn score to compare with (the profile stage's, fed order facts). */
  ruleScore?: (f: ChurnFeatures) => number;
  /**
   * Each customer's profile activity at the learning cutoff (cutoff − 2N) and at the evaluation
   * cutoff (cutoff − N), replayed from their events; without it those features are left at
   * their defaults (no engagement, no cart, last activity = last order).
   */
  activity?: {
    learn: ReadonlyMap<string, ActivityFacts>;
    evaluate: ReadonlyMap<string, ActivityFacts>;
  };
}

/**
 * The best scorer by holdout AUC; a tie keeps the earlier of logistic, P(alive), rules, and a
 * scorer whose AUC could not be measured never wins.
 */
const bestOf = (scorers: Partial<Record<ChurnScorerName, ScorerQuality>>): ChurnScorerName => {
  let best: ChurnScorerName = 'rules';
  let bestAuc = -Infinity;
  for (const name of ['logistic', 'pAlive', 'rules'] as const) {
    const auc = scorers[name]?.auc;
    if (auc !== undefined && Number.isFinite(auc) && auc > bestAuc) {
      best = name;
      bestAuc = auc;
    }
  }
  return best;
};

const byFeature = (values: readonly number[]): Record<string, number> =>
  Object.fromEntries(churnFeatureNames.map((name, j) => [name, values[j] ?? 0]));

/**
 * The churn classifier's registry entry for the orders before the cutoff. Two windows of
 * `churnDays` before the cutoff make a time-based holdout: the logistic regression learns from
 * customers' features at cutoff − 2N and whether they bought in the N days after, then it, the
 * rule-based score and the BG/NBD's P(no purchase in N days) score everyone at cutoff − N and
 * are judged on the last N days — nothing after cutoff − N is used to learn. The registered
 * coefficients are refitted the same way one window later (features at cutoff − N, outcomes to
 * the cutoff), with the BG/NBD fitted at the cutoff for live features. Below the data gate, or
 * when the earliest learning cutoff leaves too few customers or only one outcome, nothing is
 * fitted and the reason says so.
 */
export const toChurnDraft = (
  transactions: readonly Transaction[],
  options: ChurnTrainOptions,
): ModelDraft => {
  const cutoffMs = options.cutoffMs ?? options.nowMs;
  const churnDays = options.churnDays ?? 90;
  const periodDays = options.periodDays ?? 7;
  const gate = options.gate ?? defaultTrainingGate;
  const l2 = options.l2 ?? 1;
  const checked = checkTrainingGate(transactions, cutoffMs, gate);
  const splitMs = cutoffMs - churnDays * DAY_MS;
  const learnMs = splitMs - churnDays * DAY_MS;
  const base = {
    kind: 'churn',
    trainedAtMs: options.nowMs,
    windowStartMs: checked.firstMs,
    windowEndMs: cutoffMs,
    features: churnFeatureNames,
  };
  const details = {
    orderingCustomers: checked.orderingCustomers,
    historyDays: Math.floor(checked.historyDays),
    repeatCustomers: checked.repeatCustomers,
    orders: transactions.length,
    gate: { ...gate },
    periodDays,
    churnDays,
    learnCutoffMs: learnMs,
    evaluationCutoffMs: splitMs,
  };
  const shortfalls = [...checked.shortfalls];
  const learning = transactions.filter((t) => t.atMs < learnMs);
  const learningCustomers = new Set(learning.map((t) => t.customerId)).size;
  const learnDay = new Date(learnMs).toISOString().slice(0, 10);
  if (shortfalls.length === 0 && learningCustomers < gate.minOrderingCustomers)
    shortfalls.push(
      `${learningCustomers} customers ordered before ${learnDay}, two churn windows of ${churnDays} days before the cutoff (needs ≥ ${gate.minOrderingCustomers})`,
    );
  // The BG/NBD behind the learning set's features is fitted at cutoff − 2N: it needs repeat
  // customers of its own, or its P(alive) and expected purchases are arbitrary.
  const learningRepeats = countRepeatCustomers(learning, learnMs);
  if (shortfalls.length === 0 && learningRepeats < gate.minRepeatCustomers)
    shortfalls.push(
      `${learningRepeats} customers with a repeat purchase before ${learnDay}, two churn windows of ${churnDays} days before the cutoff (needs ≥ ${gate.minRepeatCustomers})`,
    );
  const train =
    shortfalls.length === 0
      ? churnSetAt(transactions, learnMs, churnDays, periodDays, options.activity?.learn)
      : null;
  const churned = train?.labels.filter((l) => l === 1).length ?? 0;
  if (train !== null && (churned === 0 || churned === train.labels.length))
    shortfalls.push(
      `every customer ${churned === 0 ? 'bought' : 'bought nothing'} in the ${churnDays} days after ${new Date(learnMs).toISOString().slice(0, 10)}: nothing to learn churn from`,
    );
  if (train === null || shortfalls.length > 0)
    return {
      ...base,
      status: 'insufficient-data',
      reason: `not enough data: ${shortfalls.join('; ')}; the rule-based churn score stays`,
      params: {},
      metrics: {},
      details,
    };

  const learned = fitLogisticRegression(train.features.map(toChurnRow), train.labels, { l2 });
  const test = churnSetAt(transactions, splitMs, churnDays, periodDays, options.activity?.evaluate);
  const scorers: Partial<Record<ChurnScorerName, ScorerQuality>> = {
    logistic: measureScorer(
      test.features.map((f) => predictLogistic(learned, toChurnRow(f))),
      test.labels,
    ),
    pAlive: measureScorer(
      test.features.map((f) => f.pNoPurchase),
      test.labels,
    ),
  };
  const rule = options.ruleScore;
  if (rule !== undefined) scorers.rules = measureScorer(test.features.map(rule), test.labels);
  const chosen = bestOf(scorers);

  const final = fitLogisticRegression(test.features.map(toChurnRow), test.labels, { l2 });
  const live = fitBgNbd(summariseTransactions(transactions, { cutoffMs, periodDays }));
  const metrics: Record<string, number> = {
    trainingCustomers: train.labels.length,
    evaluationCustomers: test.labels.length,
    evaluationChurnRate: test.labels.reduce<number>((s, l) => s + l, 0) / test.labels.length,
  };
  for (const [name, q] of Object.entries(scorers)) {
    metrics[`${name}.auc`] = q.auc;
    metrics[`${name}.brier`] = q.brier;
    metrics[`${name}.liftTopDecile`] = q.liftTopDecile;
  }
  return {
    ...base,
    status: 'trained',
    reason: null,
    params: {
      bgNbd: { ...live.params },
      logistic: { intercept: final.weights[0] ?? 0, ...byFeature(final.weights.slice(1)) },
      means: byFeature(final.means),
      scales: byFeature(final.scales),
    },
    metrics,
    details: {
      ...details,
      chosen,
      l2,
      converged: learned.converged && final.converged && live.converged,
      calibration: Object.fromEntries(
        Object.entries(scorers).map(([name, q]) => [name, q.calibration.map((b) => ({ ...b }))]),
      ),
    },
  };
};
