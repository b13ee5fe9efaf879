// content ─▶ decide ─▶ experiment ─▶ measure: a campaign's creative — variants written from
// the approved library, each customer assigned one when the message is made, and, once
// messages went out and orders came in, which variant and strategy won.
import type { CreativeVariant } from '../core/decision.js';
import { AppError } from '../core/errors.js';
import type { Store } from '../ports/store.js';
import { usableAt, type ContentDocument } from './content/index.js';
import { twoProportionZTest, wilsonInterval } from './measure/index.js';
import {
  audienceOfSegment,
  writeCampaignVariants,
  type PersonalizeOptions,
} from './personalize.js';
import { appendAudit } from './record/index.js';

/** The latest stored version of each document, usable at `atMs`. */
export const currentDocuments = async (store: Store, atMs: number): Promise<ContentDocument[]> => {
  const latest = new Map<string, ContentDocument>();
  for (const stored of await store.listDocuments())
    latest.set(stored.id, stored.document as ContentDocument);
  return [...latest.values()].filter((d) => usableAt(d, atMs));
};

const learningsKey = (audience: string) => `learnings:${audience}`;

/**
 * Writes a campaign's variants (grounded, screened, scored) and keeps them under the
 * campaign's experiment slot, with an audit entry naming them and their sources. Refuses when
 * no variant passes: a campaign never goes out with copy nobody could vouch for.
 */
export const prepareCreative = async (
  store: Store,
  campaign: { id: string; segment: string | null; query: string | null },
  options: PersonalizeOptions,
): Promise<{ variants: CreativeVariant[]; refused: { id: string; reason: string }[] }> => {
  const documents = await currentDocuments(store, options.atMs);
  if (documents.length === 0)
    throw new AppError(
      'conflict',
      'the content library is empty: `herald content import DIR` first',
    );
  const audience = audienceOfSegment(campaign.segment);
  const learned = await store.transaction(async (tx) => {
    const stored = await tx.getSetting(learningsKey(audience));
    return stored === null ? [] : (JSON.parse(stored) as string[]);
  });
  const written = await writeCampaignVariants(
    documents,
    { segment: campaign.segment, query: campaign.query, learned },
    options,
  );
  if (written.usable.length === 0)
    throw new AppError(
      'conflict',
      `no variant passed grounding and the screen (${written.refused.map((r) => `${r.id}: ${r.reason}`).join('; ') || 'nothing retrieved'})`,
    );
  const variants: CreativeVariant[] = written.usable.map((v) => ({
    id: v.id,
    strategy: v.strategy,
    tone: v.tone,
    subject: v.subject,
    preheader: v.preheader,
    body: v.body,
    cta: v.cta,
    citations: v.citations,
    generator: v.generator,
    moderation: v.safety.moderation,
    scores: { brand: v.scores.brandConsistency, tone: v.scores.toneConsistency },
  }));
  await store.transaction(async (tx) => {
    await tx.setSetting(`creative:${campaign.id}`, JSON.stringify(variants));
    await appendAudit(
      tx,
      [
        {
          kind: 'creative',
          customerId: null,
          atMs: options.atMs,
          data: {
            campaignId: campaign.id,
            audience,
            learnedOrder: learned,
            variants: variants.map((v) => ({
              id: v.id,
              strategy: v.strategy,
              citations: v.citations,
              generator: v.generator,
              scores: v.scores,
            })),
            refused: written.refused,
          },
        },
      ],
      options.atMs,
    );
  });
  return { variants, refused: written.refused };
};

export interface VariantResult {
  variant: string;
  strategy: string;
  /** Messages that went out with this variant (the exposures). */
  sent: number;
  conversions: number;
  revenue: number;
  rate: number;
  interval: { lower: number; upper: number };
  /** Against the control variant (two-proportion z-test), when both were sent. */
  vsControl: { difference: number; p: number } | null;
}

export interface CampaignResults {
  campaignId: string;
  variants: VariantResult[];
  /** The strategy that beat control at p < 0.05, else null (nothing learned). */
  winner: string | null;
}

/**
 * Per variant: exposures (messages sent with it), the orders credited to them, the conversion
 * rate with its Wilson interval and the z-test against control. When a variant beat control
 * significantly its strategy is remembered for the audience, first in line next time.
 */
export const campaignResults = async (
  store: Store,
  campaignId: string,
  learn: { segment: string | null; nowMs: number } | null,
): Promise<CampaignResults> => {
  const variants = await store.transaction(async (tx) => {
    const stored = await tx.getSetting(`creative:${campaignId}`);
    return stored === null ? null : (JSON.parse(stored) as CreativeVariant[]);
  });
  if (variants === null) throw new AppError('not-found', `campaign ${campaignId} has no creative`);
  const messages = await store.listMessages({ campaignId, limit: 1_000_000 });
  const sent = messages.filter((m) => m.sentAtMs !== null);
  const conversions = await store.listConversions({
    decisionIds: sent.map((m) => m.id),
    limit: 1_000_000,
  });
  const byDecision = new Map(conversions.map((c) => [c.decisionId, c]));
  const tally = variants.map((v) => {
    const mine = sent.filter((m) => m.variant === v.id);
    const converted = mine.map((m) => byDecision.get(m.id)).filter((c) => c !== undefined);
    return {
      v,
      trials: mine.length,
      successes: converted.length,
      revenue: converted.reduce((a, c) => a + c.revenueCents, 0) / 100,
    };
  });
  const control = tally.find((t) => t.v.strategy === 'control');
  const results: VariantResult[] = tally.map((t) => ({
    variant: t.v.id,
    strategy: t.v.strategy,
    sent: t.trials,
    conversions: t.successes,
    revenue: t.revenue,
    rate: t.trials === 0 ? 0 : t.successes / t.trials,
    interval:
      t.trials === 0
        ? { lower: 0, upper: 1 }
        : wilsonInterval({ successes: t.successes, trials: t.trials }),
    vsControl:
      control === undefined || control === t || t.trials === 0 || control.trials === 0
        ? null
        : (({ difference, p }) => ({ difference, p }))(
            twoProportionZTest(
              { successes: t.successes, trials: t.trials },
              { successes: control.successes, trials: control.trials },
            ),
          ),
  }));
  const winner =
    results
      .filter((r) => r.vsControl !== null && r.vsControl.p < 0.05 && r.vsControl.difference > 0)
      .sort((a, b) => b.rate - a.rate)[0]?.strategy ?? null;
  if (learn !== null && winner !== null) {
    const audience = audienceOfSegment(learn.segment);
    await store.transaction(async (tx) => {
      await tx.setSetting(learningsKey(audience), JSON.stringify([winner]));
      await appendAudit(
        tx,
        [
          {
            kind: 'learning',
            customerId: null,
            atMs: Date.now(),
            data: { campaignId, audience, winner },
          },
        ],
        Date.now(),
      );
    });
  }
  return { campaignId, variants: results, winner };
};
