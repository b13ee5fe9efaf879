// content ─▶ decide ─▶ experiment: a campaign's creative — variants written from the approved
// library (the strategies that won before for the segment and channel first), each customer
// assigned one when the message is made; experiment-results.ts measures them.
import type { CreativeVariant } from '../core/decision.js';
import { AppError } from '../core/errors.js';
import { isoTimeMs } from '../core/time.js';
import type { Store } from '../ports/store.js';
import { asReadNow, documentsInForce, type ContentDocument } from './content/index.js';
import type { Channel } from '../core/profile.js';
import { learnedStrategies } from './experiment-results.js';
import {
  audienceOfSegment,
  writeCampaignVariants,
  type PersonalizeOptions,
} from './personalize.js';
import { appendAudit } from './record/index.js';

/** The documents in force at `atMs` (`documentsInForce`), read from the library. */
export const currentDocuments = async (store: Store, atMs: number): Promise<ContentDocument[]> =>
  documentsInForce(
    (await store.listDocuments()).map((stored) => ({
      document: asReadNow(stored.document as ContentDocument),
      importedAtMs: stored.importedAtMs,
    })),
    atMs,
  );

/**
 * When the first of the cited documents expires; null when none does. An expiry without a zone
 * is UTC (`isoTimeMs`, as `usableAt` reads it), never the server's local time.
 */
export const validUntilOf = (
  citations: readonly string[],
  documents: readonly ContentDocument[],
): number | null => {
  const ends = documents
    .filter((d) => citations.includes(d.id) && d.expiresAt !== null)
    .map((d) => isoTimeMs(d.expiresAt ?? ''));
  return ends.length === 0 ? null : Math.min(...ends);
};

/**
 * Writes a campaign's variants (grounded, screened, scored) and keeps them under the
 * campaign's experiment slot, with an audit entry naming them and their sources. Refuses when
 * no variant passes: a campaign never goes out with copy nobody could vouch for.
 */
export const prepareCreative = async (
  store: Store,
  campaign: { id: string; segment: string | null; channel: Channel; query: string | null },
  options: PersonalizeOptions,
): Promise<{ variants: CreativeVariant[]; refused: { id: string; reason: string }[] }> => {
  const documents = await currentDocuments(store, options.atMs);
  if (documents.length === 0)
    throw new AppError(
      'conflict',
      'the content library is empty: `herald content import DIR` first',
    );
  const audience = audienceOfSegment(campaign.segment);
  const learned = await learnedStrategies(store, campaign.segment, campaign.channel);
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
    validUntilMs: validUntilOf(v.citations, documents),
    sources: documents
      .filter((d) => v.citations.includes(d.id))
      .map((d) => ({ id: d.id, version: d.version })),
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
            // The learnings applied (the plan's strategies, in the order they won), and those
            // outside the segment's plan, which wrote nothing.
            learnedOrder: written.learnedOrder,
            learnedIgnored: written.learnedIgnored,
            variants: variants.map((v) => ({
              id: v.id,
              strategy: v.strategy,
              citations: v.citations,
              generator: v.generator,
              scores: v.scores,
            })),
            refused: written.refused,
            // Token and cost accounting of the campaign's copy.
            usage: written.usage,
          },
        },
      ],
      options.atMs,
    );
  });
  return { variants, refused: written.refused };
};
