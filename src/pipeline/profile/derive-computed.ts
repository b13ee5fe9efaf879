import type {
  ComputedProfile,
  LifecycleStage,
  LiveChurnModel,
  ProfileState,
} from '../../core/profile.js';
import { daysBetween } from '../../core/time.js';
import { decayFactor } from './decay-points.js';
import type { ProfilePolicy } from './policy.js';
import { scoreChurn } from './score-churn.js';

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));
const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * Engagement score in [0,1]: the decayed sum of engagement points at `nowMs`, clamped — one
 * fresh open (0.3) meets a 0.3 threshold, a month-old open (half-life 30 d) no longer does.
 */
export const scoreEngagement = (
  state: ProfileState,
  nowMs: number,
  policy: ProfilePolicy,
): number =>
  clamp01(
    state.engagement.points *
      decayFactor(nowMs - state.engagement.asOfMs, policy.engagement.halfLifeDays),
  );

/**
 * Lifecycle stage, first match wins: new (signed up < newDays ago, no order yet), churned (inactive ≥
 * churnedDays), at-risk (inactive ≥ activeDays, or churn risk > atRiskChurnRisk), else active.
 * A customer who never acted counts as inactive since first seen.
 */
export const classifyLifecycle = (
  state: ProfileState,
  churnRisk: number,
  nowMs: number,
  policy: ProfilePolicy['lifecycle'],
): LifecycleStage => {
  const signedUp = state.signedUpAtMs ?? state.firstSeenAtMs;
  // A first order graduates a new customer: the welcome journey exits on purchase → active.
  if (daysBetween(signedUp, nowMs) < policy.newDays && state.orders.count === 0) return 'new';
  const inactiveDays = daysBetween(state.lastActiveAtMs ?? state.firstSeenAtMs, nowMs);
  if (inactiveDays >= policy.churnedDays) return 'churned';
  if (inactiveDays >= policy.activeDays || churnRisk > policy.atRiskChurnRisk) return 'at-risk';
  return 'active';
};

/**
 * The trained model's churn score, or null — as when it cannot score the customer — when
 * scoring fails or gives no probability: a model's numerical failure must not stop ingest, the
 * sweep or the decisions that derive figures; the rule-based score stands in.
 */
const modelScore = (
  model: NonNullable<ReturnType<LiveChurnModel['current']>>,
  ...args: Parameters<NonNullable<ReturnType<LiveChurnModel['current']>>['score']>
): number | null => {
  try {
    const score = model.score(...args);
    return score === null || (Number.isFinite(score) && score >= 0 && score <= 1) ? score : null;
  } catch {
    return null;
  }
};

/**
 * The figures derived from a profile's facts at `nowMs`. Churn risk is the trained model's when
 * one is live and can score the customer (they have ordered), otherwise the rule-based score;
 * `churnModelVersion` says which.
 */
export const deriveComputed = (
  state: ProfileState,
  nowMs: number,
  policy: ProfilePolicy,
  churnModel?: LiveChurnModel,
): ComputedProfile => {
  // Never below zero: a refund or cancellation naming no order counts what it states (so the
  // sums net the same whichever arrives first), and may state more than was spent.
  const netCents = Math.max(0, state.orders.revenueCents - state.orders.refundedCents);
  const monetary = netCents / 100;
  const engagementScore = scoreEngagement(state, nowMs, policy);
  const daysSinceActive =
    state.lastActiveAtMs === null ? null : Math.max(0, daysBetween(state.lastActiveAtMs, nowMs));
  const model = churnModel?.current() ?? null;
  const modelled =
    model === null
      ? null
      : modelScore(model, state, nowMs, {
          engagementScore,
          daysSinceActive,
          cartValue: (state.cart?.valueCents ?? 0) / 100,
          responsesByChannel: state.responses?.byChannel ?? {},
        });
  const churnRisk =
    modelled ??
    scoreChurn(
      { daysSinceActive, orderCount: state.orders.count, monetary, engagementScore },
      policy.churn,
    );
  const cart = state.cart;
  return {
    // No order left counted (each one cancelled): no recency either.
    recencyDays:
      state.orders.lastAtMs === null || state.orders.count === 0
        ? null
        : Math.max(0, Math.floor(daysBetween(state.orders.lastAtMs, nowMs))),
    frequency: state.orders.count,
    monetary,
    engagementScore: round(engagementScore, 4),
    churnRisk: round(churnRisk, 4),
    churnModelVersion: modelled === null || model === null ? null : model.modelVersion,
    lifecycleStage: classifyLifecycle(state, churnRisk, nowMs, policy.lifecycle),
    ltv: monetary,
    vip: monetary > policy.vipLtv,
    daysSinceActive: daysSinceActive === null ? null : round(daysSinceActive, 2),
    cart:
      cart === null
        ? null
        : {
            items: cart.items,
            value: cart.valueCents / 100,
            updatedAtMs: cart.updatedAtMs,
          },
    computedAtMs: nowMs,
  };
};
