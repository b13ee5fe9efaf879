import {
  expectedPurchases,
  probabilityAlive,
  probabilityNoPurchase,
  type BgNbdParams,
} from '../bg-nbd.js';

const DAY_MS = 86_400_000;

/** What a churn scorer knows of a customer's orders at a moment. */
export interface OrderFacts {
  firstOrderAtMs: number;
  lastOrderAtMs: number;
  /** Purchases so far, the first included (purchase days in training, orders live). */
  orders: number;
  /** Total value of the purchases so far (major units). */
  totalValue: number;
}

/**
 * What the profile said of a customer's activity at a moment: its engagement score, days since
 * the customer last acted (null: never), the open cart's value (0: none), and their opens and
 * clicks by channel so far.
 */
export interface ActivityFacts {
  engagementScore: number;
  daysSinceActive: number | null;
  cartValue: number;
  responsesByChannel: Partial<Record<string, number>>;
}

/** What a churn scorer sees of a customer at a cutoff: order facts, and activity when known. */
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
  /**
   * BG/NBD P(no purchase in the churn window): the model's own churn probability, a scorer of
   * its own and not a classifier feature (`toChurnRow` leaves it out).
   */
  pNoPurchase: number;
  /** The profile's engagement score then (0 when the activity is unknown). */
  engagementScore: number;
  /** Days since the customer last acted (since the last order when unknown). */
  daysSinceActive: number;
  /** The open cart's value then (0: none, or unknown). */
  cartValue: number;
  /** Opens and clicks so far, all channels, and on how many channels (0 when unknown). */
  responses: number;
  respondingChannels: number;
}

export const churnFeatureNames = [
  'days since last order',
  'ln(1 + orders)',
  'ln(1 + total value)',
  'tenure days',
  'BG/NBD P(alive)',
  'ln(1 + BG/NBD expected purchases in the window)',
  'engagement score',
  'days since last activity',
  'ln(1 + open cart value)',
  'ln(1 + opens and clicks)',
  'channels with an open or click',
];

/** The classifier's input row for a customer's features, in `churnFeatureNames` order. */
export const toChurnRow = (f: ChurnFeatures): number[] => [
  f.daysSinceLastOrder,
  Math.log1p(f.orders),
  Math.log1p(f.totalValue),
  f.tenureDays,
  f.pAlive,
  Math.log1p(f.expectedPurchases),
  f.engagementScore,
  f.daysSinceActive,
  Math.log1p(f.cartValue),
  Math.log1p(f.responses),
  f.respondingChannels,
];

/**
 * A customer's churn features at `nowMs` from their order facts, counted in whole UTC days up to
 * the last day before `nowMs` as the BG/NBD summaries are (`summariseTransactions`), so the
 * training set and a live profile are described the same way.
 */
export const toChurnFeatures = (
  facts: OrderFacts,
  nowMs: number,
  model: { bgNbd: BgNbdParams; periodDays: number; churnDays: number },
  activity: ActivityFacts | null = null,
): ChurnFeatures => {
  const lastDay = Math.floor((nowMs - 1) / DAY_MS);
  const firstDay = Math.min(Math.floor(facts.firstOrderAtMs / DAY_MS), lastDay);
  const lastOrderDay = Math.min(
    Math.max(Math.floor(facts.lastOrderAtMs / DAY_MS), firstDay),
    lastDay,
  );
  const x = Math.max(0, Math.round(facts.orders) - 1);
  const counts = Object.values(activity?.responsesByChannel ?? {}).map((n) => Math.max(0, n ?? 0));
  const history = {
    x,
    tx: x === 0 ? 0 : (lastOrderDay - firstDay) / model.periodDays,
    T: (lastDay - firstDay) / model.periodDays,
  };
  // The window in the model's periods (weeks by default), as the BG/NBD was fitted.
  const windowPeriods = model.churnDays / model.periodDays;
  return {
    daysSinceLastOrder: lastDay - lastOrderDay,
    orders: facts.orders,
    totalValue: facts.totalValue,
    tenureDays: lastDay - firstDay,
    pAlive: probabilityAlive(history, model.bgNbd),
    expectedPurchases: expectedPurchases(history, model.bgNbd, windowPeriods),
    pNoPurchase: probabilityNoPurchase(history, model.bgNbd, windowPeriods),
    engagementScore: activity?.engagementScore ?? 0,
    // An order is an activity, so without the profile the last order stands in for it.
    daysSinceActive: Math.min(
      activity?.daysSinceActive ?? lastDay - lastOrderDay,
      lastDay - lastOrderDay,
    ),
    cartValue: Math.max(0, activity?.cartValue ?? 0),
    responses: counts.reduce((s, n) => s + n, 0),
    respondingChannels: counts.filter((n) => n > 0).length,
  };
};
