// A one-off campaign's definition as first launched, kept under `campaign:<id>`: a relaunch is
// held to it, and the guard reads the campaign's budget from it (a relaunch may change that).
import type { StoreTx } from '../ports/store.js';

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
