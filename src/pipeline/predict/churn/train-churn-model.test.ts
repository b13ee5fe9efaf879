import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../../core/ids.js';
import type { ProfileState } from '../../../core/profile.js';
import { seededRandom } from '../../../ports/random.js';
import type { ModelVersion } from '../../../ports/model-store.js';
import { simulatePurchaseTimes } from '../simulate-purchases.js';
import type { Transaction } from '../summarise-transactions.js';
import { toChurnFeatures, toChurnRow } from './churn-features.js';
import { createLiveChurnModel, orderFactsOf, toChurnModel } from './live-churn-model.js';
import { predictLogistic } from './logistic-regression.js';
import { toChurnDraft } from './train-churn-model.js';

const DAY_MS = 86_400_000;
const start = Date.UTC(2024, 0, 1);
const cutoffMs = start + 400 * DAY_MS;

/** 3,000 BG/NBD customers acquired over 12 weeks, followed for 400 days. */
const simulatedTransactions = (): Transaction[] => {
  const random = seededRandom(11);
  const out: Transaction[] = [];
  for (let c = 0; c < 3000; c++) {
    const first = start + Math.floor(random.next() * 84) * DAY_MS;
    const weeks = (cutoffMs - first) / (7 * DAY_MS);
    for (const t of [
      0,
      ...simulatePurchaseTimes({ r: 0.6, alpha: 4, a: 0.8, b: 2.5 }, weeks, random),
    ])
      out.push({ customerId: `c${c}`, atMs: first + Math.floor(t * 7) * DAY_MS, value: 20 });
  }
  return out.filter((t) => t.atMs < cutoffMs);
};

/** A profile with only the facts the churn model reads. */
const aBuyer = (orders: ProfileState['orders']): ProfileState => ({
  customerId: toCustomerId('c-1'),
  userId: 'c-1',
  anonymousIds: [],
  aliases: [],
  traits: {},
  location: { country: null, region: null, city: null, timezone: null },
  consent: {},
  preferences: {},
  firstSeenAtMs: start,
  lastSeenAtMs: start,
  signedUpAtMs: null,
  lastActiveAtMs: null,
  orders,
  engagement: { points: 0, asOfMs: start },
  email: { hardBounces: 0, complaints: 0, lastBounceAtMs: null },
  cart: null,
  eventCount: 0,
});

describe('the order facts a profile is scored on', () => {
  const day = Date.UTC(2026, 2, 3);
  const kept = (hours: number[], cancelled: number[] = []) =>
    hours.map((h, i) => ({
      id: `o${String(i)}`,
      cents: 2000,
      atMs: day + h * 3_600_000,
      refundedCents: 0,
      ...(cancelled.includes(i) ? { cancelled: true as const } : {}),
    }));
  const buyer = (count: number, hours: number[], cancelled: number[] = []) =>
    aBuyer({
      count,
      revenueCents: count * 2000,
      refundedCents: 0,
      firstAtMs: day,
      lastAtMs: day + Math.max(...hours) * 3_600_000,
      kept: kept(hours, cancelled),
    });

  it('counts purchase days, as the model was trained on them', () => {
    // A basket split in two orders on one day is one purchase, as in training.
    expect(orderFactsOf(buyer(2, [1, 5]))?.orders).toBe(1);
    expect(orderFactsOf(buyer(3, [1, 5, 30]))?.orders).toBe(2);
    // A cancelled order is no purchase (its count is already taken back).
    expect(orderFactsOf(buyer(2, [1, 5, 30], [1]))?.orders).toBe(2);
    // Orders older than those kept count as they were counted.
    expect(orderFactsOf(buyer(60, [1, 5, 30]))?.orders).toBe(59);
    // A profile recorded before orders were kept counts orders.
    const unkept: ProfileState['orders'] = { ...buyer(2, [1, 5]).orders };
    delete unkept.kept;
    expect(orderFactsOf(aBuyer(unkept))?.orders).toBe(2);
  });
});

const asVersion = (draft: ReturnType<typeof toChurnDraft>, version = 4): ModelVersion => ({
  ...draft,
  version,
});

describe('toChurnDraft', () => {
  const transactions = simulatedTransactions();
  const draft = toChurnDraft(transactions, {
    nowMs: cutoffMs,
    // A poor rule (recency only, saturating at 30 days) for the model to beat.
    ruleScore: (f) => Math.min(1, f.daysSinceLastOrder / 30),
  });

  it('learns, evaluates each scorer on the last churn window and registers every figure', () => {
    expect(draft.status).toBe('trained');
    expect(draft.kind).toBe('churn');
    expect(draft.details).toMatchObject({
      churnDays: 90,
      periodDays: 7,
      learnCutoffMs: cutoffMs - 180 * DAY_MS,
      evaluationCutoffMs: cutoffMs - 90 * DAY_MS,
      converged: true,
    });
    for (const scorer of ['logistic', 'pAlive', 'rules'])
      for (const metric of ['auc', 'brier', 'liftTopDecile'])
        expect(Number.isFinite(draft.metrics[`${scorer}.${metric}`])).toBe(true);
    expect(draft.metrics['logistic.auc']).toBeGreaterThan(0.65);
    expect(draft.metrics['logistic.auc']).toBeGreaterThan(draft.metrics['rules.auc'] ?? 1);
    // On data drawn from the BG/NBD itself, the model's own P(no purchase) ranks best.
    expect(draft.metrics['pAlive.auc']).toBeGreaterThan(draft.metrics['logistic.auc'] ?? 1);
    expect(draft.details['chosen']).toBe('pAlive');
    const calibration = draft.details['calibration'] as Record<string, { count: number }[]>;
    expect(calibration['logistic']?.reduce((s, b) => s + b.count, 0)).toBe(
      draft.metrics['evaluationCustomers'],
    );
    expect(Object.keys(draft.params['logistic'] ?? {})).toHaveLength(12);
  });

  it('scores a profile in memory with the registered coefficients', () => {
    const activity = {
      engagementScore: 0.4,
      daysSinceActive: 20,
      cartValue: 50,
      responsesByChannel: { email: 3, push: 1 },
    };
    const logisticWon = { ...draft, details: { ...draft.details, chosen: 'logistic' } };
    const model = toChurnModel(asVersion(logisticWon));
    expect(model?.modelVersion).toBe(4);
    const nowMs = cutoffMs + DAY_MS / 2;
    const state = aBuyer({
      count: 3,
      revenueCents: 6000,
      refundedCents: 0,
      firstAtMs: start,
      lastAtMs: start + 300 * DAY_MS,
    });
    const bg = draft.params['bgNbd'] ?? {};
    const features = toChurnFeatures(
      { firstOrderAtMs: start, lastOrderAtMs: start + 300 * DAY_MS, orders: 3, totalValue: 60 },
      nowMs,
      {
        bgNbd: { r: bg['r'] ?? 0, alpha: bg['alpha'] ?? 0, a: bg['a'] ?? 0, b: bg['b'] ?? 0 },
        periodDays: 7,
        churnDays: 90,
      },
      activity,
    );
    const logistic = draft.params['logistic'] ?? {};
    const names = draft.features;
    const expected = predictLogistic(
      {
        weights: [logistic['intercept'] ?? 0, ...names.map((n) => logistic[n] ?? 0)],
        means: names.map((n) => draft.params['means']?.[n] ?? 0),
        scales: names.map((n) => draft.params['scales']?.[n] ?? 1),
        l2: 1,
        iterations: 0,
        converged: true,
      },
      toChurnRow(features),
    );
    expect(model?.score(state, nowMs, activity)).toBeCloseTo(expected, 12);
    // Lapsed longer, riskier.
    const lapsed = { ...state, orders: { ...state.orders, lastAtMs: start + 100 * DAY_MS } };
    expect(model?.score(lapsed, nowMs, activity)).toBeGreaterThan(
      model?.score(state, nowMs, activity) ?? 1,
    );
    // No orders: the model cannot score the customer; the rules do.
    const none = { count: 0, revenueCents: 0, refundedCents: 0, firstAtMs: null, lastAtMs: null };
    expect(model?.score(aBuyer(none), nowMs, activity)).toBeNull();
  });

  it('judges the BG/NBD on its own P(no purchase in N days), not 1 − P(alive)', () => {
    const bg = draft.params['bgNbd'] ?? {};
    expect(bg['r']).toBeGreaterThan(0);
    // Every one-time buyer has P(alive) = 1: 1 − P(alive) would score them all 0 and its Brier
    // score would be at least the share of one-time buyers who churned.
    expect(draft.metrics['pAlive.brier']).toBeLessThan(0.3);
    expect(draft.metrics['pAlive.auc']).toBeGreaterThan(0.6);
    const calibration = draft.details['calibration'] as Record<string, { count: number }[]>;
    expect(calibration['pAlive']?.[0]?.count).toBeLessThan(
      (draft.metrics['evaluationCustomers'] ?? 0) / 10,
    );
  });

  it('scores a profile with the BG/NBD’s P(no purchase in N days) when it won', async () => {
    const bgWon = { ...draft, details: { ...draft.details, chosen: 'pAlive' } };
    const live = createLiveChurnModel({
      listModels: () => Promise.resolve([asVersion(bgWon, 7)]),
    });
    await live.refresh();
    const model = live.current();
    expect(model?.modelVersion).toBe(7);
    // One order on day 0, scored on day 56 at noon: x = 0, T = 8 weeks, a window of 90/7 weeks.
    const nowMs = start + 56 * DAY_MS + DAY_MS / 2;
    const oneTime = aBuyer({
      count: 1,
      revenueCents: 2000,
      refundedCents: 0,
      firstAtMs: start,
      lastAtMs: start,
    });
    const { r = 0, alpha = 0 } = draft.params['bgNbd'] ?? {};
    expect(
      model?.score(oneTime, nowMs, {
        engagementScore: 0,
        daysSinceActive: null,
        cartValue: 0,
        responsesByChannel: {},
      }),
    ).toBeCloseTo(((alpha + 8) / (alpha + 8 + 90 / 7)) ** r, 12);
  });

  it('learns from the profile activity it is given at each cutoff', () => {
    // Activity that gives the outcome away: engaged exactly when the customer buys next window.
    const DAY = DAY_MS;
    const buyersAfter = (fromMs: number) =>
      new Set(
        transactions
          .filter((t) => t.atMs >= fromMs && t.atMs < fromMs + 90 * DAY)
          .map((t) => t.customerId),
      );
    const activityAt = (fromMs: number) => {
      const buyers = buyersAfter(fromMs);
      return new Map(
        [...new Set(transactions.map((t) => t.customerId))].map((id) => [
          id,
          {
            engagementScore: buyers.has(id) ? 1 : 0,
            daysSinceActive: null,
            cartValue: 0,
            responsesByChannel: {},
          },
        ]),
      );
    };
    const informed = toChurnDraft(transactions, {
      nowMs: cutoffMs,
      activity: {
        learn: activityAt(cutoffMs - 180 * DAY),
        evaluate: activityAt(cutoffMs - 90 * DAY),
      },
    });
    expect(informed.metrics['logistic.auc']).toBeGreaterThan(0.99);
    expect(informed.params['logistic']?.['engagement score']).toBeLessThan(-1);
    // Without it, the feature is constant and its weight stays 0.
    expect(draft.params['logistic']?.['engagement score']).toBe(0);
  });

  it('leaves the rules live when they had the best holdout AUC, and says so', async () => {
    const rulesWon = {
      ...draft,
      details: { ...draft.details, chosen: 'rules' },
    };
    expect(toChurnModel(asVersion(rulesWon))).toBeNull();
    const live = createLiveChurnModel({
      listModels: () => Promise.resolve([asVersion(rulesWon, 9)]),
    });
    await live.refresh();
    expect(live.current()).toBeNull();
    expect(live.why()).toMatch(/v9: the rule-based score had the best holdout AUC/);
  });

  it('registers insufficient data with the reason below the gate', () => {
    const few = transactions.filter((t) => Number(t.customerId.slice(1)) < 300);
    const refused = toChurnDraft(few, { nowMs: cutoffMs });
    expect(refused.status).toBe('insufficient-data');
    expect(refused.reason).toBe(
      'not enough data: 300 ordering customers (needs ≥ 500); the rule-based churn score stays',
    );
  });

  it('refuses when nobody had bought twice by the learning cutoff, two churn windows back', () => {
    // 600 one-time buyers from 400 to 201 days before the cutoff; 30 of them come back 100 days
    // before it: the store passes the gate, but the BG/NBD at cutoff − 180 days has no repeats.
    const once = Array.from({ length: 600 }, (_, c) => ({
      customerId: `c${String(c)}`,
      atMs: cutoffMs - (201 + (c % 200)) * DAY_MS,
      value: 20,
    }));
    const back = once.slice(0, 30).map((t) => ({ ...t, atMs: cutoffMs - 100 * DAY_MS }));
    const refused = toChurnDraft([...once, ...back], { nowMs: cutoffMs });
    expect(refused.status).toBe('insufficient-data');
    expect(refused.details).toMatchObject({ repeatCustomers: 30 });
    expect(refused.reason).toBe(
      'not enough data: 0 customers with a repeat purchase before 2024-08-08, two churn windows of 90 days before the cutoff (needs ≥ 20); the rule-based churn score stays',
    );
  });

  it('refuses when two churn windows before the cutoff leave too few customers to learn from', () => {
    const young = transactions.filter((t) => t.atMs < start + 200 * DAY_MS);
    const refused = toChurnDraft(young, {
      nowMs: start + 200 * DAY_MS,
      gate: { minOrderingCustomers: 1000, minHistoryDays: 100, minRepeatCustomers: 20 },
    });
    expect(refused.status).toBe('insufficient-data');
    expect(refused.reason).toMatch(
      /^not enough data: [1-9]\d\d customers ordered before 2024-01-21, two churn windows of 90 days before the cutoff \(needs ≥ 1000\)/,
    );
  });
});
