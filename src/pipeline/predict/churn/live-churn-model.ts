import type { ChurnModel, LiveChurnModel, ProfileState } from '../../../core/profile.js';
import type { ModelStore, ModelVersion } from '../../../ports/model-store.js';
import {
  churnFeatureNames,
  toChurnFeatures,
  toChurnRow,
  type OrderFacts,
} from './churn-features.js';
import { predictLogistic, type LogisticModel } from './logistic-regression.js';

const finite = (values: (number | undefined)[]): number[] | null =>
  values.every((v): v is number => typeof v === 'number' && Number.isFinite(v)) ? values : null;

const DAY_MS = 86_400_000;

/**
 * The customer's purchase days, as the model was trained on them (`summariseTransactions`:
 * orders on one UTC day are one purchase): their orders, less the second and later orders of a
 * day among those the profile keeps (`ORDERS_KEPT`, the latest; an older day with two orders,
 * past them, still counts twice). Counting orders, a basket split in two on one day made a
 * repeat purchase of no time at all, and moved a churn risk by 20 points.
 */
const purchaseDaysOf = (orders: ProfileState['orders']): number => {
  const kept = (orders.kept ?? []).filter((k) => k.cancelled !== true);
  const days = new Set(kept.map((k) => Math.floor(k.atMs / DAY_MS))).size;
  return Math.max(1, orders.count - (kept.length - days));
};

/**
 * When the customer's first order that still counts was placed, as training reads the orders
 * (cancelled ones left out): the earliest kept order that counts when every counting order is
 * among those kept, else `firstAtMs` (the first of all, older than the kept ones). Before
 * 2026-12-07 a cancelled first order kept its date: an order on day 0 cancelled and one on day
 * 300 scored the customer as 301 days a customer, not 1, and at risk.
 */
const firstCountingAtMs = (orders: ProfileState['orders'], firstAtMs: number): number => {
  let earliest: number | null = null;
  let counting = 0;
  for (const k of orders.kept ?? [])
    if (k.cancelled !== true) {
      counting += 1;
      if (earliest === null || k.atMs < earliest) earliest = k.atMs;
    }
  return earliest !== null && counting >= orders.count ? Math.max(firstAtMs, earliest) : firstAtMs;
};

/** A customer's order facts from their profile; null before their first order. */
export const orderFactsOf = (state: ProfileState): OrderFacts | null => {
  const o = state.orders;
  if (o.count === 0 || o.firstAtMs === null || o.lastAtMs === null) return null;
  return {
    firstOrderAtMs: firstCountingAtMs(o, o.firstAtMs),
    lastOrderAtMs: o.lastAtMs,
    orders: purchaseDaysOf(o),
    totalValue: Math.max(0, o.revenueCents - o.refundedCents) / 100,
  };
};

/**
 * The scorer a trained churn version chose (the best by holdout AUC), ready to score profiles in
 * memory; null when the version fitted nothing, when the rule-based score won, or when its
 * parameters are incomplete.
 */
export const toChurnModel = (version: ModelVersion): ChurnModel | null => {
  if (version.kind !== 'churn' || version.status !== 'trained') return null;
  const chosen = version.details['chosen'];
  const periodDays = version.details['periodDays'];
  const churnDays = version.details['churnDays'];
  if (typeof periodDays !== 'number' || typeof churnDays !== 'number') return null;
  const bg = finite(['r', 'alpha', 'a', 'b'].map((k) => version.params['bgNbd']?.[k]));
  if (bg === null) return null;
  const [r = 0, alpha = 0, a = 0, b = 0] = bg;
  const features = { bgNbd: { r, alpha, a, b }, periodDays, churnDays };
  if (chosen === 'pAlive')
    return {
      modelVersion: version.version,
      score: (state, nowMs) => {
        const facts = orderFactsOf(state);
        return facts === null ? null : toChurnFeatures(facts, nowMs, features).pNoPurchase;
      },
    };
  if (chosen !== 'logistic') return null;
  const { logistic, means, scales } = version.params;
  const weights = finite([logistic?.['intercept'], ...churnFeatureNames.map((n) => logistic?.[n])]);
  const m = finite(churnFeatureNames.map((n) => means?.[n]));
  const s = finite(churnFeatureNames.map((n) => scales?.[n]));
  if (weights === null || m === null || s === null) return null;
  const model: LogisticModel = {
    weights,
    means: m,
    scales: s,
    l2: 0,
    iterations: 0,
    converged: true,
  };
  return {
    modelVersion: version.version,
    score: (state, nowMs, activity) => {
      const facts = orderFactsOf(state);
      return facts === null
        ? null
        : predictLogistic(model, toChurnRow(toChurnFeatures(facts, nowMs, features, activity)));
    },
  };
};

/**
 * The churn model the profile stage scores with, held in memory: `refresh` reads the latest
 * churn run from the registry (after training, and on the serve loop's hourly check), so the
 * ingest path never reads the database for it. Without a usable run the rule-based score stays,
 * and `why` says so.
 */
export const createLiveChurnModel = (
  store: Pick<ModelStore, 'listModels'>,
): LiveChurnModel & { refresh(): Promise<void>; why(): string | null } => {
  let model: ChurnModel | null = null;
  let reason: string | null = 'no churn model trained yet (herald models train)';
  return {
    current: () => model,
    why: () => reason,
    async refresh() {
      const latest = (await store.listModels(50)).find((m) => m.kind === 'churn');
      model = latest === undefined ? null : toChurnModel(latest);
      reason =
        latest === undefined
          ? 'no churn model trained yet (herald models train)'
          : model !== null
            ? null
            : (latest.reason ??
              `churn run v${latest.version}: the rule-based score had the best holdout AUC`);
    },
  };
};
