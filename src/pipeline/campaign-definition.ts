// A one-off campaign's definition as first launched, kept under `campaign:<id>`: a relaunch is
// held to it, and the guard reads the campaign's budget from it (a relaunch may change that).
import type { Store, StoreTx } from '../ports/store.js';

/**
 * A campaign as first launched: a relaunch must match it in everything but the send time and
 * the budget (the work already scheduled, its messages and its experiment were made by it).
 */
export interface CampaignDefinition {
  template: string;
  channels: readonly string[];
  segment: string | null;
  incentive: { percent: number; validHours: number } | null;
  /** What sending may cost now: the first launch's, or the latest relaunch's. */
  budget: number | null;
  holdoutPercent: number;
  stratify: boolean;
  creative: { query: string | null } | null;
  sendAtMs: number;
}

export const definitionKey = (id: string) => `campaign:${id}`;

/**
 * The budget each of these campaigns has now, as its definition keeps it; a campaign launched
 * before definitions were kept has none here (its work items carry the budget it was given).
 */
export const storedBudgetsOf = async (
  tx: Pick<StoreTx, 'getSetting'>,
  campaignIds: readonly string[],
): Promise<Map<string, number | null>> => {
  const budgets = new Map<string, number | null>();
  for (const id of new Set(campaignIds)) {
    const stored = await tx.getSetting(definitionKey(id));
    if (stored !== null) budgets.set(id, (JSON.parse(stored) as CampaignDefinition).budget);
  }
  return budgets;
};

/** What a campaign is and where it stands: `GET /v1/campaigns/:id`. */
export interface CampaignStatus {
  campaignId: string;
  /** As kept at its first launch (its budget the latest); null for one launched before. */
  definition: CampaignDefinition | null;
  /** What its messages that left, are leaving or wait to leave cost (erased customers' kept). */
  spent: number;
  /** Its messages by status. */
  messages: Record<string, number>;
  /** Customers whose every message of it the budget blocked: a raise gives them another turn. */
  blockedByBudget: number;
  /** Whether it stands at its budget with customers waiting for a raise. */
  paused: boolean;
}

/** A campaign's definition and standing, or null when no campaign of that id was launched. */
export const campaignStatus = async (
  store: Pick<Store, 'transaction'>,
  campaignId: string,
): Promise<CampaignStatus | null> =>
  store.transaction(async (tx) => {
    const stored = await tx.getSetting(definitionKey(campaignId));
    const counts = await tx.campaignMessageCounts(campaignId);
    if (stored === null && Object.keys(counts.byStatus).length === 0) return null;
    const definition = stored === null ? null : (JSON.parse(stored) as CampaignDefinition);
    const spent = (await tx.campaignSpend([campaignId])).get(campaignId) ?? 0;
    return {
      campaignId,
      definition,
      spent,
      messages: counts.byStatus,
      blockedByBudget: counts.blockedByBudget,
      paused: definition?.budget != null && counts.blockedByBudget > 0,
    };
  });
