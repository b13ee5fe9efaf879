import type { PurchaseHistory } from './bg-nbd.js';

const DAY_MS = 86_400_000;

/** One purchase: who, when, and its value (any currency unit; spend models keep that unit). */
export interface Transaction {
  customerId: string;
  atMs: number;
  value: number;
}

/** A customer's calibration history and what they did in the holdout period after it. */
export interface CustomerSummary extends PurchaseHistory {
  customerId: string;
  /** Mean value of the repeat purchases (0 when x = 0), per purchase day. */
  meanSpend: number;
  firstAtMs: number;
  /** The day of the last purchase before the cutoff (epoch ms of its UTC midnight). */
  lastAtMs: number;
  /** Total value of all purchases before the cutoff, the first included. */
  totalValue: number;
  /** Purchase days in the holdout period, and their total value. */
  holdoutPurchases: number;
  holdoutValue: number;
}

export interface SummaryWindow {
  /** The calibration period ends before this instant (exclusive). */
  cutoffMs: number;
  /** The holdout period runs from `cutoffMs` up to this instant (exclusive); none when absent. */
  holdoutEndMs?: number;
  /** Length of one model period in days (7: weeks, as in the BG/NBD paper). */
  periodDays: number;
}

/**
 * Per-customer (x, t_x, T, mean spend) at a cutoff, as in Fader, Hardie & Lee (2005): purchases
 * on one UTC day count as one transaction (their values summed), x counts the purchase days after
 * the first, t_x and T are measured in whole days to the last purchase day and to the last day
 * before the cutoff, then divided by `periodDays`. Customers whose first purchase is at or after
 * the cutoff are left out. The input may arrive in any order.
 */
export const summariseTransactions = (
  transactions: Iterable<Transaction>,
  window: SummaryWindow,
): CustomerSummary[] => {
  const lastDay = Math.floor((window.cutoffMs - 1) / DAY_MS);
  const holdoutEnd = window.holdoutEndMs ?? window.cutoffMs;
  const byCustomer = new Map<string, Map<number, number>>();
  const holdout = new Map<string, Map<number, number>>();
  for (const t of transactions) {
    if (t.atMs >= holdoutEnd) continue;
    const target = t.atMs < window.cutoffMs ? byCustomer : holdout;
    let days = target.get(t.customerId);
    if (days === undefined) target.set(t.customerId, (days = new Map<number, number>()));
    const day = Math.floor(t.atMs / DAY_MS);
    days.set(day, (days.get(day) ?? 0) + t.value);
  }
  const summaries: CustomerSummary[] = [];
  for (const [customerId, days] of byCustomer) {
    const sorted = [...days.keys()].sort((a, b) => a - b);
    const first = sorted[0] ?? lastDay;
    const last = sorted.at(-1) ?? first;
    let repeatValue = 0;
    for (const day of sorted.slice(1)) repeatValue += days.get(day) ?? 0;
    const totalValue = repeatValue + (days.get(first) ?? 0);
    const x = sorted.length - 1;
    const after = holdout.get(customerId);
    let holdoutValue = 0;
    for (const v of after?.values() ?? []) holdoutValue += v;
    summaries.push({
      customerId,
      x,
      tx: (last - first) / window.periodDays,
      T: (lastDay - first) / window.periodDays,
      meanSpend: x === 0 ? 0 : repeatValue / x,
      firstAtMs: first * DAY_MS,
      lastAtMs: last * DAY_MS,
      totalValue,
      holdoutPurchases: after?.size ?? 0,
      holdoutValue,
    });
  }
  return summaries;
};
