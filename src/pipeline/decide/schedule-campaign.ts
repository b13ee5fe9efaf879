import type { Campaign } from '../../core/decision.js';
import type { CustomerId } from '../../core/ids.js';
import type { WorkDraft } from '../../ports/decide-store.js';
import type { Store } from '../../ports/store.js';
import { segmentCustomer } from './agents/segment-customer.js';
import type { DecideEnv } from './proposal.js';

/**
 * Fans a one-off campaign out as one work item per customer in its segment now (checked again
 * when each message is decided), due at its send time. Keyed by campaign and customer, so
 * sending the same campaign again schedules nobody twice. Returns the audience size.
 */
export const scheduleCampaign = async (
  store: Store,
  env: DecideEnv,
  campaign: Campaign,
  nowMs: number,
  pageSize = 1000,
): Promise<number> => {
  let after: CustomerId | null = null;
  let audience = 0;
  for (;;) {
    const ids = await store.listCustomerIds(after, pageSize);
    const last = ids.at(-1);
    if (last === undefined) return audience;
    audience += await store.transaction(async (tx) => {
      const work: WorkDraft[] = [];
      for (const [customerId, state] of await tx.loadProfiles(ids)) {
        if (campaign.segment !== null) {
          const computed = env.computeProfile(state, nowMs);
          if (segmentCustomer(state, computed, nowMs, env.policy.segments) !== campaign.segment)
            continue;
        }
        work.push({
          key: `${customerId}|campaign|${campaign.id}`,
          customerId,
          dueAtMs: campaign.sendAtMs,
          trigger: { kind: 'campaign', campaign },
          mode: 'once',
        });
      }
      await tx.schedule(work, nowMs);
      return work.length;
    });
    after = last;
  }
};
