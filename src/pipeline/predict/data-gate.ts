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
  /**
   * How far back the orders reach for more than a handful of customers: from the first order of
   * the customer who ordered first after a tenth of `minOrderingCustomers` had (`historyCustomers`)
   * to the cutoff. One test order months before the rest is no history to fit a model on.
   */
  historyDays: number;
  /** One phrase per shortfall, e.g. `312 ordering customers (needs ≥ 500)`; empty when passed. */
  shortfalls: string[];
}

/** How many customers' orders must reach back `minHistoryDays`: a tenth of the customers asked for. */
export const historyCustomers = (gate: TrainingGate): number =>
  Math.max(1, Math.ceil(gate.minOrderingCustomers / 10));

/** Whether the orders before `cutoffMs` are enough to train on, and if not, what is missing. */
export const checkTrainingGate = (
  transactions: readonly Transaction[],
  cutoffMs: number,
  gate: TrainingGate,
): GateCheck => {
  const firstOrders = new Map<string, number>();
  for (const t of transactions)
    firstOrders.set(t.customerId, Math.min(firstOrders.get(t.customerId) ?? Infinity, t.atMs));
  const orderingCustomers = firstOrders.size;
  const firsts = [...firstOrders.values()].sort((a, b) => a - b);
  const firstMs = firsts[0] ?? Infinity;
  const since = firsts[Math.min(firsts.length, historyCustomers(gate)) - 1] ?? Infinity;
  const historyDays = orderingCustomers === 0 ? 0 : (cutoffMs - since) / DAY_MS;
  const shortfalls = [
    orderingCustomers < gate.minOrderingCustomers
      ? `${orderingCustomers} ordering customers (needs ≥ ${gate.minOrderingCustomers})`
      : null,
    historyDays < gate.minHistoryDays
      ? `${Math.floor(historyDays)} days of order history for ${historyCustomers(gate)} customers (needs ≥ ${gate.minHistoryDays})`
      : null,
  ].filter((s): s is string => s !== null);
  return {
    orderingCustomers,
    firstMs: orderingCustomers === 0 ? null : firstMs,
    historyDays,
    shortfalls,
  };
};
