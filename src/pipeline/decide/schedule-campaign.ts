import type { Campaign } from '../../core/decision.js';
import type { CustomerId } from '../../core/ids.js';
import { campaignTurnKey, type WorkDraft } from '../../ports/decide-store.js';
import type { Store, StoreTx } from '../../ports/store.js';
import { segmentCustomer } from './agents/segment-customer.js';
import type { DecideEnv } from './proposal.js';

/** What a fan-out did: the customers of the segment it scheduled, and those it found done. */
export interface CampaignFanOut {
  scheduled: number;
  /**
   * Customers of the segment whose turn was taken before: work of the campaign under their key
   * (pending or finished), or a message of it (a merged customer's moved to the survivor).
   */
  alreadyScheduled: number;
  /**
   * Of those, customers given another turn because a raised budget may now reach them: every
   * message of the campaign they had was blocked by its budget (`budget_exhausted`).
   */
  resumed: number;
}

/**
 * Fans a one-off campaign out as one work item per customer in its segment now (checked again
 * when each message is decided), due at its send time. Sending the same campaign again
 * schedules nobody twice: not a customer with work of it under their key, nor one who has a
 * message of it — whatever became of it (sent, held out, blocked) and under whatever id they
 * were given it (a customer merged into them: their messages moved, their work key did not).
 *
 * A campaign to everyone reads no profiles: the listing names customers with one, and a customer
 * merged away before their turn is skipped then ("no profile"). Reading and parsing 100,000
 * profiles for nothing took about a third of the fan-out (bench/README.md, 2026-12-02).
 *
 * With `resume` (its budget was raised), a customer of the segment whose every message of the
 * campaign was blocked by the budget gets another turn, under a key of its own
 * (`campaignTurnKey` with the count of those messages): once per raise that finds them so.
 */
export const fanOutCampaign = async (
  store: Store,
  env: DecideEnv,
  campaign: Campaign,
  nowMs: number,
  options: { pageSize?: number; resume?: boolean } = {},
): Promise<CampaignFanOut> => {
  const { pageSize = 1000, resume = false } = options;
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
  const fanOut: CampaignFanOut = { scheduled: 0, alreadyScheduled: 0, resumed: 0 };
  for (;;) {
    const ids = await store.listCustomerIds(after, pageSize);
    const last = ids.at(-1);
    if (last === undefined) return fanOut;
    const page = await store.transaction(async (tx) => {
      const drafts = (await inSegment(tx, ids)).map((customerId): WorkDraft => ({
        key: campaignTurnKey(customerId, campaign.id),
        customerId,
        dueAtMs: campaign.sendAtMs,
        trigger,
        mode: 'once',
      }));
      // Read under the customers' locks, as a merge hands work and messages over under them:
      // what is found taken stays so until the commit, and the rest is scheduled now.
      const taken = await tx.campaignTurnsTaken(campaign.id, drafts);
      const work = drafts.filter((w) => !taken.has(w.customerId));
      const blocked =
        resume && taken.size > 0
          ? await tx.campaignBudgetBlocked(campaign.id, [...taken])
          : new Map<CustomerId, number>();
      const resumed = [...blocked].map(([customerId, n]): WorkDraft => ({
        key: campaignTurnKey(customerId, campaign.id, n),
        customerId,
        dueAtMs: campaign.sendAtMs,
        trigger,
        mode: 'once',
      }));
      await tx.schedule([...work, ...resumed], nowMs);
      return {
        scheduled: work.length,
        alreadyScheduled: drafts.length - work.length,
        resumed: resumed.length,
      };
    });
    fanOut.scheduled += page.scheduled;
    fanOut.alreadyScheduled += page.alreadyScheduled;
    fanOut.resumed += page.resumed;
    after = last;
  }
};
