import type { ProfilePolicy } from './policy.js';

export interface ChurnInputs {
  /** Days since the customer's last activity; null when they never acted (counts as the cap). */
  daysSinceActive: number | null;
  orderCount: number;
  /** Net revenue in major units. */
  monetary: number;
  engagementScore: number;
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/**
 * Churn risk in [0,1]: a weighted sum of four terms, each in [0,1] and oriented so that 1 means
 * riskier — r = min(daysSinceActive / recencyCapDays, 1), f = 1 − min(orders / frequencyCap, 1),
 * m = min(monetary / monetaryCap, 1), e = 1 − engagementScore — divided by the weights' total
 * size and clamped: Σ wᵢxᵢ / Σ |wᵢ|. With the defaults (0.4, 0.2, −0.1, 0.25) a customer active
 * today with many orders, high spend and full engagement scores 0, and one silent for 90+ days
 * with no orders and no engagement scores 0.85/0.95 ≈ 0.89.
 */
export const scoreChurn = (inputs: ChurnInputs, policy: ProfilePolicy['churn']): number => {
  // Written out rather than as an array of terms: this runs for every profile on every look.
  const r = clamp01((inputs.daysSinceActive ?? policy.recencyCapDays) / policy.recencyCapDays);
  const f = 1 - clamp01(inputs.orderCount / policy.frequencyCap);
  const m = clamp01(inputs.monetary / policy.monetaryCap);
  const e = 1 - clamp01(inputs.engagementScore);
  const span =
    Math.abs(policy.recencyWeight) +
    Math.abs(policy.frequencyWeight) +
    Math.abs(policy.monetaryWeight) +
    Math.abs(policy.engagementWeight);
  if (span === 0) return 0;
  const raw =
    policy.recencyWeight * r +
    policy.frequencyWeight * f +
    policy.monetaryWeight * m +
    policy.engagementWeight * e;
  return clamp01(raw / span);
};
