import type { Usage } from '../../ports/language-model.js';

/** Adds up what language-model calls cost, per campaign, for as long as the process runs. */
export interface UsageLedger {
  record(campaignId: string, usage: Usage): void;
  /** The sum for one campaign; zero for a campaign with nothing recorded. */
  totalFor(campaignId: string): Usage;
  /** Every campaign with something recorded, in the order first seen. */
  totals(): { campaignId: string; usage: Usage }[];
}

const zero = (): Usage => ({ promptTokens: 0, completionTokens: 0, costUsd: 0 });

export const createUsageLedger = (): UsageLedger => {
  const byCampaign = new Map<string, Usage>();
  return {
    record(campaignId, usage) {
      const sum = byCampaign.get(campaignId) ?? zero();
      byCampaign.set(campaignId, {
        promptTokens: sum.promptTokens + usage.promptTokens,
        completionTokens: sum.completionTokens + usage.completionTokens,
        costUsd: sum.costUsd + usage.costUsd,
      });
    },
    totalFor: (campaignId) => ({ ...(byCampaign.get(campaignId) ?? zero()) }),
    totals: () =>
      [...byCampaign].map(([campaignId, usage]) => ({ campaignId, usage: { ...usage } })),
  };
};
