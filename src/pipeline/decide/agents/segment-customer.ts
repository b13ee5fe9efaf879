import type { ComputedProfile, ProfileState } from '../../../core/profile.js';
import { daysBetween } from '../../../core/time.js';
import type { DecidePolicy } from '../policy.js';

export const segmentNames = ['High-Value Recent', 'New', 'Standard', 'At-Risk', 'Dormant'] as const;
export type SegmentName = (typeof segmentNames)[number];

/**
 * The RFM segment by rules, first match wins: Dormant (inactive ≥ dormantDays), At-Risk
 * (inactive ≥ atRiskDays), New (first seen < newDays ago, at most one order), High-Value Recent
 * (net revenue ≥ highValueMonetary and an order within recentDays), else Standard.
 */
export const segmentCustomer = (
  state: ProfileState,
  computed: ComputedProfile,
  nowMs: number,
  policy: DecidePolicy['segments'],
): SegmentName => {
  const inactiveDays = daysBetween(state.lastActiveAtMs ?? state.firstSeenAtMs, nowMs);
  if (inactiveDays >= policy.dormantDays) return 'Dormant';
  if (inactiveDays >= policy.atRiskDays) return 'At-Risk';
  if (daysBetween(state.firstSeenAtMs, nowMs) < policy.newDays && computed.frequency <= 1)
    return 'New';
  // In fractional days, as the rules above (`recencyDays` is rounded down: an order 30.9 days
  // ago would count as within 30). No order left counted (each one cancelled): none is recent.
  const lastOrderAtMs = state.orders.count > 0 ? state.orders.lastAtMs : null;
  if (
    computed.monetary >= policy.highValueMonetary &&
    lastOrderAtMs !== null &&
    daysBetween(lastOrderAtMs, nowMs) <= policy.recentDays
  )
    return 'High-Value Recent';
  return 'Standard';
};
