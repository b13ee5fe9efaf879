// content ─▶ experiment ─▶ decide: a one-off campaign launched — its creative written (when
// asked), its experiment's design stored (variants, holdout), and one work item per customer
// of its segment scheduled for its send time.
import type { Campaign, CreativeVariant } from '../core/decision.js';
import { AppError } from '../core/errors.js';
import type { Store } from '../ports/store.js';
import { expiredAt, prepareCreative } from './creative.js';
import { scheduleCampaign, type DecideEnv } from './decide/index.js';
import {
  designKey,
  learnedStrategies,
  registerExperiment,
  type ExperimentDesign,
} from './experiment-results.js';
import type { PersonalizeOptions } from './personalize.js';

export interface CampaignLaunch {
  audience: number;
  creative: { variants: CreativeVariant[]; refused: { id: string; reason: string }[] } | null;
}

/**
 * The arm every variant is compared with: the strategy promoted for the segment and channel,
 * else the composer's `control`; when neither passed the screen, the first variant written.
 */
const controlOf = (
  arms: readonly { name: string; strategy: string | null }[],
  learned: readonly string[],
): string =>
  [learned[0], 'control']
    .map((strategy) => arms.find((a) => strategy !== undefined && a.strategy === strategy))
    .find((a) => a !== undefined)?.name ??
  arms[0]?.name ??
  'treatment';

/**
 * Launches a campaign. With `creative`, variants are written first — from the library as it
 * will stand at the send time, `creative.writing.atMs` being now — and each customer gets one
 * by hash; with variants or a holdout, the experiment's design is stored, once (launching the
 * same id again keeps the first design and its copy, and reaches nobody twice; refused when
 * that copy cannot go at the new send time).
 */
export const launchCampaign = async (
  store: Store,
  env: DecideEnv,
  campaign: Omit<Campaign, 'variantIds'>,
  creative: { query: string | null; writing: PersonalizeOptions } | null,
  nowMs: number,
): Promise<CampaignLaunch> => {
  const channel = campaign.channels[0] ?? 'email';
  // Written copy is grounded without an offer and replaces the template that would name the
  // code: each customer would be given a discount no message mentions.
  if (creative !== null && campaign.incentive !== null)
    throw new AppError(
      'invalid-input',
      'a campaign with creative cannot carry an incentive: the written copy would not name the code',
      { problems: [{ path: '/incentive', message: 'not allowed together with creative' }] },
    );
  // A campaign launched again keeps its first creative: the messages still to be made must
  // carry the variants its experiment was designed with.
  const launched = await store.transaction(async (tx) => ({
    design: await tx.getSetting(designKey(campaign.id)),
    variants: await tx.getSetting(`creative:${campaign.id}`),
  }));
  const holdoutPercent = campaign.holdoutPercent ?? 0;
  // The holdout is part of the design: messages made after a relaunch with another share would
  // be assigned by one figure and analysed by the other.
  const stored =
    launched.design === null ? null : (JSON.parse(launched.design) as ExperimentDesign);
  if (stored !== null && stored.holdoutPercent !== holdoutPercent)
    throw new AppError(
      'conflict',
      `campaign ${campaign.id} was launched with a ${String(stored.holdoutPercent)} % holdout; launch it again with the same holdout, or under a new id`,
    );
  // So are its audience and channel: the copy was written for them, and the results compare
  // the customers the design names.
  if (stored !== null && (stored.segment !== campaign.segment || stored.channel !== channel))
    throw new AppError(
      'conflict',
      `campaign ${campaign.id} was launched to ${stored.segment ?? 'everyone'} on ${stored.channel}; launch it again the same way, or under a new id`,
    );
  const kept =
    creative !== null && launched.design !== null && launched.variants !== null
      ? (JSON.parse(launched.variants) as CreativeVariant[])
      : null;
  // The copy kept cannot be rewritten (its experiment compares those variants): sent after one
  // of its sources expires, every message of that variant would be blocked.
  const expired = kept === null ? [] : expiredAt(kept, campaign.sendAtMs);
  if (expired.length > 0)
    throw new AppError(
      'conflict',
      `campaign ${campaign.id} keeps the copy it was first written with, and it cannot go at the send time (${expired.map((e) => `${e.id}: ${e.reason}`).join('; ')}); launch it under a new id to write from the library as it will stand then`,
    );
  // Only now is copy written: a relaunch refused above writes, pays for and keeps nothing.
  const written =
    creative === null
      ? null
      : kept !== null
        ? { variants: kept, refused: [] }
        : await prepareCreative(
            store,
            {
              id: campaign.id,
              segment: campaign.segment,
              channel,
              query: creative.query,
              sendAtMs: campaign.sendAtMs,
            },
            creative.writing,
          );
  if (written !== null || holdoutPercent > 0) {
    const arms =
      written === null
        ? [{ name: 'treatment', strategy: null }]
        : written.variants.map((v) => ({ name: v.id, strategy: v.strategy }));
    const design: ExperimentDesign = {
      id: campaign.id,
      kind: 'campaign',
      arms,
      control: controlOf(arms, await learnedStrategies(store, campaign.segment, channel)),
      holdoutPercent,
      ...(campaign.stratify === true ? { stratified: true } : {}),
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
