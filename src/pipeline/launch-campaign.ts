// content ─▶ experiment ─▶ decide: a one-off campaign launched — its creative written (when
// asked), its experiment's design stored (variants, holdout), and one work item per customer
// of its segment scheduled for its send time.
import type { Campaign, CreativeVariant } from '../core/decision.js';
import type { Store } from '../ports/store.js';
import { prepareCreative } from './creative.js';
import { scheduleCampaign, type DecideEnv } from './decide/index.js';
import { registerExperiment, type ExperimentDesign } from './experiment-results.js';
import type { PersonalizeOptions } from './personalize.js';

export interface CampaignLaunch {
  audience: number;
  creative: { variants: CreativeVariant[]; refused: { id: string; reason: string }[] } | null;
}

/**
 * Launches a campaign. With `creative`, variants are written first and each customer gets one
 * by hash; with variants or a holdout, the experiment's design is stored, once (launching the
 * same id again keeps the first design and reaches nobody twice).
 */
export const launchCampaign = async (
  store: Store,
  env: DecideEnv,
  campaign: Omit<Campaign, 'variantIds'>,
  creative: { query: string | null; writing: PersonalizeOptions } | null,
  nowMs: number,
): Promise<CampaignLaunch> => {
  const channel = campaign.channels[0] ?? 'email';
  const written =
    creative === null
      ? null
      : await prepareCreative(
          store,
          { id: campaign.id, segment: campaign.segment, channel, query: creative.query },
          creative.writing,
        );
  const holdoutPercent = campaign.holdoutPercent ?? 0;
  if (written !== null || holdoutPercent > 0) {
    const arms =
      written === null
        ? [{ name: 'treatment', strategy: null }]
        : written.variants.map((v) => ({ name: v.id, strategy: v.strategy }));
    const design: ExperimentDesign = {
      id: campaign.id,
      kind: 'campaign',
      arms,
      control: arms[0]?.name ?? 'treatment',
      holdoutPercent,
      segment: campaign.segment,
      channel,
      createdAtMs: nowMs,
    };
    await registerExperiment(store, design);
  }
  const audience = await scheduleCampaign(
    store,
    env,
    {
      ...campaign,
      ...(written === null ? {} : { variantIds: written.variants.map((v) => v.id) }),
    },
    nowMs,
  );
  return { audience, creative: written };
};
