import type { Transaction } from './summarise-transactions.js';

const DAY_MS = 86_400_000;

export interface TrainingGate {
  minOrderingCustomers: number;
  minHistoryDays: number;
  /**
   * Customers who bought on at least two UTC days (x ≥ 1 in the BG/NBD's terms). The drop-out
   * parameters a and b are learnt from repeat customers alone: with none the likelihood does not
   * depend on them at all, and with a handful they are anyone's guess, so every P(alive) of a
   * customer who does come back would be too.
   */
  minRepeatCustomers: number;
}

/**
 * The defaults: below them the rule-based scores stay. 20 repeat customers is the floor
 * the Gamma-Gamma spend model already keeps (`fitSpend`, the backtest's forecast): the fewest
 * from which Herald fits any parameter learnt from repeat purchases.
 */
export const defaultTrainingGate: TrainingGate = {
  minOrderingCustomers: 500,
  minHistoryDays: 180,
  minRepeatCustomers: 20,
};

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
  /** Customers who bought on two or more UTC days before the cutoff. */
  repeatCustomers: number;
  /** One phrase per shortfall, e.g. `312 ordering customers (needs ≥ 500)`; empty when passed. */
  shortfalls: string[];
}

/** How many customers' orders must reach back `minHistoryDays`: a tenth of the customers asked for. */
export const historyCustomers = (gate: TrainingGate): number =>
  Math.max(1, Math.ceil(gate.minOrderingCustomers / 10));

/**
 * How many customers bought on two or more UTC days before `beforeMs`: a repeat purchase as the
 * BG/NBD counts one (`summariseTransactions`: orders on one day are one purchase).
 */
export const countRepeatCustomers = (
  transactions: readonly Transaction[],
  beforeMs: number,
): number => {
  const firstDay = new Map<string, number>();
  const repeaters = new Set<string>();
  for (const t of transactions) {
    if (t.atMs >= beforeMs || repeaters.has(t.customerId)) continue;
    const day = Math.floor(t.atMs / DAY_MS);
    const seen = firstDay.get(t.customerId);
    if (seen === undefined) firstDay.set(t.customerId, day);
    else if (seen !== day) repeaters.add(t.customerId);
  }
  return repeaters.size;
};

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
  const repeatCustomers = countRepeatCustomers(transactions, cutoffMs);
  const shortfalls = [
    orderingCustomers < gate.minOrderingCustomers
      ? `${orderingCustomers} ordering customers (needs ≥ ${gate.minOrderingCustomers})`
      : null,
    historyDays < gate.minHistoryDays
      ? `${Math.floor(historyDays)} days of order history for ${historyCustomers(gate)} customers (needs ≥ ${gate.minHistoryDays})`
      : null,
    repeatCustomers < gate.minRepeatCustomers
      ? `${repeatCustomers} customers with a repeat purchase (needs ≥ ${gate.minRepeatCustomers})`
      : null,
  ].filter((s): s is string => s !== null);
  return {
    orderingCustomers,
    firstMs: orderingCustomers === 0 ? null : firstMs,
    historyDays,
    repeatCustomers,
    shortfalls,
  };
};
