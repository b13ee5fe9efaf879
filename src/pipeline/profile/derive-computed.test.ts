import { describe, expect, it } from 'vitest';
import type { ProfileState } from '../../core/profile.js';
import { classifyLifecycle, deriveComputed, scoreEngagement } from './derive-computed.js';
import { scoreChurn } from './score-churn.js';
import { aProfile, aTrack, applyAll, daysMs, defaultPolicy, t0 } from './test-builders.js';

const policy = defaultPolicy();
const now = t0 + daysMs(200);
const daysAgo = (days: number): number => now - daysMs(days);

/** A customer who signed up long ago (no longer new); override any fact. */
const anEstablished = (overrides: Partial<ProfileState> = {}): ProfileState =>
  aProfile({ signedUpAtMs: daysAgo(150), firstSeenAtMs: daysAgo(150), ...overrides });

const orders = (overrides: Partial<ProfileState['orders']>): ProfileState['orders'] => ({
  count: 0,
  revenueCents: 0,
  refundedCents: 0,
  firstAtMs: null,
  lastAtMs: null,
  ...overrides,
});

describe('deriveComputed', () => {
  it('never reads a debt: refunds and cancellations naming no order above what was spent give 0', () => {
    const ltvOf = (state: ProfileState) => deriveComputed(state, t0 + daysMs(1), policy).ltv;
    expect(ltvOf(applyAll([aTrack('Order Cancelled', { total: 50 })]))).toBe(0);
    expect(ltvOf(applyAll([aTrack('Order Refunded', { total: 70 })]))).toBe(0);
    const overCancelled = applyAll([
      aTrack('Order Completed', { total: 40 }),
      aTrack('Order Cancelled', { total: 500 }, { timestampMs: t0 + 1000 }),
    ]);
    expect(ltvOf(overCancelled)).toBe(0);
    expect(deriveComputed(overCancelled, t0 + daysMs(1), policy).monetary).toBe(0);
    // What is stated is kept: an order that comes after nets against it.
    expect(overCancelled.orders.refundedCents).toBe(50_000);
  });

  describe('churn risk from a live model', () => {
    // A stand-in model: risk grows with the days since the last order; no orders, no score.
    const model = {
      modelVersion: 7,
      score: (state: ProfileState, atMs: number) =>
        state.orders.lastAtMs === null
          ? null
          : Math.min(1, (atMs - state.orders.lastAtMs) / daysMs(100)),
    };
    const live = { current: () => model };

    it('takes the model’s score and version for a customer it can score', () => {
      const state = anEstablished({
        lastActiveAtMs: daysAgo(1),
        orders: orders({ count: 2, firstAtMs: daysAgo(80), lastAtMs: daysAgo(75) }),
      });
      const computed = deriveComputed(state, now, policy, live);
      expect(computed.churnRisk).toBe(0.75);
      expect(computed.churnModelVersion).toBe(7);
      // Above the at-risk threshold (0.7) though active yesterday: the model's risk counts.
      expect(computed.lifecycleStage).toBe('at-risk');
      expect(deriveComputed(state, now, policy).churnModelVersion).toBeNull();
    });

    it('keeps the rule-based score for a customer the model cannot score, or without a model', () => {
      const state = anEstablished({ lastActiveAtMs: daysAgo(1) });
      const rules = deriveComputed(state, now, policy);
      expect(deriveComputed(state, now, policy, live)).toMatchObject({
        churnRisk: rules.churnRisk,
        churnModelVersion: null,
      });
      expect(
        deriveComputed(state, now, policy, { current: () => null }).churnModelVersion,
      ).toBeNull();
    });

    it('keeps the rule-based score when the model fails or gives no probability', () => {
      const state = anEstablished({
        lastActiveAtMs: daysAgo(1),
        orders: orders({ count: 1, firstAtMs: daysAgo(80), lastAtMs: daysAgo(80) }),
      });
      const rules = deriveComputed(state, now, policy);
      for (const score of [
        () => {
          throw new RangeError('c must be positive for 2F1');
        },
        () => Number.NaN,
        () => 1.5,
      ])
        expect(
          deriveComputed(state, now, policy, { current: () => ({ modelVersion: 8, score }) }),
        ).toMatchObject({ churnRisk: rules.churnRisk, churnModelVersion: null });
    });
  });

  describe('RFM and value', () => {
    it('has no recency without orders', () => {
      const computed = deriveComputed(anEstablished(), now, policy);
      expect(computed.recencyDays).toBeNull();
      expect(computed.frequency).toBe(0);
      expect(computed.monetary).toBe(0);
    });

    it('counts whole days since the last order', () => {
      const state = anEstablished({
        orders: orders({ count: 2, lastAtMs: daysAgo(10.9), firstAtMs: daysAgo(40) }),
      });
      expect(deriveComputed(state, now, policy).recencyDays).toBe(10);
    });

    it('never reports a negative recency for an order stamped in the future', () => {
      const state = anEstablished({ orders: orders({ count: 1, lastAtMs: now + daysMs(2) }) });
      expect(deriveComputed(state, now, policy).recencyDays).toBe(0);
    });

    it('reports net revenue in major units as monetary value and LTV', () => {
      const state = anEstablished({
        orders: orders({ count: 3, revenueCents: 123_456, refundedCents: 23_456 }),
      });
      const computed = deriveComputed(state, now, policy);
      expect(computed.frequency).toBe(3);
      expect(computed.monetary).toBe(1000);
      expect(computed.ltv).toBe(1000);
    });

    it('makes a customer VIP only above the LTV threshold', () => {
      const withNet = (cents: number) =>
        deriveComputed(
          anEstablished({ orders: orders({ count: 1, revenueCents: cents }) }),
          now,
          policy,
        );
      expect(withNet(100_000).vip).toBe(false);
      expect(withNet(100_001).vip).toBe(true);
      expect(
        deriveComputed(
          anEstablished({ orders: orders({ count: 1, revenueCents: 100_001 }) }),
          now,
          { ...policy, vipLtv: 2000 },
        ).vip,
      ).toBe(false);
    });

    it('drops a customer from VIP when refunds bring the net down', () => {
      const state = anEstablished({
        orders: orders({ count: 2, revenueCents: 150_000, refundedCents: 60_000 }),
      });
      expect(deriveComputed(state, now, policy).vip).toBe(false);
    });
  });

  describe('engagement score', () => {
    it('scores one fresh open 0.3', () => {
      const state = applyAll([aTrack('Email Opened', {}, { timestampMs: now })]);
      expect(deriveComputed(state, now, policy).engagementScore).toBe(0.3);
    });

    it('halves an open after one half-life, and again after two', () => {
      const state = applyAll([aTrack('Email Opened', {}, { timestampMs: now })]);
      expect(deriveComputed(state, now + daysMs(30), policy).engagementScore).toBe(0.15);
      expect(deriveComputed(state, now + daysMs(60), policy).engagementScore).toBe(0.075);
    });

    it('follows the configured half-life', () => {
      const state = applyAll([aTrack('Email Opened', {}, { timestampMs: now })]);
      const fast = { ...policy, engagement: { ...policy.engagement, halfLifeDays: 7 } };
      expect(scoreEngagement(state, now + daysMs(7), fast)).toBeCloseTo(0.15, 12);
    });

    it('clamps the score to [0, 1]', () => {
      const busy = anEstablished({ engagement: { points: 4.2, asOfMs: now } });
      const complained = anEstablished({ engagement: { points: -1.5, asOfMs: now } });
      expect(deriveComputed(busy, now, policy).engagementScore).toBe(1);
      expect(deriveComputed(complained, now, policy).engagementScore).toBe(0);
    });

    it('rounds to four decimals', () => {
      const state = anEstablished({ engagement: { points: 0.123456, asOfMs: now } });
      expect(deriveComputed(state, now, policy).engagementScore).toBe(0.1235);
    });
  });

  describe('churn risk', () => {
    it('feeds the profile’s figures into the churn formula', () => {
      const state = anEstablished({
        lastActiveAtMs: daysAgo(20),
        orders: orders({ count: 2, revenueCents: 30_000 }),
        engagement: { points: 0.5, asOfMs: daysAgo(30) },
      });
      const expected = scoreChurn(
        { daysSinceActive: 20, orderCount: 2, monetary: 300, engagementScore: 0.25 },
        policy.churn,
      );
      const computed = deriveComputed(state, now, policy);
      expect(computed.churnRisk).toBeCloseTo(expected, 4);
      expect(computed.daysSinceActive).toBe(20);
    });

    it('scores the best and the silent customer at the documented extremes', () => {
      const best = anEstablished({
        lastActiveAtMs: now,
        orders: orders({ count: 12, revenueCents: 250_000 }),
        engagement: { points: 3, asOfMs: now },
      });
      const silent = anEstablished({ lastActiveAtMs: daysAgo(120) });
      expect(deriveComputed(best, now, policy).churnRisk).toBe(0);
      expect(deriveComputed(silent, now, policy).churnRisk).toBe(0.8947);
    });

    it('treats a customer who never acted as silent', () => {
      const computed = deriveComputed(anEstablished(), now, policy);
      expect(computed.daysSinceActive).toBeNull();
      expect(computed.churnRisk).toBe(0.8947);
    });
  });

  describe('lifecycle stage', () => {
    const stageAt = (state: ProfileState, churnRisk = 0) =>
      classifyLifecycle(state, churnRisk, now, policy.lifecycle);

    it('is new for less than 30 days after signup, however inactive', () => {
      expect(
        stageAt(aProfile({ signedUpAtMs: daysAgo(29.99), firstSeenAtMs: daysAgo(400) }), 1),
      ).toBe('new');
      expect(
        stageAt(
          aProfile({ signedUpAtMs: daysAgo(30), firstSeenAtMs: daysAgo(30), lastActiveAtMs: now }),
        ),
      ).toBe('active');
    });

    it('counts from first seen when the signup is unknown', () => {
      expect(stageAt(aProfile({ signedUpAtMs: null, firstSeenAtMs: daysAgo(5) }))).toBe('new');
      expect(stageAt(aProfile({ signedUpAtMs: null, firstSeenAtMs: daysAgo(95) }))).toBe('churned');
    });

    it('is active within 30 days of activity and at risk from 30', () => {
      expect(stageAt(anEstablished({ lastActiveAtMs: daysAgo(29.99) }))).toBe('active');
      expect(stageAt(anEstablished({ lastActiveAtMs: daysAgo(30) }))).toBe('at-risk');
    });

    it('is at risk until 90 days and churned from 90', () => {
      expect(stageAt(anEstablished({ lastActiveAtMs: daysAgo(89.99) }))).toBe('at-risk');
      expect(stageAt(anEstablished({ lastActiveAtMs: daysAgo(90) }))).toBe('churned');
    });

    it('is at risk when churn risk is above the threshold, however recent the activity', () => {
      const recent = anEstablished({ lastActiveAtMs: now });
      expect(stageAt(recent, 0.7)).toBe('active');
      expect(stageAt(recent, 0.7001)).toBe('at-risk');
    });

    it('uses the churn risk it derives for the stage', () => {
      const recent = anEstablished({ lastActiveAtMs: now });
      const risk = deriveComputed(recent, now, policy).churnRisk;
      const withThreshold = (atRiskChurnRisk: number) => ({
        ...policy,
        lifecycle: { ...policy.lifecycle, atRiskChurnRisk },
      });
      expect(risk).toBeGreaterThan(0.05);
      expect(deriveComputed(recent, now, withThreshold(risk - 0.01)).lifecycleStage).toBe(
        'at-risk',
      );
      expect(deriveComputed(recent, now, withThreshold(risk + 0.01)).lifecycleStage).toBe('active');
    });

    it('follows the configured day thresholds', () => {
      const lifecycle = { ...policy.lifecycle, newDays: 7, activeDays: 14, churnedDays: 60 };
      const state = aProfile({
        signedUpAtMs: daysAgo(10),
        firstSeenAtMs: daysAgo(10),
        lastActiveAtMs: daysAgo(15),
      });
      expect(classifyLifecycle(state, 0, now, lifecycle)).toBe('at-risk');
      expect(classifyLifecycle({ ...state, lastActiveAtMs: daysAgo(60) }, 0, now, lifecycle)).toBe(
        'churned',
      );
    });
  });

  describe('cart and bookkeeping', () => {
    it('shows the open cart in major units with its update time', () => {
      const state = applyAll([
        aTrack(
          'Product Added',
          { product_id: 'p1', price: 12.5, quantity: 2 },
          { timestampMs: daysAgo(1) },
        ),
      ]);
      expect(deriveComputed(state, now, policy).cart).toEqual({
        items: state.cart?.items,
        value: 25,
        updatedAtMs: daysAgo(1),
      });
      expect(deriveComputed(anEstablished(), now, policy).cart).toBeNull();
    });

    it('stamps the time it was computed at and rounds days since active', () => {
      const computed = deriveComputed(
        anEstablished({ lastActiveAtMs: daysAgo(1.23456) }),
        now,
        policy,
      );
      expect(computed.computedAtMs).toBe(now);
      expect(computed.daysSinceActive).toBe(1.23);
    });

    it('reports no negative days since an activity stamped in the future', () => {
      const computed = deriveComputed(
        anEstablished({ lastActiveAtMs: now + daysMs(1) }),
        now,
        policy,
      );
      expect(computed.daysSinceActive).toBe(0);
    });
  });
});
