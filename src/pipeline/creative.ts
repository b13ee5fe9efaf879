// content ─▶ decide ─▶ experiment: a campaign's creative — variants written from the approved
// library (the strategies that won before for the segment and channel first), each customer
// assigned one when the message is made; experiment-results.ts measures them.
import type { CreativeVariant } from '../core/decision.js';
import { AppError } from '../core/errors.js';
import type { Store } from '../ports/store.js';
import { usableAt, type ContentDocument } from './content/index.js';
import type { Channel } from '../core/profile.js';
import { learnedStrategies } from './experiment-results.js';
import {
  audienceOfSegment,
  writeCampaignVariants,
  type PersonalizeOptions,
} from './personalize.js';
import { appendAudit } from './record/index.js';

/**
 * Which of two versions of a document is the newer: the later approval, then the higher
 * version (`v10` after `v9`), then the later import — never import order alone, since one
 * `content import` stores all its files at the same moment.
 */
const newer = (
  a: { document: ContentDocument; importedAtMs: number },
  b: { document: ContentDocument; importedAtMs: number },
): boolean => {
  const approved = Date.parse(a.document.approvedAt) - Date.parse(b.document.approvedAt);
  if (approved !== 0) return approved > 0;
  const version = a.document.version.localeCompare(b.document.version, 'en', { numeric: true });
  return version !== 0 ? version > 0 : a.importedAtMs > b.importedAtMs;
};

/**
 * The latest version of each document approved by `atMs`, when it is usable then: a version
 * approved for later does not hide the current one, an expired one does hide older ones.
 */
export const currentDocuments = async (store: Store, atMs: number): Promise<ContentDocument[]> => {
  const latest = new Map<string, { document: ContentDocument; importedAtMs: number }>();
  for (const stored of await store.listDocuments()) {
    const candidate = {
      document: stored.document as ContentDocument,
      importedAtMs: stored.importedAtMs,
    };
    if (Date.parse(candidate.document.approvedAt) > atMs) continue;
    const known = latest.get(stored.id);
    if (known === undefined || newer(candidate, known)) latest.set(stored.id, candidate);
  }
  return [...latest.values()].map((v) => v.document).filter((d) => usableAt(d, atMs));
};

/** When the first of the cited documents expires; null when none does. */
const validUntilOf = (citations: readonly string[], documents: readonly ContentDocument[]) => {
  const ends = documents
    .filter((d) => citations.includes(d.id) && d.expiresAt !== null)
    .map((d) => Date.parse(d.expiresAt ?? ''));
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
