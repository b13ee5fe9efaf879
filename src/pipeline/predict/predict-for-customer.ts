import type { ModelVersion, StoredOrder } from '../../ports/model-store.js';
import { scoreCustomer, type ClvModel } from './score-customer.js';
import { summariseTransactions } from './summarise-transactions.js';

/** A customer's model-based figures, traceable to the model version that made them. */
export interface Prediction {
  modelVersion: number;
  pAlive: number;
  expectedPurchases90d: number;
  /** Null when the model has no spend part (too few repeat customers when it was trained). */
  clv365d: number | null;
}

const numberIn = (params: Record<string, number> | undefined, key: string): number | null => {
  const value = params?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
};

/** The CLV model of a registered version, or null when the version fitted none. */
export const toClvModel = (version: ModelVersion): ClvModel | null => {
  if (version.kind !== 'clv' || version.status !== 'trained') return null;
  const bg = version.params['bgNbd'];
  const [r, alpha, a, b] = ['r', 'alpha', 'a', 'b'].map((k) => numberIn(bg, k));
  if (r == null || alpha == null || a == null || b == null) return null;
  const gg = version.params['gammaGamma'];
  const [p, q, gamma] = ['p', 'q', 'gamma'].map((k) => numberIn(gg, k));
  const periodDays = version.details['periodDays'];
  return {
    bgNbd: { r, alpha, a, b },
    // A spend model whose mean is infinite (q ≤ 1, a fit that went wrong) is no spend model.
    ...(p == null || q == null || gamma == null || !(q > 1) || !(p > 0) || !(gamma > 0)
      ? {}
      : { gammaGamma: { p, q, gamma } }),
    periodDays: typeof periodDays === 'number' && periodDays > 0 ? periodDays : 7,
  };
};

/**
 * P(alive), expected purchases in the next 90 days and CLV over 365 days for one customer's
 * orders up to `nowMs`, under a registered model; null for a customer without orders (the
 * models describe repeat buying of customers who bought) or a version that fitted nothing.
 */
export const predictForCustomer = (
  version: ModelVersion,
  orders: readonly StoredOrder[],
  nowMs: number,
): Prediction | null => {
  const model = toClvModel(version);
  if (model === null) return null;
  const [summary] = summariseTransactions(
    orders.map((o) => ({
      customerId: o.customerId,
      atMs: o.placedAtMs,
      value: o.totalCents / 100,
    })),
    { cutoffMs: nowMs, periodDays: model.periodDays },
  );
  if (summary === undefined) return null;
  const score = scoreCustomer(model, summary, { horizonDays: 90, clvMonths: 12 });
  return {
    modelVersion: version.version,
    pAlive: score.pAlive,
    expectedPurchases90d: score.expectedPurchases,
    clv365d: score.clv,
  };
};
