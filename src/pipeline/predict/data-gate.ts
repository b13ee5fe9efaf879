import type { Transaction } from './summarise-transactions.js';

const DAY_MS = 86_400_000;

export interface TrainingGate {
  minOrderingCustomers: number;
  minHistoryDays: number;
}

/** The defaults: below them the rule-based scores stay. */
export const defaultTrainingGate: TrainingGate = { minOrderingCustomers: 500, minHistoryDays: 180 };

export interface GateCheck {
  orderingCustomers: number;
  /** The first order's instant; null without orders. */
  firstMs: number | null;
  historyDays: number;
  /** One phrase per shortfall, e.g. `312 ordering customers (needs ≥ 500)`; empty when passed. */
  shortfalls: string[];
}

/** Whether the orders before `cutoffMs` are enough to train on, and if not, what is missing. */
export const checkTrainingGate = (
  transactions: readonly Transaction[],
  cutoffMs: number,
  gate: TrainingGate,
): GateCheck => {
  const orderingCustomers = new Set(transactions.map((t) => t.customerId)).size;
  let firstMs = Infinity;
  for (const t of transactions) firstMs = Math.min(firstMs, t.atMs);
  const historyDays = orderingCustomers === 0 ? 0 : (cutoffMs - firstMs) / DAY_MS;
  const shortfalls = [
    orderingCustomers < gate.minOrderingCustomers
      ? `${orderingCustomers} ordering customers (needs ≥ ${gate.minOrderingCustomers})`
      : null,
    historyDays < gate.minHistoryDays
      ? `${Math.floor(historyDays)} days of order history (needs ≥ ${gate.minHistoryDays})`
      : null,
  ].filter((s): s is string => s !== null);
  return {
    orderingCustomers,
    firstMs: orderingCustomers === 0 ? null : firstMs,
    historyDays,
    shortfalls,
  };
};
