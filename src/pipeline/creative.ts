// content ─▶ decide ─▶ experiment: a campaign's creative — variants written from the approved
// library (the strategies that won before for the segment and channel first), each customer
// assigned one when the message is made; experiment-results.ts measures them.
import type { CreativeVariant } from '../core/decision.js';
import type { JsonObject } from '../core/event.js';
import { AppError } from '../core/errors.js';
import { isoTimeMs } from '../core/time.js';
import type { Store, StoreTx } from '../ports/store.js';
import { asReadNow, documentsInForce, type ContentDocument } from './content/index.js';
import type { Channel } from '../core/profile.js';
import { learnedStrategies } from './experiment-results.js';
import {
  campaignAudienceOf,
  writeCampaignVariants,
  type CampaignCreative,
  type PersonalizeOptions,
} from './personalize.js';
import { definitionKey } from './campaign-definition.js';
import { withdrawnVariants } from './guard-and-record.js';
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

const iso = (ms: number): string => new Date(ms).toISOString();

/** When a campaign's messages go: its send time, or now when that is past. */
export const sendMomentMs = (sendAtMs: number, nowMs: number): number => Math.max(sendAtMs, nowMs);

/**
 * Each variant that cannot go at `sendAtMs`, with why: a document it cites expires at or before
 * then, so the guard would block every message of it (`content_expired`).
 */
export const expiredAt = (
  variants: readonly CreativeVariant[],
  sendAtMs: number,
): { id: string; reason: string }[] =>
  variants.flatMap((v) =>
    v.validUntilMs === undefined || v.validUntilMs === null || v.validUntilMs > sendAtMs
      ? []
      : [
          {
            id: v.id,
            reason: `cites a document that expires ${iso(v.validUntilMs)}, at or before the send time ${iso(sendAtMs)}`,
          },
        ],
  );

/** What a campaign's copy is written for: it is kept (and reused) for that alone. */
const briefOf = (campaign: {
  segment: string | null;
  channel: Channel;
  query: string | null;
}): string =>
  JSON.stringify({ segment: campaign.segment, channel: campaign.channel, query: campaign.query });
const briefKey = (campaignId: string) => `creative-brief:${campaignId}`;

/** Keeps a campaign's copy (`creative:<id>`) with what it was written for. */
export const keepCreative = async (
  tx: Pick<StoreTx, 'setSetting'>,
  campaign: { id: string; segment: string | null; channel: Channel; query: string | null },
  variants: readonly CreativeVariant[],
): Promise<void> => {
  await tx.setSetting(`creative:${campaign.id}`, JSON.stringify(variants));
  await tx.setSetting(briefKey(campaign.id), briefOf(campaign));
};

/** Whether the copy kept for a campaign was written for this brief. */
export const keptFor = async (
  tx: Pick<StoreTx, 'getSetting'>,
  campaign: { id: string; segment: string | null; channel: Channel; query: string | null },
): Promise<boolean> => (await tx.getSetting(briefKey(campaign.id))) === briefOf(campaign);

/** A campaign's copy as written: the variants that may go, those refused, and what it cost. */
export interface PreparedCreative {
  variants: CreativeVariant[];
  refused: { id: string; reason: string }[];
  /** The language model's calls and their cost; zero when the composer wrote the copy. */
  usage: CampaignCreative['usage'];
  /** Why the composer's copy stands in for the model's, when a model was asked. */
  fallback: string | null;
}

/**
 * Writes a campaign's variants (grounded, screened, scored) from the library as it will stand
 * at the send time, and keeps them under the campaign's experiment slot, with an audit entry
 * naming them and their sources. Refuses when nothing in the library matches the campaign's
 * query or no variant passes: a campaign never goes out with copy nobody could vouch for.
 * `options.atMs` is now, when the copy is written and recorded.
 */
export const prepareCreative = async (
  store: Store,
  campaign: {
    id: string;
    segment: string | null;
    channel: Channel;
    query: string | null;
    /** When the campaign is sent; absent: now (`options.atMs`). */
    sendAtMs?: number;
  },
  options: PersonalizeOptions,
): Promise<PreparedCreative> => {
  // Written for when it goes, not for when it is launched: copy for a Friday send launched on
  // Monday cites what is approved on Friday — not a sale that ends on Wednesday (each of its
  // messages then blocked), nor without the one approved from Thursday. A send time already
  // past is now.
  const libraryAtMs = sendMomentMs(campaign.sendAtMs ?? options.atMs, options.atMs);
  const documents = await currentDocuments(store, libraryAtMs);
  if (documents.length === 0)
    throw new AppError(
      'conflict',
      `the content library has no document in force at ${iso(libraryAtMs)}, when the campaign is sent: import approved ones with \`herald content import DIR\``,
    );
  const audience = campaignAudienceOf(campaign.segment);
  const learned = await learnedStrategies(store, campaign.segment, campaign.channel);
  const written = await writeCampaignVariants(
    documents,
    { segment: campaign.segment, query: campaign.query, learned },
    { ...options, atMs: libraryAtMs },
  );
  // Said as such: "no variant passed" would send the marketer looking at the copy.
  if (written.retrieved.length === 0)
    throw new AppError(
      'conflict',
      campaign.query === null
        ? `nothing in the library for the ${audience} audience in force at ${iso(libraryAtMs)}, when the campaign is sent, matches the segment's themes`
        : `nothing in the library matches the query "${campaign.query}": no document for the ${audience} audience in force at ${iso(libraryAtMs)}, when the campaign is sent, holds any of its words${written.readMeaning ? ' or is alike to it in meaning' : ''}`,
    );
  // What won before is sent more, the rest still tested: the composer writes each strategy on
  // its own document whatever was learned, so the learning is in how much each goes out.
  const learnedWeight = options.learnedTrafficWeight ?? 1;
  const screened: CreativeVariant[] = written.usable.map((v) => ({
    ...(learnedWeight !== 1 && written.learnedOrder.includes(v.strategy)
      ? { weight: learnedWeight }
      : {}),
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
  // Read at the send time, the library holds no document that has expired by then: refused all
  // the same, should one slip through, since every message of it would be blocked.
  const expired = expiredAt(screened, libraryAtMs);
  const variants = screened.filter((v) => !expired.some((e) => e.id === v.id));
  const refused = [...written.refused, ...expired];
  /** The `creative` audit entry of this launch: what was written, refused and paid for. */
  const creativeEntry = (kept: readonly CreativeVariant[], outcome: JsonObject) => ({
    kind: 'creative' as const,
    customerId: null,
    atMs: options.atMs,
    data: {
      campaignId: campaign.id,
      audience,
      // The learnings applied (the plan's strategies, in the order they won), and those
      // outside the segment's plan, which wrote nothing.
      learnedOrder: written.learnedOrder,
      learnedIgnored: written.learnedIgnored,
      // The moment the library was read as of: the send time, or now when that is past.
      libraryAtMs,
      variants: kept.map((v) => ({
        id: v.id,
        strategy: v.strategy,
        citations: v.citations,
        generator: v.generator,
        scores: v.scores,
      })),
      refused,
      // Token and cost accounting of the campaign's copy, and why the composer's copy stands
      // in for the model's when it does.
      usage: written.usage,
      fallback: written.fallback,
      ...outcome,
    },
  });
  if (variants.length === 0) {
    // What the model was paid for is recorded before the refusal: nothing is kept to launch
    // again from, so a launch tried again asks, and bills, again.
    const { usage } = written;
    if (usage.calls > 0)
      await store.transaction((tx) =>
        appendAudit(tx, [creativeEntry([], { launch: 'refused' })], options.atMs),
      );
    throw new AppError(
      'conflict',
      `no variant passed grounding and the screen and can go at the send time (${refused.map((r) => `${r.id}: ${r.reason}`).join('; ')})${usage.calls === 0 ? '' : `; the model's ${usage.calls} call${usage.calls === 1 ? '' : 's'} (${usage.promptTokens} prompt and ${usage.completionTokens} completion tokens, $${usage.costUsd.toFixed(4)}) are recorded in the audit log`}`,
    );
  }
  // Kept once, under the campaign's lock: of two launches writing at once (a client that tried
  // again while the model was still answering the first), the later keeps the copy stored
  // first — its experiment is designed on those variants — and records what its own call cost.
  const kept = await store.transaction(async (tx) => {
    const key = `creative:${campaign.id}`;
    await tx.lock([key]);
    const stored = await tx.getSetting(key);
    // Kept only if written for the same campaign: copy left by a launch that failed before its
    // definition was kept, or by one for another segment, channel or query, is written anew.
    const sameBrief = await keptFor(tx, campaign);
    // Copy for another brief, of a campaign already defined by a launch that won: this launch
    // races it with other settings, and is refused as a relaunch with them would be.
    if (stored !== null && !sameBrief && (await tx.getSetting(definitionKey(campaign.id))) !== null)
      throw new AppError(
        'conflict',
        `campaign ${campaign.id} was launched at the same time with other settings, which were kept: launch it under a new id`,
      );
    const kept = stored === null || !sameBrief ? null : (JSON.parse(stored) as CreativeVariant[]);
    // Copy kept for the same brief was written for that launch's send time: it is reused only if
    // it can go at this one's — a source it cites may expire, be replaced or not yet be approved
    // by then, and the guard would block every message of that variant.
    const unusable =
      kept === null
        ? []
        : [
            ...expiredAt(kept, libraryAtMs),
            ...[...(await withdrawnVariants(tx, new Map([['kept', kept]]), libraryAtMs))].map(
              ([variant, reason]) => ({ id: variant.id, reason }),
            ),
          ];
    // Once a launch has kept the campaign's definition its copy is the experiment's, not to be
    // rewritten; before that, the launch that wrote it did not finish (or runs now with another
    // send time: the one whose design is kept wins, `launchCampaign`), and this copy replaces it.
    if (unusable.length > 0 && (await tx.getSetting(definitionKey(campaign.id))) !== null)
      throw new AppError(
        'conflict',
        `campaign ${campaign.id} keeps the copy it was first written with, and it cannot go at the send time (${unusable.map((e) => `${e.id}: ${e.reason}`).join('; ')}); launch it under a new id to write from the library as it will stand then`,
      );
    const first = unusable.length > 0 ? null : kept;
    if (first === null) await keepCreative(tx, campaign, variants);
    await appendAudit(
      tx,
      [
        creativeEntry(variants, {
          // Written while another launch of the campaign stored its copy first: not kept.
          ...(first === null ? {} : { discarded: true }),
          // Kept in place of copy an unfinished launch wrote that cannot go at this send time.
          ...(unusable.length === 0 ? {} : { replaced: unusable }),
        }),
      ],
      options.atMs,
    );
    return first;
  });
  return {
    variants: kept ?? variants,
    refused: kept === null ? refused : [],
    usage: written.usage,
    fallback: written.fallback,
  };
};
