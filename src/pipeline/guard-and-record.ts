// decide ─▶ render ─▶ guard ─▶ record: every decision that would send a message is rendered,
// judged by every guardrail and recorded — decision, verdicts, audit entry and outbox row in
// the caller's one transaction. There is no other way into the outbox.
import { hash } from 'node:crypto';
import type { CreativeVariant, Decision } from './../core/decision.js';
import {
  assignArm,
  findHoldoutExclusion,
  isInGlobalHoldout,
  isInRollout,
  weightsAt,
  type AllocationEntry,
  type HoldoutExclusion,
} from './experiment/index.js';
import type { CustomerId } from '../core/ids.js';
import {
  classOfMessage,
  contentJsonOf,
  WEB_MAX_TTL_HOURS,
  type MessageClass,
  type MessageRecord,
  type MessageStatus,
  type RecordedVerdict,
  type RenderedContent,
} from '../core/message.js';
import { namesOf, type Channel, type ComputedProfile, type ProfileState } from '../core/profile.js';
import { addressFactsOf, erasedSinceOf } from './erased-identities.js';
import type { QuietHours } from '../core/quiet-hours.js';
import { DAY_MS, HOUR_MS } from '../core/time.js';
import type { CampaignMessage, SendHistory } from '../ports/record-store.js';
import type { ExperimentUnit } from '../ports/experiment-store.js';
import type { StoreTx } from '../ports/store.js';
import type { ModerationFinding } from '../ports/content-moderator.js';
import {
  messageCost,
  runGuardrails,
  type GuardContext,
  type GuardMessage,
  type GuardPolicy,
  type GuardResult,
  type Guardrail,
} from './guard/index.js';
import {
  appendAudit,
  AuditJson,
  decisionAuditData,
  messageAuditData,
  type AuditNote,
} from './record/index.js';
import type { Renderer, Template } from './render/index.js';
import { documentsInForce, type ContentDocument } from './content/index.js';
import { hasRecipient } from '../core/recipient.js';
import { cartFingerprint } from '../core/cart-fingerprint.js';
import { storedBudgetsOf } from './campaign-definition.js';
import { rolloutCohortOf } from './rollout.js';

export interface GuardDeps {
  renderer: Renderer;
  policy: GuardPolicy;
  quietHours: QuietHours;
  /** The profile stage's figures (engagement, LTV) at a moment. */
  figures: (state: ProfileState, nowMs: number) => ComputedProfile;
  /** How long a message waits in the review queue before it expires. */
  reviewExpiryMs: number;
  /** The domain marketing email leaves from (the From address's), for its reputation. */
  sendingDomain: string | null;
  /** Tests swap in a failing guardrail; everyone else gets the defaults. */
  guardrails?: readonly Guardrail[];
  /**
   * The sending domain's delivery results, counted at most once a minute per process: the
   * count runs over the whole reputation window, and a minute's lag does not change it.
   */
  domainCache?: { atMs: number; stats: NonNullable<GuardContext['sendingDomain']> };
  /**
   * A synchronous screen (the local lexicon's phrases of two words or more) of the one value of
   * the customer's that written copy may print, their first name (`allowedLiquidVariables`): the
   * variant's moderation judged its Liquid source, and a first name can be set by anyone through
   * a public write key. Absent: the variant's answer alone.
   */
  screenName?: (name: string) => ModerationFinding[];
  experiments: {
    /** Orders this long after a customer's assignment count toward a campaign test. */
    windowMs: number;
    /** The segment a customer is counted under in per-segment results. */
    segmentOf: (state: ProfileState, nowMs: number) => string;
  };
}

/**
 * A variant's moderation with what `screen` finds in the first name it prints added, under a
 * moderator name that says so: the variant's answer judged the Liquid source, not what the
 * variable puts in it. Before 2026-12-07 a first name of "go kill yourself" went out in a written
 * campaign's greeting. Only the name, not the whole copy: the links' signed tokens and the
 * footer are no one's words (a token can spell a lexicon word), and single words are left out (a
 * real name may be one: "Porn" is a common Thai name).
 */
const withNameScreened = (
  moderation: GuardContext['moderation'],
  state: ProfileState | undefined,
  screen: GuardDeps['screenName'],
): GuardContext['moderation'] => {
  if (moderation === null || !moderation.ok || screen === undefined || state === undefined)
    return moderation;
  const name = namesOf(state.traits).first;
  const found = name === null ? [] : screen(name);
  return found.length === 0
    ? moderation
    : {
        ...moderation,
        moderator: `${moderation.moderator} and the local lexicon (the customer's first name)`,
        findings: [...moderation.findings, ...found],
      };
};

const DOMAIN_STATS_TTL_MS = 60_000;

const domainStatsOf = async (
  tx: StoreTx,
  deps: GuardDeps,
  nowMs: number,
): Promise<GuardContext['sendingDomain']> => {
  if (deps.sendingDomain === null) return null;
  const cached = deps.domainCache;
  if (cached !== undefined && Math.abs(nowMs - cached.atMs) < DOMAIN_STATS_TTL_MS)
    return cached.stats;
  const stats = {
    domain: deps.sendingDomain,
    ...(await tx.domainStats(
      deps.sendingDomain,
      nowMs - deps.policy.reputation.windowDays * DAY_MS,
    )),
  };
  deps.domainCache = { atMs: nowMs, stats };
  return stats;
};

const emptyHistory = (): SendHistory => ({
  marketingInWindow: {},
  campaignsToday: 0,
  marketingTotal: 0,
  lastMarketingAtMs: null,
});

export const contentHashOf = (content: RenderedContent | null): string | null =>
  content === null ? null : hash('sha256', contentJsonOf(content));

const blockedBy = (guardrail: string, code: string, reason: string): GuardResult => ({
  outcome: 'block',
  verdicts: [{ guardrail, outcome: 'block', code, reason, figures: {} }],
  holdUntilMs: null,
});

/**
 * The guardrails' result, blocked as well when the profile has no address for the channel (or,
 * on the web, the decision no slot to show it in):
 * found out when the message is judged, not by the dispatcher after the sender was told it was
 * queued. After the guardrails, so their verdicts are kept and name the first reason (an
 * unsubscribed customer stays `unsubscribed`).
 */
const withRecipient = (
  result: GuardResult,
  state: ProfileState,
  decision: Decision,
  channel: Channel,
): GuardResult => {
  const reason =
    channel === 'web'
      ? // Web content is shown in a slot of the shop's pages: without one, no visit shows it.
        webOf(decision) === null
        ? 'a web message needs a slot to be shown in (details.slot), and this one has none'
        : null
      : hasRecipient(state, channel)
        ? null
        : (channel === 'sms' || channel === 'whatsapp') &&
            state.unreachable?.[channel] !== undefined &&
            typeof state.traits['phone'] === 'string'
          ? `the ${channel} number on the profile cannot receive (its provider said so)`
          : `no ${channel} address on the profile`;
  return reason === null
    ? result
    : {
        outcome: 'block',
        verdicts: [
          ...result.verdicts,
          { guardrail: 'recipient', outcome: 'block', code: 'no_recipient', reason, figures: {} },
        ],
        holdUntilMs: null,
      };
};

/** A message keeps the verdicts that did not pass and the names of the guardrails that did. */
export const splitVerdicts = (result: GuardResult): Pick<MessageRecord, 'verdicts' | 'passed'> => {
  const judged = new Set(
    result.verdicts.filter((v) => v.outcome !== 'pass').map((v) => v.guardrail),
  );
  return {
    verdicts: result.verdicts.filter((v) => v.outcome !== 'pass'),
    passed: [...new Set(result.verdicts.map((v) => v.guardrail))].filter((g) => !judged.has(g)),
  };
};

/** The code a message's fate is reported under: the worst verdict's, or null when it passed. */
export const reasonCodeOf = (result: GuardResult): string | null =>
  result.verdicts.find((v) => v.outcome === result.outcome && v.outcome !== 'pass')?.code ?? null;

/** Where a judged message goes: the outbox (possibly later), the review queue, or nowhere. */
export const placeMessage = (
  result: GuardResult,
  sendAtMs: number,
  nowMs: number,
  reviewExpiryMs: number,
): Pick<MessageRecord, 'status' | 'sendAtMs' | 'reviewExpiresAtMs' | 'reasonCode'> => {
  const reasonCode = reasonCodeOf(result);
  switch (result.outcome) {
    case 'block':
      return {
        status: statusOfBlocked(reasonCode),
        sendAtMs,
        reviewExpiresAtMs: null,
        reasonCode,
      };
    case 'review':
      return {
        status: 'review',
        sendAtMs: Math.max(sendAtMs, result.holdUntilMs ?? sendAtMs),
        reviewExpiresAtMs: nowMs + reviewExpiryMs,
        reasonCode,
      };
    case 'hold':
    case 'pass':
      return {
        status: 'queued',
        sendAtMs: Math.max(sendAtMs, result.holdUntilMs ?? sendAtMs),
        reviewExpiresAtMs: null,
        reasonCode,
      };
  }
};

export interface Judged {
  message: MessageRecord;
  result: GuardResult;
  /**
   * The experiment arms the message assigns its customer to: the global holdout's for any
   * automated marketing decision, the others only when no guardrail blocked it.
   */
  units: ExperimentUnit[];
}

/** What the guard stage needs to know of the customers and campaigns in one batch. */
export interface GuardBatchState {
  history: Map<CustomerId, SendHistory>;
  spend: Map<string, number>;
  /**
   * Each campaign's budget now (its definition's: a relaunch may have changed it since its work
   * was scheduled), for the campaigns of the batch; one not here has the budget its work carries.
   */
  budgets?: Map<string, number | null>;
  domain: GuardContext['sendingDomain'];
  /** Creative variants by experiment slot (`creative:<campaign id>`). */
  creative: Map<string, CreativeVariant[]>;
  /** Why each of those variants no longer stands on the library, for those that do not. */
  withdrawn: Map<CreativeVariant, string>;
  /** The staged rollout's cohort, when one was started (null: everyone). */
  rollout: { percent: number; salt: string } | null;
  /** The promoted winner of a journey step's variant test, by slot (`<journey>@<version>/<step>`). */
  promoted: Map<string, string>;
  /** The traffic weights in force for an adaptively allocated step, by slot. */
  weights: Map<string, Record<string, number>>;
  /** When an identity of the customer was last erased, for those known by one. */
  erased: Map<CustomerId, number>;
  /** When the customer's email address last opted out on any record of it, for those it did. */
  addressOptOuts?: Map<CustomerId, number>;
  /** The hard bounces of the customer's email address on every record of it, for those it had. */
  addressHardBounces?: Map<CustomerId, number>;
  /** When the customer's phone number texted STOP on any record of it, for those whose holds. */
  numberStops?: Map<CustomerId, number>;
  /**
   * The arm each customer holds in the global holdout, for those who hold one: it decides over
   * the hash of their id (a merge brings the other record's unit, arm and all).
   */
  globalArms?: Map<CustomerId, string>;
  /**
   * The arm each customer was recorded in by a variant test of the batch, by slot, for those
   * recorded already: a customer stays in it when the test's weights move (an adaptive step
   * reallocated), when a stratified campaign's segment changes, or when they come to the step
   * again — one person sees one arm, the one they are measured in.
   */
  heldArms?: Map<string, Map<CustomerId, string>>;
}

/** A variant test's slot (`Decision.experiment.slot`) and the experiment its units are kept in. */
export interface TestedSlot {
  slot: string;
  /** The campaign's id, or the journey step's `journeyExperimentId`; null for neither. */
  experimentId: string | null;
}

/** The variant tests `decisions` take part in, each with the experiment its units are kept in. */
export const testedSlotsOf = (decisions: readonly Decision[]): TestedSlot[] =>
  decisions.flatMap((d) => {
    if (d.experiment === null) return [];
    const campaign = campaignOf(d);
    const journey = d.journey;
    const experimentId =
      campaign !== null
        ? campaign.id
        : journey === null
          ? null
          : journeyExperimentId(journey.id, journey.version, journey.stepId);
    return [{ slot: d.experiment.slot, experimentId }];
  });

/** A campaign's written variants, kept under its experiment slot (`creative:<id>`), or null. */
export const creativeOf = async (tx: StoreTx, slot: string): Promise<CreativeVariant[] | null> => {
  const stored = await tx.getSetting(slot);
  return stored === null ? null : (JSON.parse(stored) as CreativeVariant[]);
};

/** The setting that holds a journey step's promoted variant (written by the promotion). */
export const promotedKey = (slot: string) => `promoted:${slot}`;

/** The setting an adaptively allocated step's daily weights are kept under, oldest first. */
export const allocationKey = (slot: string) => `allocation:${slot}`;

export const loadGuardBatchState = async (
  tx: StoreTx,
  deps: GuardDeps,
  customerIds: readonly CustomerId[],
  profiles: ReadonlyMap<CustomerId, ProfileState>,
  campaigns: readonly { id: string; budget: number | null }[],
  nowMs: number,
  tested: readonly TestedSlot[] = [],
): Promise<GuardBatchState> => {
  const history = await tx.sendHistory(customerIds, {
    windowStartMs: nowMs - deps.policy.frequencyCaps.windowDays * DAY_MS,
    dayStartMs: nowMs - 24 * HOUR_MS,
  });
  // The budget kept with the campaign's definition, else the one its work carries.
  const budgetsOf = async () => {
    const kept = await storedBudgetsOf(
      tx,
      campaigns.map((c) => c.id),
    );
    for (const c of campaigns) if (!kept.has(c.id)) kept.set(c.id, c.budget);
    return kept;
  };
  // Only a campaign with a budget cap needs what it has spent: summing a large campaign's
  // messages for every batch made fanning it out quadratic.
  const cappedIn = (kept: Map<string, number | null>) =>
    [...kept].flatMap(([id, budget]) => (budget === null ? [] : [id]));
  let budgets = await budgetsOf();
  const capped = cappedIn(budgets);
  // A budgeted campaign's spend is read under its lock, held to the commit: two rounds (two
  // workers, or a round and an approval) judging the same campaign at once would otherwise read
  // the same spend and together queue past the cap. Taken after the customers' locks, as on
  // every path (no-op on SQLite, which has one writer). A relaunch changes the budget under the
  // same lock, so it is read again once the lock is held: a round that judged by the budget
  // before has committed its blocks by the time the relaunch looks for them. (A cap set on a
  // campaign that had none when this round began is read, not locked: its spend may be read
  // beside another round's.)
  if (capped.length > 0) {
    await tx.lock(capped.map((id) => `campaign-budget:${id}`));
    budgets = await budgetsOf();
  }
  const spend = await tx.campaignSpend(cappedIn(budgets));
  const creative = new Map<string, CreativeVariant[]>();
  const promoted = new Map<string, string>();
  const weights = new Map<string, Record<string, number>>();
  const heldArms = new Map<string, Map<CustomerId, string>>();
  for (const { slot, experimentId } of tested) {
    if (experimentId === null || heldArms.has(slot)) continue;
    heldArms.set(slot, await tx.armsOf(experimentId, customerIds));
  }
  for (const slot of new Set(tested.map((t) => t.slot))) {
    const variants = await creativeOf(tx, slot);
    if (variants !== null) creative.set(slot, variants);
    const winner = await tx.getSetting(promotedKey(slot));
    if (winner !== null) promoted.set(slot, winner);
    const history = await tx.getSetting(allocationKey(slot));
    const inForce =
      history === null ? null : weightsAt(JSON.parse(history) as AllocationEntry[], nowMs);
    if (inForce !== null) weights.set(slot, inForce);
  }
  const known = customerIds.flatMap((id) => profiles.get(id) ?? []);
  const address = await addressFactsOf(tx, known);
  const rollout = await rolloutCohortOf(tx);
  return {
    history,
    spend,
    budgets,
    domain: await domainStatsOf(tx, deps, nowMs),
    creative,
    withdrawn: await withdrawnVariants(tx, creative, nowMs),
    rollout,
    promoted,
    weights,
    erased: await erasedSinceOf(tx, known),
    addressOptOuts: address.optOuts,
    addressHardBounces: address.hardBounces,
    numberStops: address.numberStops,
    heldArms,
    globalArms:
      deps.policy.holdout.globalPercent > 0
        ? await tx.armsOf(
            globalHoldoutExperimentId({
              percent: deps.policy.holdout.globalPercent,
              salt: deps.policy.holdout.salt,
            }),
            customerIds,
          )
        : new Map<CustomerId, string>(),
  };
};

/**
 * The variants whose copy no longer stands on the library, each with why: a cited document
 * withdrawn or expired, or replaced by another version since the variant was written — its
 * claims were checked against copy nobody approves now. Read once a batch, and again by the
 * dispatcher when it claims messages of written copy.
 */
export const withdrawnVariants = async (
  tx: StoreTx,
  creative: ReadonlyMap<string, readonly CreativeVariant[]>,
  nowMs: number,
): Promise<Map<CreativeVariant, string>> => {
  const withdrawn = new Map<CreativeVariant, string>();
  const variants = [...creative.values()].flat();
  if (variants.length === 0) return withdrawn;
  const stored = await tx.documentVersionsOf([...new Set(variants.flatMap((v) => v.citations))]);
  const inForce = new Map(
    documentsInForce(
      stored.map((d) => ({
        document: d.document as ContentDocument,
        importedAtMs: d.importedAtMs,
      })),
      nowMs,
    ).map((d) => [d.id, d.version]),
  );
  for (const variant of variants)
    for (const id of variant.citations) {
      const current = inForce.get(id);
      const written = variant.sources?.find((source) => source.id === id)?.version;
      const why =
        current === undefined
          ? `cites document ${id}, which is no longer in force (withdrawn, expired or not yet approved)`
          : written !== undefined && written !== current
            ? `cites version ${written} of document ${id}, replaced by version ${current}`
            : null;
      if (why !== null) {
        withdrawn.set(variant, `variant ${variant.id} ${why}`);
        break;
      }
    }
  return withdrawn;
};

/** The campaign a decision belongs to, with the budget its work was scheduled with. */
export const campaignOf = (
  decision: Decision,
): { id: string; budget: number | null; holdoutPercent?: number } | null =>
  decision.trigger.kind === 'campaign'
    ? {
        id: decision.trigger.campaign.id,
        budget: decision.trigger.campaign.budget ?? null,
        ...(decision.trigger.campaign.holdoutPercent === undefined
          ? {}
          : { holdoutPercent: decision.trigger.campaign.holdoutPercent }),
      }
    : null;

/** Marketing an agent decided (not an API send): what the staged rollout and holdouts govern. */
export const isAutomatedMarketing = (m: { class: MessageClass; agent: string }): boolean =>
  m.class === 'marketing' && m.agent !== 'api';

/** The reason codes of messages held out (status `held-out`): holdouts and the rollout. */
const HOLD_OUT_CODES = {
  'global-holdout': 'global_holdout',
  'campaign-holdout': 'campaign_holdout',
  'outside-rollout': 'outside_rollout',
} as const;
const HELD_OUT: ReadonlySet<string> = new Set(Object.values(HOLD_OUT_CODES));

/** The status of a message that does not go: `held-out` for a holdout or the rollout. */
export const statusOfBlocked = (reasonCode: string | null): 'held-out' | 'blocked' =>
  reasonCode !== null && HELD_OUT.has(reasonCode) ? 'held-out' : 'blocked';

/**
 * A holdout is not a fault: the message is recorded, marked, and not sent; the guardrails'
 * verdicts stay with it (it would have gone).
 */
const heldOut = (
  exclusion: HoldoutExclusion | { kind: 'outside-rollout'; percent: number },
  judged: GuardResult,
): GuardResult => ({
  outcome: 'block',
  verdicts: [
    ...judged.verdicts,
    {
      guardrail: 'holdout',
      outcome: 'block',
      code: HOLD_OUT_CODES[exclusion.kind],
      reason:
        exclusion.kind === 'global-holdout'
          ? `in the global holdout (${String(exclusion.percent)} %): no automated marketing`
          : exclusion.kind === 'campaign-holdout'
            ? `in campaign ${exclusion.campaignId}'s holdout (${String(exclusion.percent)} %)`
            : `outside the staged rollout's cohort (${String(exclusion.percent)} %)`,
      figures: { percent: exclusion.percent },
    },
  ],
  holdUntilMs: null,
});

/** A message's class (`classOfMessage`): its template's, for what asked for it. */
export const messageClassOf = (
  template: Template | undefined,
  decision: Decision,
  generated: boolean,
): MessageClass =>
  classOfMessage(template?.class === 'transactional', {
    agent: decision.agent,
    triggerKind: decision.trigger.kind,
    hasIncentive: decision.incentive !== null,
    generated,
  });

/**
 * Renders and judges one decision's message. A missing template or a template that does not
 * render blocks the message (fail closed), with the error as the reason. `content` replaces
 * the rendered content (a reviewer's edit).
 */
export const judgeDecision = (
  decision: Decision,
  state: ProfileState | undefined,
  batch: GuardBatchState,
  deps: GuardDeps,
  nowMs: number,
  content?: RenderedContent,
  /**
   * The variant the message was made with, when it is judged again (a review): its copy is the
   * one judged, whatever a new assignment would pick now (a promotion, new weights, a changed
   * segment of a stratified campaign).
   */
  madeWith?: string | null,
): Judged => {
  const channel = decision.channels[0] ?? 'email';
  const slot = decision.experiment?.slot;
  const written = slot === undefined ? undefined : batch.creative.get(slot);
  // A stratified campaign splits each segment on its own (the segment when the message is made).
  const assigned = () =>
    variantOf(decision, batch, () =>
      state === undefined ? 'unknown' : deps.experiments.segmentOf(state, nowMs),
    );
  const variant =
    madeWith !== undefined && written !== undefined
      ? (written.find((v) => v.id === madeWith) ?? assigned())
      : assigned();
  // A journey step's variants are templates: the customer's is assigned by hash, or is the
  // promoted winner once the step's test finished.
  const templateVariant =
    variant !== null || written !== undefined
      ? null
      : madeWith !== undefined && madeWith !== null && decision.experiment !== null
        ? { name: madeWith, promoted: batch.promoted.get(decision.experiment.slot) === madeWith }
        : templateVariantOf(decision, batch);
  const templateName = templateVariant?.name ?? decision.template;
  const template: Template | undefined =
    variant !== null
      ? variantTemplate(variant, deps)
      : templateName === null
        ? undefined
        : deps.renderer.templateOf(templateName);
  const scheduled = campaignOf(decision);
  // Its budget as it stands now (a relaunch may have raised or cut it).
  const campaign =
    scheduled === null || batch.budgets?.has(scheduled.id) !== true
      ? scheduled
      : { ...scheduled, budget: batch.budgets.get(scheduled.id) ?? null };
  const messageClass = messageClassOf(template, decision, variant !== null);
  let rendered: RenderedContent | null = content ?? null;
  let result: GuardResult | null = null;
  const validUntilMs = variant?.validUntilMs ?? null;
  if (template === undefined)
    result = blockedBy('render', 'no_template', `no template named ${templateName ?? '(none)'}`);
  else if (rendered === null)
    try {
      rendered = deps.renderer.render({
        messageId: decision.id,
        channel,
        template,
        messageClass,
        profile: state,
        decision,
      });
    } catch (error) {
      result = blockedBy(
        'render',
        'render_failed',
        error instanceof Error ? error.message : String(error),
      );
    }
  const history = batch.history.get(decision.customerId) ?? emptyHistory();
  if (result === null) {
    if (state === undefined)
      result = blockedBy('consent', 'no_profile', 'the customer has no profile');
    else {
      const figures = deps.figures(state, nowMs);
      const message: GuardMessage = {
        decisionId: decision.id,
        customerId: decision.customerId,
        agent: decision.agent,
        channel,
        class: messageClass,
        template: templateName,
        topic: template?.topic ?? null,
        incentive: decision.incentive,
        content: rendered,
        generated: variant !== null,
        sendAtMs: decision.scheduledForMs,
        campaignId: campaign?.id ?? null,
      };
      const context: GuardContext = {
        profile: state,
        engagementScore: figures.engagementScore,
        ltv: figures.ltv,
        history,
        quietHours: deps.quietHours,
        sendingDomain: channel === 'email' ? batch.domain : null,
        campaignBudget:
          campaign === null
            ? null
            : { budget: campaign.budget, spent: batch.spend.get(campaign.id) ?? 0 },
        moderation:
          variant === null
            ? null
            : withNameScreened(
                variant.moderation as GuardContext['moderation'],
                state,
                deps.screenName,
              ),
        brandScores: variant === null ? null : variant.scores,
        erasedAtMs: batch.erased.get(decision.customerId) ?? null,
        addressOptedOutAtMs: batch.addressOptOuts?.get(decision.customerId) ?? null,
        addressHardBounces: batch.addressHardBounces?.get(decision.customerId) ?? null,
        numberStoppedAtMs: batch.numberStops?.get(decision.customerId) ?? null,
        // Written copy links to the shop and Herald alone, whatever its text names.
        linkHosts: deps.renderer.linkHostsOf(variant === null ? templateName : null),
        nowMs,
      };
      result = withRecipient(
        runGuardrails(message, context, deps.policy, deps.guardrails),
        state,
        decision,
        channel,
      );
    }
  }
  // Whether something the message leans on ends by the time it would go: when it is due, now,
  // or at the end of its hold (a reviewer, quiet hours, a chosen send time).
  const endsFirst = (endsMs: number | null, judged: GuardResult): endsMs is number =>
    endsMs !== null &&
    judged.outcome !== 'block' &&
    Math.max(decision.scheduledForMs, nowMs, judged.holdUntilMs ?? 0) >= endsMs;
  // Written copy whose cited document was withdrawn or replaced since makes claims nobody
  // approves now.
  const withdrawn = variant === null ? undefined : batch.withdrawn.get(variant);
  if (withdrawn !== undefined && result.outcome !== 'block')
    result = blockedBy('content', 'content_withdrawn', withdrawn);
  // Written copy grounded on a document that has expired by the time it would go — a campaign
  // sent later than it was written or launched again, quiet hours holding it until the morning
  // after the sale ended — makes claims nobody vouches for then.
  if (endsFirst(validUntilMs, result))
    result = blockedBy(
      'content',
      'content_expired',
      `variant ${variant?.id ?? ''} cites a document that expires ${new Date(validUntilMs).toISOString()}, before it would go`,
    );
  // An offer whose code has expired by the time the message would go promises what the shop no
  // longer honours.
  const offerEndsMs = decision.incentive?.expiresAtMs ?? null;
  if (endsFirst(offerEndsMs, result))
    result = blockedBy(
      'financial',
      'offer_expired',
      `its code ${decision.incentive?.code ?? ''} expires ${new Date(offerEndsMs).toISOString()}, before it would go`,
    );
  const automated = isAutomatedMarketing({ class: messageClass, agent: decision.agent });
  // A staged rollout: automated marketing reaches only the current cohort, and the customers
  // outside it join no experiment — held out, blocked or not — so the holdouts and the tests
  // compare customers of the cohort only.
  const outsideRollout =
    automated &&
    batch.rollout !== null &&
    !isInRollout(decision.customerId, batch.rollout.percent, batch.rollout.salt);
  // Holdouts are drawn among the customers who would have been messaged (nothing blocked it),
  // so the held-out and the messaged differ only by the draw: their difference is the lift.
  // Whether the holdouts were drawn: then `exclusion` also says whether the customer is in
  // the global holdout, and the experiments need not hash them again.
  const drawn = automated && !outsideRollout && result.outcome !== 'block';
  const globalArm = batch.globalArms?.get(decision.customerId);
  const exclusion = drawn
    ? findHoldoutExclusion(
        decision.customerId,
        { salt: deps.policy.holdout.salt, percent: deps.policy.holdout.globalPercent },
        campaign === null || (campaign.holdoutPercent ?? 0) === 0
          ? undefined
          : { salt: 'campaign', campaignId: campaign.id, percent: campaign.holdoutPercent ?? 0 },
        globalArm,
      )
    : undefined;
  if (exclusion !== undefined) result = heldOut(exclusion, result);
  if (outsideRollout && batch.rollout !== null && result.outcome !== 'block')
    result = heldOut({ kind: 'outside-rollout', percent: batch.rollout.percent }, result);
  const placed = placeMessage(result, decision.scheduledForMs, nowMs, deps.reviewExpiryMs);
  const message: MessageRecord = {
    id: decision.id,
    customerId: decision.customerId,
    agent: decision.agent,
    channel,
    class: messageClass,
    template: templateName,
    topic: template?.topic ?? null,
    campaignId: campaign?.id ?? null,
    ...placed,
    dueAtMs: placed.sendAtMs,
    ...(validUntilMs === null ? {} : { validUntilMs }),
    ...(offerEndsMs === null ? {} : { offerEndsMs }),
    // A cart offer (or a message about the cart, such as the reminder) keeps the cart it was
    // made for: the hand-off refuses it once the cart holds something else or nothing (its
    // products and discount band were this cart's).
    ...((decision.agent === 'cart' || decision.aboutCart === true) &&
    state !== undefined &&
    state.cart !== null
      ? { cartAsOffered: cartFingerprint(state.cart.items) }
      : {}),
    // A win-back wave or a lifecycle stage's message keeps the orders and activity it was made
    // on: the hand-off refuses it once the customer ordered or came back since.
    ...((decision.agent === 'win-back' || decision.agent === 'lifecycle') && state !== undefined
      ? {
          judgedOn: {
            orders: state.orders.count,
            lastOrderAtMs: state.orders.lastAtMs,
            lastActiveAtMs: state.lastActiveAtMs,
          },
        }
      : {}),
    // Let through by the staged rollout's cohort: a roll-back of it may take it back.
    ...(automated && batch.rollout !== null && !outsideRollout
      ? { rolloutSalt: batch.rollout.salt }
      : {}),
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
    cost: messageCost({ channel, content: rendered }, deps.policy),
    sendingDomain: channel === 'email' ? deps.sendingDomain : null,
    content: rendered,
    contentHash: contentHashOf(rendered),
    ...splitVerdicts(result),
    ...notYetSent(),
    web: webOf(decision),
    variant: variant?.id ?? templateVariant?.name ?? null,
  };
  // Later messages in the same batch see this one in the customer's history and the spend.
  if (message.status === 'queued' && messageClass === 'marketing') {
    const h = batch.history.get(decision.customerId) ?? emptyHistory();
    h.marketingInWindow[channel] = (h.marketingInWindow[channel] ?? 0) + 1;
    if (channel !== 'web') {
      h.marketingTotal += 1;
      h.campaignsToday += 1;
      h.lastMarketingAtMs = Math.max(h.lastMarketingAtMs ?? message.sendAtMs, message.sendAtMs);
    }
    batch.history.set(decision.customerId, h);
  }
  if (message.status === 'queued' && campaign !== null)
    batch.spend.set(campaign.id, (batch.spend.get(campaign.id) ?? 0) + message.cost);
  const units = outsideRollout
    ? []
    : experimentUnitsOf(
        decision,
        message,
        exclusion,
        drawn,
        globalArm,
        campaign,
        templateVariant !== null && !templateVariant.promoted,
        state,
        deps,
        nowMs,
      );
  return { message, result, units };
};

/**
 * The codes that block a message on its channel alone: another channel of the same decision
 * may carry it (its consent, preferences, cap, address, sending domain and cost are its own).
 * Anything else — the content, the offer, the customer's rights, the campaign's limits —
 * blocks it on every channel.
 */
const CHANNEL_BOUND_CODES: ReadonlySet<string> = new Set([
  'suppressed_bounced',
  'suppressed_complained',
  'unsubscribed',
  'no_consent',
  'unsubscribed_topic',
  'channel_preference',
  'gdpr_no_consent',
  'gdpr_consent_implied',
  'gdpr_consent_expired',
  'whatsapp_template_not_approved',
  'whatsapp_language_invalid',
  'whatsapp_parameter_missing',
  // Longer than an SMS can carry (Twilio's 1,600 characters): another channel can.
  'sms_too_long',
  // Larger than a push notification can carry: an email or an SMS can.
  'push_too_long',
  'frequency_capped',
  'domain_paused',
  'no_recipient',
  // What a message costs is its channel's (an SMS's segments, an email's price): a cheaper
  // channel may fit in what is left of the campaign's budget.
  'budget_exhausted',
]);

/** A guardrail that threw, timed out or could not judge: fail closed, on every channel. */
const FAILED_CODES: ReadonlySet<string> = new Set(['guardrail_failed', 'moderation_failed']);

const blockedOnItsChannel = (result: GuardResult): boolean =>
  result.outcome === 'block' &&
  result.verdicts.every((v) => v.outcome !== 'block' || CHANNEL_BOUND_CODES.has(v.code));

const blockingCodes = (result: GuardResult): string[] =>
  result.verdicts.filter((v) => v.outcome === 'block').map((v) => v.code);

/** A judged message with one more verdict, its record's verdict lists made again. */
const withVerdict = (judged: Judged, verdict: RecordedVerdict): Judged => {
  const result: GuardResult = { ...judged.result, verdicts: [...judged.result.verdicts, verdict] };
  return { ...judged, result, message: { ...judged.message, ...splitVerdicts(result) } };
};

/**
 * Judges a decision's message on its first channel and, when that channel alone blocks it
 * (`CHANNEL_BOUND_CODES`) and `guard.channelFallback` allows, on each next channel the decision
 * ranked, in turn, until one does not block it — whatever blocks a later one (its cost against a
 * campaign's budget, its template), the next is tried, unless a guardrail failed there (fail
 * closed: that blocks the message). The message goes on that channel
 * (queued, held, in review, or held out: the holdouts are drawn among the customers who would
 * be messaged, which this one would) with a `channel-fallback` verdict saying which channels
 * were passed over and why. When every channel blocks, the first channel's message is kept,
 * with a `channel-fallback` block naming the others' reasons. A blocked attempt changes nothing
 * (no send counted, no spend), so only the message kept counts.
 */
export const judgeOnChannels = (
  decision: Decision,
  state: ProfileState | undefined,
  batch: GuardBatchState,
  deps: GuardDeps,
  nowMs: number,
): Judged => {
  const first = judgeDecision(decision, state, batch, deps, nowMs);
  if (
    !deps.policy.channelFallback ||
    decision.channels.length < 2 ||
    !blockedOnItsChannel(first.result)
  )
    return first;
  const passedOver = [{ channel: first.message.channel, codes: blockingCodes(first.result) }];
  const listed = (list: typeof passedOver) =>
    list.map((p) => `${p.channel} (${p.codes.join(', ')})`).join(', ');
  for (let i = 1; i < decision.channels.length; i += 1) {
    const next = judgeDecision(
      { ...decision, channels: decision.channels.slice(i) },
      state,
      batch,
      deps,
      nowMs,
    );
    if (next.message.status !== 'blocked')
      return withVerdict(next, {
        guardrail: 'channel-fallback',
        outcome: 'pass',
        code: 'ok',
        reason: `on ${next.message.channel}: blocked on ${listed(passedOver)}`,
        figures: { passedOver },
      });
    const codes = blockingCodes(next.result);
    passedOver.push({ channel: next.message.channel, codes });
    // A guardrail that failed on this channel blocks the message, not just the channel.
    if (codes.some((code) => FAILED_CODES.has(code))) break;
  }
  const others = passedOver.slice(1);
  return withVerdict(first, {
    guardrail: 'channel-fallback',
    outcome: 'block',
    code: 'no_channel_left',
    reason: `blocked on every channel tried: ${listed(others)}`,
    figures: { others },
  });
};

/**
 * The experiment that measures the global holdout as configured: a new percent or salt draws
 * a new holdout, so it starts a new experiment (`global-holdout-10pct-1a2b3c4d`).
 */
const saltHashes = new Map<string, string>();
export const globalHoldoutExperimentId = (holdout: { percent: number; salt: string }): string => {
  // Every automated marketing message names it: the salt's hash is worked out once.
  let saltHash = saltHashes.get(holdout.salt);
  if (saltHash === undefined) {
    saltHash = hash('sha256', holdout.salt).slice(0, 8);
    saltHashes.set(holdout.salt, saltHash);
  }
  return `global-holdout-${String(holdout.percent)}pct-${saltHash}`;
};

/** The experiment of a journey step (its variants, or a split branch), per journey version. */
export const journeyExperimentId = (journeyId: string, version: number, stepId: string) =>
  `journey:${journeyId}@${String(version)}:${stepId}`;

/**
 * The experiments an automated marketing message takes part in: the global holdout's, when
 * one is configured; its campaign's, when the campaign has variants or a holdout; its journey
 * step's, when the step's variants are still being tested; and each split the customer took
 * in the journey (a customer in the global holdout is outside every other one). The arm is
 * `holdout`, the variant, the split's arm, or `treatment`.
 */
const experimentUnitsOf = (
  decision: Decision,
  message: MessageRecord,
  exclusion: HoldoutExclusion | undefined,
  /** Whether `exclusion` was drawn (else the global holdout is hashed here). */
  drawn: boolean,
  /** The customer's arm in the global holdout, when they hold one already. */
  globalArm: string | undefined,
  campaign: ReturnType<typeof campaignOf>,
  testedVariant: boolean,
  state: ProfileState | undefined,
  deps: GuardDeps,
  nowMs: number,
): ExperimentUnit[] => {
  if (message.class !== 'marketing' || decision.agent === 'api' || state === undefined) return [];
  // Worked out once, and only when the message joins an experiment.
  let segment: string | undefined;
  const unit = (experimentId: string, arm: string, windowEndsMs: number): ExperimentUnit => ({
    experimentId,
    customerId: decision.customerId,
    arm,
    messageId: message.id,
    segment: (segment ??= deps.experiments.segmentOf(state, nowMs)),
    channel: message.channel,
    assignedAtMs: nowMs,
    windowEndsMs,
  });
  const units: ExperimentUnit[] = [];
  const holdout = { percent: deps.policy.holdout.globalPercent, salt: deps.policy.holdout.salt };
  const global = exclusion?.kind === 'global-holdout';
  // The global holdout: a customer enters at their first automated marketing decision, sent
  // or not, in the arm the hash gives — so what earlier messages did to a customer (an
  // unsubscribe, a cap) cannot decide who enters — and is measured on everything they buy
  // after that.
  if (holdout.percent > 0)
    units.push(
      unit(
        globalHoldoutExperimentId(holdout),
        (drawn ? global : isInGlobalHoldout(decision.customerId, holdout, globalArm))
          ? 'holdout'
          : 'treatment',
        Number.MAX_SAFE_INTEGER,
      ),
    );
  if (message.status === 'blocked') return units;
  const tested =
    campaign !== null && (message.variant != null || (campaign.holdoutPercent ?? 0) > 0);
  if (tested && !global)
    units.push(
      unit(
        campaign.id,
        exclusion === undefined ? (message.variant ?? 'treatment') : 'holdout',
        nowMs + deps.experiments.windowMs,
      ),
    );
  const journey = decision.journey;
  if (journey === null || global || exclusion !== undefined) return units;
  if (testedVariant && message.variant != null)
    units.push(
      unit(
        journeyExperimentId(journey.id, journey.version, journey.stepId),
        message.variant,
        nowMs + deps.experiments.windowMs,
      ),
    );
  const arms = decision.details['splitArms'];
  if (typeof arms === 'object' && arms !== null && !Array.isArray(arms))
    for (const [stepId, arm] of Object.entries(arms))
      if (typeof arm === 'string')
        units.push(
          unit(
            journeyExperimentId(journey.id, journey.version, stepId),
            arm,
            nowMs + deps.experiments.windowMs,
          ),
        );
  return units;
};

/** A web decision's slot and expiry (`details.slot`, `details.expiresAt`), else null. */
const webOf = (decision: Decision): MessageRecord['web'] => {
  const slot = decision.details['slot'];
  const expires = decision.details['expiresAt'];
  if (decision.channels[0] !== 'web' || typeof slot !== 'string') return null;
  const expiresAtMs = typeof expires === 'string' ? Date.parse(expires) : Number.NaN;
  return {
    slot,
    // Shown for at most `WEB_MAX_TTL_HOURS`: a later expiry asked for is cut to it.
    expiresAtMs: Number.isNaN(expiresAtMs)
      ? decision.scheduledForMs + 24 * HOUR_MS
      : Math.min(expiresAtMs, decision.scheduledForMs + WEB_MAX_TTL_HOURS * HOUR_MS),
  };
};

/**
 * The creative variant a decision carries, when its experiment slot has stored variants: the
 * arm the customer was recorded in, else one assigned by hashing the slot and the customer
 * (in the variants' weights: equal shares unless a strategy won before) — within the customer's
 * segment when the campaign asked for stratification.
 */
const variantOf = (
  decision: Decision,
  batch: GuardBatchState,
  stratum: () => string,
): CreativeVariant | null => {
  const slot = decision.experiment?.slot;
  const variants = slot === undefined ? undefined : batch.creative.get(slot);
  if (slot === undefined || variants === undefined || variants.length === 0) return null;
  const held = batch.heldArms?.get(slot)?.get(decision.customerId);
  const kept = held === undefined ? undefined : variants.find((v) => v.id === held);
  if (kept !== undefined) return kept;
  const stratified =
    decision.trigger.kind === 'campaign' && decision.trigger.campaign.stratify === true;
  const arm = assignArm(
    decision.customerId,
    { salt: slot, arms: variants.map((v) => ({ name: v.id, weight: v.weight ?? 1 })) },
    stratified ? stratum() : undefined,
  );
  return variants.find((v) => v.id === arm) ?? null;
};

/**
 * A journey step's template variant: the promoted winner once its test finished, else the arm
 * the customer was recorded in, else one assigned by hashing the step's slot and the customer —
 * equal shares, or the weights in force for an adaptively allocated step (weights that move
 * later move only the customers who come new to the step). Null when the decision has no
 * variants or its slot holds written creative.
 */
const templateVariantOf = (
  decision: Decision,
  batch: GuardBatchState,
): { name: string; promoted: boolean } | null => {
  const experiment = decision.experiment;
  if (experiment === null || experiment.variants.length === 0) return null;
  if (batch.creative.has(experiment.slot)) return null;
  const winner = batch.promoted.get(experiment.slot);
  if (winner !== undefined) return { name: winner, promoted: true };
  const held = batch.heldArms?.get(experiment.slot)?.get(decision.customerId);
  if (held !== undefined && experiment.variants.includes(held))
    return { name: held, promoted: false };
  const weights = batch.weights.get(experiment.slot);
  const name = assignArm(decision.customerId, {
    salt: experiment.slot,
    arms: experiment.variants.map((v) => ({ name: v, weight: weights?.[v] ?? 1 })),
  });
  return { name, promoted: false };
};

/**
 * A variant as a template (parsed once per process): its copy, then its call to action. Named
 * by its copy as well as its id: variant ids repeat from one campaign to the next (the composer
 * names them by segment, place, strategy and tone), and one name for two copies would send the
 * copy parsed first to both campaigns.
 */
const variantTemplate = (variant: CreativeVariant, deps: GuardDeps): Template => {
  let made = variantTemplates.get(deps.renderer);
  if (made === undefined) variantTemplates.set(deps.renderer, (made = new WeakMap()));
  const known = made.get(variant);
  if (known !== undefined) {
    // Loaded again each time: the renderer keeps only the run-time templates used lately.
    deps.renderer.load(known);
    return known;
  }
  const copy = JSON.stringify([variant.subject, variant.preheader, variant.body, variant.cta]);
  const template: Template = {
    name: `creative-${variant.id}-${hash('sha256', copy).slice(0, 16)}`,
    class: 'marketing',
    topic: 'promotions',
    subject: variant.subject,
    preheader: variant.preheader,
    text: `${variant.body}\n\n${variant.cta}: {{ links.shop }}`,
    html: null,
  };
  deps.renderer.load(template);
  const loaded = deps.renderer.templateOf(template.name) ?? template;
  made.set(variant, loaded);
  return loaded;
};
// Each renderer's template of each variant read (its name costs a hash).
const variantTemplates = new WeakMap<Renderer, WeakMap<CreativeVariant, Template>>();

/** What a message just recorded has not had yet: reviews, attempts, a provider (a fresh list). */
const notYetSent = (): Pick<
  MessageRecord,
  'reviews' | 'attempts' | 'recipient' | 'provider' | 'providerId' | 'sentAtMs' | 'lastError'
> => ({
  reviews: [],
  attempts: 0,
  recipient: null,
  provider: null,
  providerId: null,
  sentAtMs: null,
  lastError: null,
});

/** Whether a decision asks for a message (rather than recording a skip or an escalation). */
const sendsMessage = (d: Decision): boolean => d.status === 'scheduled' && d.channels.length > 0;

/**
 * Decisions judged and written at a time within a batch. What a judged message makes (its
 * rendered text, verdicts, audit entry and their JSON) is garbage once written: writing each few
 * dozen at once lets most of it die young, where a batch of 2,000 judged before any was written
 * kept all of it alive through a collection or two, copying and promoting it. Appending audit
 * entries takes the audit chain's lock; where that lock holds up other processes until the
 * commit (PostgreSQL: other workers' rounds, reviews, the dispatcher), the entries wait as
 * JSON text and are appended once the round is judged, not from its first group on.
 */
const RECORD_CHUNK = 64;

/** What `guardAndRecord` may be given besides the decisions. */
export interface GuardAndRecordOptions {
  /** Sees each judged message as it is recorded. */
  onJudged?: (judged: Judged) => void;
  /**
   * Audit entries of the same round to append ahead of the decisions' own (the messages it
   * withdrew: `withdrawnMessages`), once the batch state is read: the audit chain's lock is
   * taken after the campaign budgets' locks, as on every path, or two rounds deadlock.
   */
  auditFirst?: readonly AuditNote[];
}

/**
 * Guards and records a batch of decisions inside the transaction that stores them: each
 * decision gets its audit entry, and each one that sends gets its message row (queued,
 * in review or blocked, with every verdict). Returns how many messages it recorded.
 */
export const guardAndRecord = async (
  tx: StoreTx,
  deps: GuardDeps,
  decisions: readonly Decision[],
  profiles: ReadonlyMap<CustomerId, ProfileState>,
  nowMs: number,
  { onJudged, auditFirst = [] }: GuardAndRecordOptions = {},
): Promise<number> => {
  if (decisions.length === 0) {
    await appendAudit(tx, auditFirst, nowMs);
    return 0;
  }
  const sending = decisions.filter(sendsMessage);
  const batch: GuardBatchState =
    sending.length === 0
      ? {
          history: new Map(),
          spend: new Map(),
          domain: null,
          creative: new Map(),
          rollout: null,
          promoted: new Map(),
          weights: new Map(),
          erased: new Map(),
          withdrawn: new Map(),
        }
      : await loadGuardBatchState(
          tx,
          deps,
          [...new Set(sending.map((d) => d.customerId))],
          profiles,
          sending.flatMap((d) => campaignOf(d) ?? []),
          nowMs,
          testedSlotsOf(sending),
        );
  const appendEachGroup = tx.auditLockIsFree;
  let notes: AuditNote[] = [...auditFirst];
  const note = (decision: Decision, data: ReturnType<typeof decisionAuditData>) =>
    notes.push({
      kind: 'decision',
      customerId: decision.customerId,
      atMs: nowMs,
      data: appendEachGroup ? data : new AuditJson(JSON.stringify(data)),
    });
  let recorded = 0;
  for (let start = 0; start < decisions.length; start += RECORD_CHUNK) {
    const judged: Judged[] = [];
    for (let i = start; i < Math.min(decisions.length, start + RECORD_CHUNK); i += 1) {
      const decision = decisions[i] as Decision;
      if (!sendsMessage(decision)) {
        note(decision, decisionAuditData(decision, null, []));
        continue;
      }
      let one: Judged;
      let data: ReturnType<typeof decisionAuditData>;
      try {
        one = judgeOnChannels(decision, profiles.get(decision.customerId), batch, deps, nowMs);
        data = decisionAuditData(decision, one.message, one.result.verdicts);
      } catch (error) {
        // Fail closed, for this decision alone: thrown out of the round, one decision nobody
        // can judge would roll back every other customer's work and come back each round.
        one = failedJudgement(decision, error, deps, nowMs);
        data = decisionAuditData(decision, one.message, one.result.verdicts);
      }
      judged.push(one);
      note(decision, data);
    }
    await tx.insertMessages(judged.map((j) => j.message));
    await tx.assignUnits(judged.flatMap((j) => j.units));
    if (appendEachGroup) {
      await appendAudit(tx, notes, nowMs);
      notes = [];
    }
    recorded += judged.length;
    if (onJudged !== undefined) for (const one of judged) onJudged(one);
  }
  await appendAudit(tx, notes, nowMs);
  return recorded;
};

/**
 * A decision whose judging threw: its message blocked (`guard_error`, the error in the
 * reason), nothing rendered, no experiment joined.
 */
const failedJudgement = (
  decision: Decision,
  error: unknown,
  deps: GuardDeps,
  nowMs: number,
): Judged => {
  const result = blockedBy(
    'pipeline',
    'guard_error',
    `judging the decision failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  const channel = decision.channels[0] ?? 'email';
  const sendAtMs = Number.isFinite(decision.scheduledForMs) ? decision.scheduledForMs : nowMs;
  const placed = placeMessage(result, sendAtMs, nowMs, deps.reviewExpiryMs);
  return {
    message: {
      id: decision.id,
      customerId: decision.customerId,
      agent: decision.agent,
      channel,
      class: 'marketing',
      template: decision.template,
      topic: null,
      campaignId: campaignOf(decision)?.id ?? null,
      ...placed,
      dueAtMs: placed.sendAtMs,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
      cost: 0,
      sendingDomain: null,
      content: null,
      contentHash: null,
      ...splitVerdicts(result),
      ...notYetSent(),
      web: null,
      variant: null,
    },
    result,
    units: [],
  };
};

/** Cancels the waiting messages of decisions a later event made moot, with an audit entry each. */
export const withdrawMessages = async (
  tx: StoreTx,
  cancelled: readonly { decisionIds: readonly string[]; reason: string }[],
  nowMs: number,
): Promise<number> => {
  const notes = await withdrawnMessages(tx, cancelled, nowMs);
  await appendAudit(tx, notes, nowMs);
  return notes.length;
};

/**
 * `withdrawMessages` without appending its audit entries: they are returned, for a caller that
 * appends them with its own.
 */
export const withdrawnMessages = async (
  tx: StoreTx,
  cancelled: readonly { decisionIds: readonly string[]; reason: string }[],
  nowMs: number,
): Promise<AuditNote[]> => {
  const notes: AuditNote[] = [];
  for (const { decisionIds, reason } of cancelled) {
    for (const message of await tx.pendingMessagesOf(decisionIds)) {
      const changed = await tx.updateMessage(
        message.id,
        { status: 'cancelled', reasonCode: 'cancelled' },
        nowMs,
        message.status,
      );
      if (!changed) continue;
      notes.push({
        kind: 'cancel',
        customerId: message.customerId,
        atMs: nowMs,
        data: messageAuditData(
          { ...message, status: 'cancelled' },
          { action: 'cancel', by: null, reason },
        ),
      });
    }
  }
  return notes;
};

/** Statuses of a campaign's message that mean it reached the person. */
const REACHED: ReadonlySet<MessageStatus> = new Set(['sent', 'bounced', 'complained']);

/**
 * A campaign's message a dispatcher holds, or back in the outbox after an attempt: it may be
 * with the provider, so it is never withdrawn, but it has not surely gone either.
 */
const inFlight = (m: CampaignMessage): boolean =>
  !m.accepted && (m.status === 'sending' || (m.status === 'queued' && !m.waiting));

/**
 * A campaign once per person, after a merge made two customers one: of the survivor's messages
 * of one campaign, those still waiting to leave are withdrawn when the person was held out of
 * the campaign (either record's message was in its holdout: the global holdout and a rollout's
 * cohort are drawn per record, and the survivor passed theirs), or it reached them already (one
 * has left or is leaving); of several waiting, one stays — a queued one before one waiting for
 * a reviewer, who may reject it, then the oldest. A message that may be with a provider
 * (`inFlight`) cannot be withdrawn: when the person was held out, or another message reached
 * them, its decision is cancelled instead, so that an attempt that comes back unsent (a 429, a
 * hold at hand-off) is refused at the next. With an audit entry each withdrawal.
 */
export const withdrawRepeatedCampaigns = async (
  tx: StoreTx,
  customerIds: readonly CustomerId[],
  nowMs: number,
): Promise<number> => {
  if (customerIds.length === 0) return 0;
  const byTurn = new Map<string, CampaignMessage[]>();
  for (const m of await tx.campaignMessagesOf(customerIds)) {
    const key = `${m.customerId}\u0000${m.campaignId}`;
    byTurn.set(key, [...(byTurn.get(key) ?? []), m]);
  }
  const withdrawn: { decisionIds: string[]; reason: string }[] = [];
  for (const messages of byTurn.values()) {
    if (messages.length < 2) continue;
    // Oldest first from the store; a queued one ahead of those in review, and of those, the one
    // the person's unit of the campaign's experiment names: the unit the merge kept is exposed
    // by its own message (keeping the other record's left it never exposed, before 2026-12-07).
    const waiting = messages
      .filter((m) => m.waiting)
      .sort(
        (a, b) =>
          Number(a.status === 'review') - Number(b.status === 'review') ||
          Number(b.measured) - Number(a.measured),
      );
    const flying = messages.filter(inFlight);
    const campaign = messages[0]?.campaignId ?? '';
    const heldOut = messages.some(
      (m) => m.status === 'held-out' && m.reasonCode === 'campaign_holdout',
    );
    // A report showed a message taken by its provider: it reached them, whatever its status.
    const reached = messages.some((m) => REACHED.has(m.status) || m.accepted);
    const reason = heldOut
      ? `merged records: the person was held out of campaign ${campaign}`
      : `merged records: campaign ${campaign} reaches the person once`;
    // With several out and none known to have gone, which will reach the person is not known
    // yet: stopping any could leave them with none (the one kept might fail for good). All go.
    const stopped = heldOut || reached ? flying : [];
    if (stopped.length > 0)
      await tx.cancelDecisionsById(
        stopped.map((m) => m.id),
        reason,
      );
    const repeats = heldOut || reached || flying.length > 0 ? waiting : waiting.slice(1);
    if (repeats.length > 0) withdrawn.push({ decisionIds: repeats.map((m) => m.id), reason });
  }
  return withdrawMessages(tx, withdrawn, nowMs);
};
