// record ─▶ measure: the KPIs of a period, from the messages sent in it, the orders they were
// credited with, the orders placed, the profiles as they are now and the review queue.
import type { KpiTotals } from '../ports/experiment-store.js';
import type { Store } from '../ports/store.js';
import { overridesOf } from './act-on-messages.js';
import { wilsonInterval } from './measure/index.js';

/** A rate with its 95 % Wilson interval and the counts behind it; null rate when nothing to count. */
export interface Rate {
  rate: number | null;
  lower: number | null;
  upper: number | null;
  numerator: number;
  denominator: number;
}

const rateOf = (numerator: number, denominator: number): Rate => {
  if (denominator === 0) return { rate: null, lower: null, upper: null, numerator, denominator };
  const interval = wilsonInterval({ successes: numerator, trials: denominator });
  return { rate: numerator / denominator, ...interval, numerator, denominator };
};

export interface Kpis {
  from: string;
  to: string;
  /** Messages handed to a provider in the period, per channel. */
  sent: { total: number; byChannel: Record<string, number> };
  /**
   * The north star: revenue credited to the period's messages (to the message an order names,
   * else its last touch: `attributeConversions`), per message sent.
   */
  revenuePerTouch: number | null;
  attributedRevenue: number;
  /** Messages sent that were credited with an order. */
  conversion: Rate;
  /** Email: first opens per email sent (image-blocking and privacy proxies skew it). */
  open: Rate;
  /** Email and SMS: messages with a tracked click per message sent on those channels. */
  clickThrough: Rate;
  /**
   * Cart recovery messages sent whose customer ordered within the recovery window after it
   * (`decide.cart.recoveryWindowDays`), whichever message got the credit.
   */
  cartRecovery: Rate;
  /** The value of those orders (each once). */
  recoveredCartRevenue: number;
  /**
   * Orders placed in the period and their average value, net of those the customer cancelled
   * since (an `Order Cancelled` naming the order); `cancelledOrders` counts those.
   */
  orders: number;
  averageOrderValue: number | null;
  cancelledOrders: number;
  /** Customers now: the share churned (lifecycle stage), and the mean lifetime value of those who ordered. */
  churn: Rate;
  customerLifetimeValue: number | null;
  /**
   * Spam complaints per 100,000 messages sent: the compliance failures recipients report.
   * `prevented` counts the messages the guardrails stopped (blocked) in the period.
   */
  complianceViolationsPer100k: number | null;
  complaints: number;
  prevented: { blocked: number; heldOut: number; review: number };
  /** Of the messages people reviewed (ever), the share they let through. */
  humanOverrideRate: Rate;
  /** The 95th percentile of how late work items were decided, over this process's recent rounds. */
  decisionLatencyP95Ms: number | null;
  decisionLatencySamples: number;
}

const sum = (rows: KpiTotals['touches'], pick: (r: KpiTotals['touches'][number]) => number) =>
  rows.reduce((a, r) => a + pick(r), 0);

/** The period's KPIs (`toMs` exclusive). */
export const computeKpis = async (
  store: Store,
  fromMs: number,
  toMs: number,
  latency: { p95Ms: number | null; samples: number },
  cartRecoveryWindowMs: number,
): Promise<Kpis> => {
  const totals = await store.kpiTotals(fromMs, toMs);
  const carts = await store.cartRecoveries(fromMs, toMs, cartRecoveryWindowMs);
  const touches = totals.touches;
  const sent = sum(touches, (r) => r.sent);
  const byChannel: Record<string, number> = {};
  for (const r of touches) byChannel[r.channel] = (byChannel[r.channel] ?? 0) + r.sent;
  const revenue = sum(touches, (r) => r.revenueCents) / 100;
  const email = touches.filter((r) => r.channel === 'email');
  const clickable = touches.filter((r) => r.channel === 'email' || r.channel === 'sms');
  const complaints = sum(touches, (r) => r.complained);
  const { overridden, decided } = overridesOf(await store.reviewCounts());
  const { customers, orders } = totals;
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    sent: { total: sent, byChannel },
    revenuePerTouch: sent === 0 ? null : revenue / sent,
    attributedRevenue: revenue,
    conversion: rateOf(
      sum(touches, (r) => r.converted),
      sent,
    ),
    open: rateOf(
      sum(email, (r) => r.opened),
      sum(email, (r) => r.sent),
    ),
    clickThrough: rateOf(
      sum(clickable, (r) => r.clicked),
      sum(clickable, (r) => r.sent),
    ),
    cartRecovery: rateOf(carts.recovered, carts.sent),
    recoveredCartRevenue: carts.revenueCents / 100,
    orders: orders.count,
    averageOrderValue: orders.count === 0 ? null : orders.revenueCents / 100 / orders.count,
    cancelledOrders: orders.cancelled,
    churn: rateOf(customers.byStage['churned'] ?? 0, customers.total),
    customerLifetimeValue:
      customers.ordering === 0 ? null : customers.ltvCents / 100 / customers.ordering,
    complianceViolationsPer100k: sent === 0 ? null : (complaints / sent) * 100_000,
    complaints,
    prevented: {
      blocked: totals.made['blocked'] ?? 0,
      heldOut: totals.made['held-out'] ?? 0,
      review: totals.made['review'] ?? 0,
    },
    humanOverrideRate: rateOf(overridden, decided),
    decisionLatencyP95Ms: latency.p95Ms,
    decisionLatencySamples: latency.samples,
  };
};
