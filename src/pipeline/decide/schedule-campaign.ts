import type { Campaign } from '../../core/decision.js';
import type { CustomerId } from '../../core/ids.js';
import type { WorkDraft } from '../../ports/decide-store.js';
import type { Store, StoreTx } from '../../ports/store.js';
import { segmentCustomer } from './agents/segment-customer.js';
import type { DecideEnv } from './proposal.js';

/**
 * Fans a one-off campaign out as one work item per customer in its segment now (checked again
 * when each message is decided), due at its send time. Keyed by campaign and customer, so
 * sending the same campaign again schedules nobody twice. Returns the audience size.
 *
 * A campaign to everyone reads no profiles: the listing names customers with one, and a customer
 * merged away before their turn is skipped then ("no profile"). Reading and parsing 100,000
 * profiles for nothing took about a third of the fan-out (bench/README.md, 2026-12-02).
 */
export const scheduleCampaign = async (
  store: Store,
  env: DecideEnv,
  campaign: Campaign,
  nowMs: number,
  pageSize = 1000,
): Promise<number> => {
  const { segment } = campaign;
  const trigger = { kind: 'campaign', campaign } as const;
  const inSegment = async (tx: StoreTx, ids: CustomerId[]): Promise<CustomerId[]> => {
    // Under their locks, as an erasure takes them: a customer listed before the transaction and
    // erased since gets no work row naming them (one a later erasure would not find, pending
    // until the campaign's send time).
    await tx.lock(ids);
    if (segment === null) {
      const present = await tx.presentCustomers(ids);
      return ids.filter((id) => present.has(id));
    }
    const found: CustomerId[] = [];
    for (const [customerId, state] of await tx.loadProfiles(ids)) {
      const computed = env.computeProfile(state, nowMs);
      if (segmentCustomer(state, computed, nowMs, env.policy.segments) === segment)
        found.push(customerId);
    }
    return found;
  };
  let after: CustomerId | null = null;
  let audience = 0;
  for (;;) {
    const ids = await store.listCustomerIds(after, pageSize);
    const last = ids.at(-1);
    if (last === undefined) return audience;
    audience += await store.transaction(async (tx) => {
      const work = (await inSegment(tx, ids)).map((customerId): WorkDraft => ({
        key: `${customerId}|campaign|${campaign.id}`,
        customerId,
        dueAtMs: campaign.sendAtMs,
        trigger,
        mode: 'once',
      }));
      await tx.schedule(work, nowMs);
      return work.length;
    });
    after = last;
  }
};
