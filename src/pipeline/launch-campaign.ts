// content ─▶ experiment ─▶ decide: a one-off campaign launched — its creative written (when
// asked), its experiment's design stored (variants, holdout), and one work item per customer
// of its segment scheduled for its send time.
import type { Campaign, CreativeVariant } from '../core/decision.js';
import { AppError } from '../core/errors.js';
import type { Store } from '../ports/store.js';
import {
  expiredAt,
  keepCreative,
  keptFor,
  prepareCreative,
  sendMomentMs,
  type PreparedCreative,
} from './creative.js';
import { fanOutCampaign, type DecideEnv } from './decide/index.js';
import { withdrawnVariants } from './guard-and-record.js';
import { designKey, promotedControl, type ExperimentDesign } from './experiment-results.js';
import type { PersonalizeOptions } from './personalize.js';
import { definitionKey, type CampaignDefinition } from './campaign-definition.js';

export interface CampaignLaunch {
  /** Customers this launch scheduled: none who had the campaign's work or a message of it. */
  audience: number;
  /** Customers of the segment the campaign had scheduled or reached before (a relaunch). */
  alreadyScheduled: number;
  /**
   * Of those, customers a raised budget gives another turn: every message of the campaign they
   * had was blocked by the budget.
   */
  resumed: number;
  /** The copy: written now, or kept from the first launch (costing nothing this time). */
  creative: PreparedCreative | null;
}

const toDefinition = (
  campaign: Omit<Campaign, 'variantIds'>,
  creative: { query: string | null } | null,
): CampaignDefinition => ({
  template: campaign.template,
  channels: [...campaign.channels],
  segment: campaign.segment,
  incentive:
    campaign.incentive === null
      ? null
      : { percent: campaign.incentive.percent, validHours: campaign.incentive.validHours },
  budget: campaign.budget ?? null,
  holdoutPercent: campaign.holdoutPercent ?? 0,
  stratify: campaign.stratify === true,
  creative: creative === null ? null : { query: creative.query },
  sendAtMs: campaign.sendAtMs,
});

/** Whether a new budget lets more be spent than the old (none is no cap at all). */
const raises = (before: number | null, after: number | null): boolean =>
  before !== null && (after === null || after > before);

const said = (value: unknown): string =>
  value === null ? 'none' : typeof value === 'string' ? `"${value}"` : JSON.stringify(value);

/**
 * What a relaunch changes of the first launch that it may not, each as `field first (now
 * second)`; the send time may change (it schedules only the customers not reached yet), and so
 * may the budget (the guard reads the budget kept, whenever a message is judged).
 */
const differences = (first: CampaignDefinition, now: CampaignDefinition): string[] =>
  (
    [
      'template',
      'channels',
      'segment',
      'incentive',
      'holdoutPercent',
      'stratify',
      'creative',
    ] as const
  ).flatMap((field) =>
    JSON.stringify(first[field]) === JSON.stringify(now[field])
      ? []
      : [`${field} ${said(first[field])} (now ${said(now[field])})`],
  );

/**
 * Of a campaign launched before its definition was kept: what its stored design and copy
 * still say of it (holdout, segment, first channel, written copy or not, stratification).
 */
const designDifferences = (
  stored: ExperimentDesign,
  hasCopy: boolean,
  now: CampaignDefinition,
): string[] =>
  [
    stored.holdoutPercent === now.holdoutPercent
      ? null
      : `holdoutPercent ${String(stored.holdoutPercent)} (now ${String(now.holdoutPercent)})`,
    stored.segment === now.segment
      ? null
      : `segment ${said(stored.segment)} (now ${said(now.segment)})`,
    stored.channel === now.channels[0]
      ? null
      : `first channel ${stored.channel} (now ${now.channels[0] ?? 'none'})`,
    hasCopy === (now.creative !== null)
      ? null
      : `creative ${hasCopy ? 'written' : 'none'} (now ${now.creative === null ? 'none' : 'asked'})`,
    (stored.stratified === true) === now.stratify
      ? null
      : `stratify ${String(stored.stratified === true)} (now ${String(now.stratify)})`,
  ].filter((d) => d !== null);

const refuseRelaunch = (
  id: string,
  first: { segment: string | null; channels: readonly string[]; holdoutPercent: number },
  changed: readonly string[],
): AppError =>
  new AppError(
    'conflict',
    `campaign ${id} was launched to ${first.segment ?? 'everyone'} on ${first.channels.join(', ')} with ${first.holdoutPercent > 0 ? `a ${String(first.holdoutPercent)} % holdout` : 'no holdout'}, and a relaunch may change only sendAt and budget: this one differs in ${changed.join('; ')}; launch it again the same way, or under a new id`,
  );

/**
 * The arm every variant is compared with: the strategy promoted for the segment and channel,
 * else the composer's `control`; when neither passed the screen, the first variant written. A
 * strategy that only won in a cut of another test (a learning, not a promotion) is no control.
 */
const controlOf = (
  arms: readonly { name: string; strategy: string | null }[],
  promoted: string | null,
): string =>
  [promoted, 'control']
    .map((strategy) => arms.find((a) => strategy !== null && a.strategy === strategy))
    .find((a) => a !== undefined)?.name ??
  arms[0]?.name ??
  'treatment';

/** When the first of the variants' sources expires, for send-time optimisation to stop short of it. */
const withCopyValidUntil = (
  variants: readonly CreativeVariant[],
): { copyValidUntilMs?: number } => {
  const ends = variants.flatMap((v) =>
    v.validUntilMs === undefined || v.validUntilMs === null ? [] : [v.validUntilMs],
  );
  return ends.length === 0 ? {} : { copyValidUntilMs: Math.min(...ends) };
};

/**
 * Launches a campaign. With `creative`, variants are written first — from the library as it
 * will stand at the send time, `creative.writing.atMs` being now — and each customer gets one
 * by hash; with variants or a holdout, the experiment's design is stored, once. The campaign's
 * definition is kept at its first launch: launching the same id again is refused (`conflict`,
 * naming what differs) unless it matches in everything but the send time; it then keeps the
 * first design and copy (refused when that copy cannot go at the send time, or now when that
 * is past) and schedules only the customers the campaign has not scheduled or reached.
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
  const launched = await store.transaction(async (tx) => ({
    definition: await tx.getSetting(definitionKey(campaign.id)),
    design: await tx.getSetting(designKey(campaign.id)),
    variants: await tx.getSetting(`creative:${campaign.id}`),
  }));
  // The work already scheduled carries the first launch's campaign (its template, channels,
  // offer), its messages were assigned by its design, and its copy was written for its
  // audience: a relaunch that differs would send the newcomers something the experiment does
  // not compare, or change nothing for those already scheduled. The send time may change: it
  // applies to the customers this launch schedules. So may the budget: the guard reads the one
  // kept here for every message it judges from then on, and a raised one gives the customers
  // its cap blocked another turn.
  const stored =
    launched.design === null ? null : (JSON.parse(launched.design) as ExperimentDesign);
  const firstLaunch =
    launched.definition === null ? null : (JSON.parse(launched.definition) as CampaignDefinition);
  // A relaunch that names no budget keeps the one the campaign has (null: no cap, lifted).
  const budget = campaign.budget === undefined ? (firstLaunch?.budget ?? null) : campaign.budget;
  const definition = toDefinition({ ...campaign, budget }, creative);
  // Launched before definitions were kept: held to what its design and copy say of it.
  const first = firstLaunch ?? (stored === null ? null : { ...stored, channels: [stored.channel] });
  const changed =
    firstLaunch !== null
      ? differences(firstLaunch, definition)
      : stored !== null
        ? designDifferences(stored, launched.variants !== null, definition)
        : [];
  if (first !== null && changed.length > 0) throw refuseRelaunch(campaign.id, first, changed);
  const kept =
    creative !== null && launched.design !== null && launched.variants !== null
      ? (JSON.parse(launched.variants) as CreativeVariant[])
      : null;
  // The copy kept cannot be rewritten (its experiment compares those variants): sent after one
  // of its sources expires, every message of that variant would be blocked. A send time
  // already past is now, as when copy is written.
  const goesAtMs = sendMomentMs(campaign.sendAtMs, nowMs);
  const expired = kept === null ? [] : expiredAt(kept, goesAtMs);
  // Nor before a source it cites is approved, or after it is replaced by a later version: the
  // guard would block every message of that variant as `content_withdrawn`.
  const withdrawn =
    kept === null || expired.length > 0
      ? []
      : [
          ...(
            await store.transaction((tx) =>
              withdrawnVariants(tx, new Map([['kept', kept]]), goesAtMs),
            )
          ).entries(),
        ].map(([variant, reason]) => ({ id: variant.id, reason }));
  const unusable = [...expired, ...withdrawn];
  if (unusable.length > 0)
    throw new AppError(
      'conflict',
      `campaign ${campaign.id} keeps the copy it was first written with, and it cannot go at the send time (${unusable.map((e) => `${e.id}: ${e.reason}`).join('; ')}); launch it under a new id to write from the library as it will stand then`,
    );
  // Only now is copy written: a relaunch refused above writes, pays for and keeps nothing.
  const written =
    creative === null
      ? null
      : kept !== null
        ? {
            variants: kept,
            refused: [],
            usage: { promptTokens: 0, completionTokens: 0, costUsd: 0, calls: 0 },
            fallback: null,
          }
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
  const holdoutPercent = definition.holdoutPercent;
  const arms =
    written === null
      ? holdoutPercent > 0
        ? [{ name: 'treatment', strategy: null }]
        : null
      : written.variants.map((v) => ({
          name: v.id,
          strategy: v.strategy,
          ...(v.weight === undefined ? {} : { weight: v.weight }),
        }));
  const design: ExperimentDesign | null =
    arms === null
      ? null
      : {
          id: campaign.id,
          kind: 'campaign',
          arms,
          control: controlOf(arms, await promotedControl(store, campaign.segment, channel)),
          holdoutPercent,
          ...(campaign.stratify === true ? { stratified: true } : {}),
          segment: campaign.segment,
          channel,
          createdAtMs: nowMs,
        };
  // Kept once, under the campaign's lock: of two first launches at once, the one that finds a
  // definition stored meanwhile is held to it like any relaunch.
  await store.transaction(async (tx) => {
    const key = definitionKey(campaign.id);
    // And the budget's lock, which a round judging the campaign holds while it reads the
    // budget and records what it blocked by it (`loadGuardBatchState`), and the design's.
    await tx.lock([
      key,
      `creative:${campaign.id}`,
      `campaign-budget:${campaign.id}`,
      designKey(campaign.id),
    ]);
    const kept = await tx.getSetting(key);
    if (kept === null) await tx.setSetting(key, JSON.stringify(definition));
    else {
      const firstLaunch = JSON.parse(kept) as CampaignDefinition;
      const raced = differences(firstLaunch, definition);
      if (raced.length > 0) throw refuseRelaunch(campaign.id, firstLaunch, raced);
      if (campaign.budget !== undefined && firstLaunch.budget !== definition.budget)
        await tx.setSetting(key, JSON.stringify({ ...firstLaunch, budget: definition.budget }));
    }
    // The design is kept with the definition it was made for, in the same transaction: a
    // launch refused above keeps none (its holdout would be analysed against the other's
    // assignment). The first design of an id stays: a relaunch neither reshuffles nor forgets
    // a promotion.
    const storedDesign = await tx.getSetting(designKey(campaign.id));
    if (design !== null && storedDesign === null)
      await tx.setSetting(designKey(campaign.id), JSON.stringify(design));
    // The copy kept is the one written for the definition kept: a launch with other settings
    // racing this one may have written its own over it before it was refused.
    const brief = {
      id: campaign.id,
      segment: campaign.segment,
      channel,
      query: creative?.query ?? null,
    };
    if (written !== null && creative !== null) {
      // Two first launches with other send times may each have written copy, the later in
      // place of the earlier's when that could not go at its time (`prepareCreative`): the
      // design kept first names the arms, the copy kept is the one they were made from, and the
      // other launch is refused.
      const ours = written.variants.map((v) => v.id);
      const storedArms =
        storedDesign === null
          ? null
          : (JSON.parse(storedDesign) as ExperimentDesign).arms.map((a) => a.name);
      if (storedArms !== null && storedArms.join('\n') !== ours.join('\n'))
        throw new AppError(
          'conflict',
          `campaign ${campaign.id} was launched at the same time with copy written for another send time, which was kept: launch it again to send that copy, or under a new id`,
        );
      const copy = await tx.getSetting(`creative:${campaign.id}`);
      const keptIds = copy === null ? [] : (JSON.parse(copy) as CreativeVariant[]).map((v) => v.id);
      if (!(await keptFor(tx, brief)) || keptIds.join('\n') !== ours.join('\n'))
        await keepCreative(tx, brief, written.variants);
    }
  });
  const fanOut = await fanOutCampaign(
    store,
    env,
    {
      ...campaign,
      budget,
      ...(written === null ? {} : { variantIds: written.variants.map((v) => v.id) }),
      ...withCopyValidUntil(written?.variants ?? []),
    },
    nowMs,
    { resume: firstLaunch !== null && raises(firstLaunch.budget, definition.budget) },
  );
  return {
    audience: fanOut.scheduled + fanOut.resumed,
    alreadyScheduled: fanOut.alreadyScheduled - fanOut.resumed,
    resumed: fanOut.resumed,
    creative: written,
  };
};
