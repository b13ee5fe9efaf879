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
  const terms: [number, number][] = [
    [
      policy.recencyWeight,
      clamp01((inputs.daysSinceActive ?? policy.recencyCapDays) / policy.recencyCapDays),
    ],
    [policy.frequencyWeight, 1 - clamp01(inputs.orderCount / policy.frequencyCap)],
    [policy.monetaryWeight, clamp01(inputs.monetary / policy.monetaryCap)],
    [policy.engagementWeight, 1 - clamp01(inputs.engagementScore)],
  ];
  const span = terms.reduce((sum, [w]) => sum + Math.abs(w), 0);
  if (span === 0) return 0;
  const raw = terms.reduce((sum, [w, x]) => sum + w * x, 0);
  return clamp01(raw / span);
};
