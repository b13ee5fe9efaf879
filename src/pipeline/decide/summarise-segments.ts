import type { CustomerId } from '../../core/ids.js';
import { daysBetween } from '../../core/time.js';
import { seededRandom } from '../../ports/random.js';
import type { Store } from '../../ports/store.js';
import { clusterRfm, type Rfm, type RfmCluster } from './agents/cluster-rfm.js';
import { segmentCustomer, type SegmentName } from './agents/segment-customer.js';
import type { DecideEnv } from './proposal.js';

export interface SegmentSummary {
  /** Known customers: identified by a user id, or who ordered (as the KPIs count them). */
  customers: number;
  /**
   * Anonymous visitors who never ordered, left out of the counts and the clusters: browsing
   * alone, they would make the largest cluster one of bounces.
   */
  anonymousVisitors: number;
  /** Customers per rule segment. */
  bySegment: Partial<Record<SegmentName, number>>;
  /** With `k`: k-means clusters over RFM, each with the rule segments of its members. */
  clusters: (RfmCluster & { segments: Partial<Record<SegmentName, number>> })[] | null;
}

/**
 * Every known customer's rule segment at `nowMs`, counted; with `k`, also k-means over RFM
 * (recency: days since the last order, else since the last activity) seeded with `seed`.
 * Anonymous visitors who never ordered are counted apart, as the KPIs leave them out.
 */
export const summariseSegments = async (
  store: Store,
  env: DecideEnv,
  nowMs: number,
  options: { k?: number; seed?: number } = {},
): Promise<SegmentSummary> => {
  const rfm: Rfm[] = [];
  const segments: SegmentName[] = [];
  let anonymousVisitors = 0;
  let after: CustomerId | null = null;
  for (;;) {
    const ids = await store.listCustomerIds(after, 1000);
    const last = ids.at(-1);
    if (last === undefined) break;
    const profiles = await store.transaction((tx) => tx.loadProfiles(ids));
    // In id order, whatever order the database read them in: k-means seeds from the order.
    for (const id of ids) {
      const state = profiles.get(id);
      if (state === undefined) continue;
      // Ever placed an order, as the KPIs' orders table says: one cancelled since still counts
      // (its first order's time stays), a cancellation of an order never placed does not.
      const ordered = state.orders.count > 0 || state.orders.firstAtMs !== null;
      if (state.userId === null && !ordered) {
        anonymousVisitors += 1;
        continue;
      }
      const computed = env.computeProfile(state, nowMs);
      segments.push(segmentCustomer(state, computed, nowMs, env.policy.segments));
      rfm.push({
        // Never active (an identify is not activity): counted from first seen, as the rule
        // segments and the lifecycle count it — not placed with customers gone a year.
        recencyDays:
          computed.recencyDays ??
          computed.daysSinceActive ??
          daysBetween(state.firstSeenAtMs, nowMs),
        frequency: computed.frequency,
        monetary: computed.monetary,
      });
    }
    after = last;
  }
  const count = (names: readonly SegmentName[]) => {
    const counts: Partial<Record<SegmentName, number>> = {};
    for (const s of names) counts[s] = (counts[s] ?? 0) + 1;
    return counts;
  };
  const k = options.k;
  if (k === undefined)
    return { customers: rfm.length, anonymousVisitors, bySegment: count(segments), clusters: null };
  const result = clusterRfm(rfm, k, seededRandom(options.seed ?? 1));
  return {
    customers: rfm.length,
    anonymousVisitors,
    bySegment: count(segments),
    clusters: result.clusters.map((c, j) => ({
      ...c,
      segments: count(segments.filter((_, i) => result.assignment[i] === j)),
    })),
  };
};
