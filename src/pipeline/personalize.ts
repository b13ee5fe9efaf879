// content ─▶ guard: the personalisation flow — customers segmented, approved content retrieved
// per segment, variants written (offline composer, or a language model with the composer as
// fallback), each checked for grounding, screened for safety and scored for brand and tone.
import { shopHostsOf } from '../core/link-hosts.js';
import { createHash } from 'node:crypto';
import { AppError } from '../core/errors.js';
import { toCustomerId } from '../core/ids.js';
import {
  checkGrounding,
  checkLiquid,
  composeVariants,
  createContentIndex,
  documentsInForce,
  scoreBrand,
  search,
  similaritiesTo,
  subjectAsRead,
  type BrandPolicy,
  type BrandScore,
  type ContentDocument,
  type GroundingProblem,
  type Incentive,
  type LiquidProblem,
  type RetrievedContent,
  type Strategy,
  type Tone,
  type Variant,
  type Similarities,
  type VectorCache,
} from './content/index.js';
import {
  defaultGuardrails,
  moderate,
  pass,
  runGuardrails,
  type GuardPolicy,
  type Guardrail,
  type ModerationOutcome,
  type Verdict,
} from './guard/index.js';
import { emptyProfile } from './profile/index.js';
import type { ContentModerator } from '../ports/content-moderator.js';
import type { EmbeddingModel } from '../ports/embedding-model.js';
import type { LanguageModel, Usage } from '../ports/language-model.js';
import { quietHoursSchema } from '../core/quiet-hours.js';
import { Value } from '@sinclair/typebox/value';

/** One row of the customers file (the personalisation scenario's columns). */
export interface ScenarioCustomer {
  id: string;
  tier: string;
  purchaseFrequency: number;
  avgOrderValue: number;
  lastEngagementDays: number;
}

export const scenarioSegments = [
  'High-Value Recent',
  'At-Risk',
  'New Customer',
  'Standard',
] as const;
export type ScenarioSegment = (typeof scenarioSegments)[number];

/**
 * The segment rules, in order: At-Risk (no engagement for more than 60 days), High-Value
 * Recent (Gold tier or an average order of $200 or more, engaged within 30 days), New Customer
 * (at most 2 purchases), else Standard.
 */
export const segmentOf = (c: ScenarioCustomer): ScenarioSegment => {
  if (c.lastEngagementDays > 60) return 'At-Risk';
  if ((c.tier.toLowerCase() === 'gold' || c.avgOrderValue >= 200) && c.lastEngagementDays <= 30)
    return 'High-Value Recent';
  if (c.purchaseFrequency <= 2) return 'New Customer';
  return 'Standard';
};

/** How each segment is addressed: the documents' audience, what to look for, how to say it. */
const plans: Record<
  ScenarioSegment,
  { audience: string; query: string; strategies: Strategy[]; tone: Tone }
> = {
  'High-Value Recent': {
    audience: 'High-Value',
    query: 'premium exclusive gold benefits priority upgrade',
    strategies: ['control', 'benefit', 'social-proof'],
    tone: 'friendly',
  },
  'At-Risk': {
    audience: 'At-Risk',
    query: 'miss you come back offer return special',
    strategies: ['control', 'fomo', 'benefit'],
    tone: 'urgent',
  },
  'New Customer': {
    audience: 'New Customer',
    query: 'welcome getting started guide first',
    strategies: ['control', 'curiosity', 'benefit'],
    tone: 'informational',
  },
  Standard: {
    audience: 'Standard',
    query: 'features value popular new',
    strategies: ['control', 'benefit', 'curiosity'],
    tone: 'friendly',
  },
};

export interface PersonalizeOptions {
  atMs: number;
  brandName: string;
  /** Where the call to action links: the message is screened as it will be sent. */
  shopUrl: string;
  /** Voice words, forbidden words and required elements; the tone comes from the segment. */
  brand: Omit<BrandPolicy, 'tone' | 'maxSubjectLength'>;
  guardPolicy: GuardPolicy;
  moderator: ContentModerator;
  moderationTimeoutMs: number;
  /** Absent: the offline composer writes every variant. */
  languageModel?: LanguageModel;
  incentive?: Incentive | null;
  /** Variants per segment (3–5). */
  variants: number;
  /**
   * Documents scoring under this share of the segment's best match are not retrieved
   * (`defaultMinRelativeScore` when absent): a word or two in common is no source for copy.
   */
  minRelativeScore?: number;
  /**
   * A creative campaign's variants of a strategy that won for the segment before get this many
   * shares of its traffic for each share of the others (absent: 1, equal shares).
   */
  learnedTrafficWeight?: number;
  /**
   * Generation cache, by segment, strategies, tone, content set and template version (and the
   * incentive, variant count, brand and writer — the model, its temperature and endpoint — the
   * copy is written with): a campaign to many customers asks once per segment, and one written
   * again from the same brief not at all. A fallback after a failure that may pass (timeout, rate
   * limit, server or connection error) is not kept; past `GENERATION_CACHE_LIMIT` briefs, the
   * least recently read go.
   */
  cache?: Map<string, Written>;
  /**
   * Hybrid retrieval: documents alike in meaning to the segment's query (cosine similarity of
   * at least `minSimilarity`) are retrieved besides those sharing its words, the two rankings
   * fused. The vectors are kept in `cache` between calls. Absent: BM25 alone.
   */
  embeddings?: { model: EmbeddingModel; minSimilarity: number; cache: VectorCache };
}

export type GeneratedVariant = Omit<Variant, 'generator'> & { generator: string };

/** A segment's variants as written, and what the model's call cost (null without one). */
interface Written {
  variants: GeneratedVariant[];
  generator: string;
  fallback: string | null;
  /** Whether the language model was asked (it may have failed before billing anything). */
  called: boolean;
  usage: Usage | null;
  /**
   * The composer's copy stands in after a failure that may pass (a timeout, a rate limit, a
   * server or connection error): not cached, so the next run asks the model again.
   */
  transient: boolean;
}

export interface ScreenedVariant extends GeneratedVariant {
  /**
   * Whether the copy is grounded in its sources and holds only the Liquid the composer writes
   * (`kind: 'liquid'` problems name any other variable, filter or tag).
   */
  grounding: {
    ok: boolean;
    problems: (GroundingProblem | LiquidProblem)[];
    /** This variant's own id when its copy is the composer's, standing in for the failed one. */
    replacedBy: string | null;
    /** The id of the variant that failed and was replaced, when one was. */
    replaced?: string;
  };
  safety: { outcome: Verdict['outcome']; verdicts: Verdict[]; moderation: ModerationOutcome };
  scores: BrandScore;
}

/** A retrieved document as results show it; `bm25` and `similarity` with hybrid retrieval. */
export interface RetrievedEntry {
  id: string;
  title: string;
  /** The BM25 score; with hybrid retrieval, the fused reciprocal-rank score. */
  score: number;
  bm25?: number | null;
  similarity?: number | null;
}

export interface SegmentResult {
  segment: ScenarioSegment;
  audience: string;
  customers: number;
  retrieved: RetrievedEntry[];
  /**
   * With an embedding model configured: `used` when vectors were compared, with the tokens the
   * embedding call billed (0 when every vector was kept); else why not (BM25 alone retrieved).
   */
  vectors?:
    | {
        used: true;
        tokens: number;
        /**
         * The documents in force most alike to the query, whatever their audience or threshold,
         * most alike first: what `content.minSimilarity` is tuned on.
         */
        nearest: { id: string; similarity: number }[];
      }
    | { used: false; reason: string };
  generator: string;
  /** Why the language model's variants were not used, when they were not. */
  fallback: string | null;
  /**
   * What the language model's call for the segment cost (billed even when its reply was
   * refused); null when nothing was billed (no call — the offline composer, copy from the
   * cache — or a call that failed before an answer: a timeout, a refused connection).
   */
  usage: Usage | null;
  /** Whether the language model was asked for this segment's copy this time. */
  called: boolean;
  variants: ScreenedVariant[];
  /** Why no variant was written (no approved content for the segment). */
  skipped: string | null;
}

export interface PersonalizeResult {
  generatedAt: string;
  customers: number;
  documents: { total: number; usable: number };
  /** Language-model calls made (failed ones too) and what they cost, in all. */
  usage: Usage & { calls: number };
  segments: SegmentResult[];
}

const TEMPLATE_VERSION = 'composer-1';

/**
 * The relevance threshold: a document is retrieved only when it scores at least this share of
 * the best match for the segment. On the scenario's library the matches that share a word or two
 * with the query score at most 6 % of the best (At-Risk's "Troubleshooting Common Issues", on
 * "back" and "offer": 11.6 against 194.6), the related ones 13 % and more.
 */
export const defaultMinRelativeScore = 0.1;
const RETRIEVED_PER_SEGMENT = 3;
/** How many of the documents most alike to a segment's query a result names. */
const NEAREST_SHOWN = 10;
/**
 * The spam guardrail's reading of the subject alone: its trigger words send each message to a
 * person. Its caps and engagement are a customer's, not copy's (a cap of 0 on the screen's
 * channel would refuse every variant): they are left to each message's own judgement.
 */
const triggerWordsOnly = (spam: Guardrail): Guardrail => ({
  name: spam.name,
  check(message, context, policy) {
    const found = spam
      .check(message, context, policy)
      .filter((v) => v.code === 'spam_trigger_words');
    return found.length > 0 ? found : [pass(spam.name, 'no spam trigger words in the subject')];
  },
});

// Generated copy is screened for safety and PII, its brand and tone scores are judged, its links
// read (to the shop's host alone), its subject read for spam trigger words, and the discount it
// states read against the financial bands (each of its messages would wait for a person, or be
// blocked: copy from an approved "50% off" flash sale blocked half a campaign, message by message).
const screens = defaultGuardrails.flatMap((g) =>
  g.name === 'content-safety' || g.name === 'brand' || g.name === 'links' || g.name === 'financial'
    ? [g]
    : g.name === 'spam'
      ? [triggerWordsOnly(g)]
      : [],
);
const quietHours = Value.Default(quietHoursSchema, {}) as never;

/** A variant's copy screened as generated text: moderation and PII (fail closed). */
const screen = async (
  v: GeneratedVariant,
  scores: BrandScore,
  options: PersonalizeOptions,
): Promise<ScreenedVariant['safety']> => {
  const moderation = await moderate(
    options.moderator,
    [v.subject, v.preheader, v.body, v.cta],
    options.moderationTimeoutMs,
  );
  const result = runGuardrails(
    {
      decisionId: v.id,
      customerId: toCustomerId('segment'),
      agent: 'creative',
      channel: 'email',
      class: 'marketing',
      template: null,
      topic: null,
      incentive: null,
      content: {
        // Measured as a reader whose data is unknown reads it (Liquid as its default text), as
        // scoreBrand measures it: the guardrail counts the characters of a rendered subject.
        subject: subjectAsRead(v.subject),
        // The preheader too: the guard reads it in every message of the variant.
        preheader: v.preheader,
        body: `${v.body}\n${v.cta}: ${options.shopUrl}`,
        from: null,
        replyTo: null,
        footerAddress: null,
        unsubscribeUrl: null,
      },
      generated: true,
      sendAtMs: options.atMs,
      campaignId: null,
    },
    {
      profile: emptyProfile(toCustomerId('segment'), options.atMs),
      engagementScore: 1,
      ltv: 0,
      history: {
        marketingInWindow: {},
        campaignsToday: 0,
        marketingTotal: 0,
        lastMarketingAtMs: null,
      },
      quietHours,
      sendingDomain: null,
      campaignBudget: null,
      moderation,
      brandScores: { brand: scores.brandConsistency, tone: scores.toneConsistency },
      erasedAtMs: null,
      linkHosts: new Set(shopHostsOf(options.shopUrl)),
      nowMs: options.atMs,
    },
    options.guardPolicy,
    screens,
  );
  return { outcome: result.outcome, verdicts: result.verdicts, moderation };
};

const entryOf = (r: RetrievedContent): RetrievedEntry => ({
  id: r.doc.id,
  title: r.doc.title,
  score: r.score,
  ...(r.bm25 === undefined ? {} : { bm25: r.bm25 }),
  ...(r.similarity === undefined ? {} : { similarity: r.similarity }),
});

/**
 * What the writer reads: each document's id and version, and the passage of it retrieved (a
 * campaign's query picks the passage, so two queries on one document write from two texts).
 */
const contentSetHash = (retrieved: readonly RetrievedContent[]): string =>
  createHash('sha256')
    .update(JSON.stringify(retrieved.map((r) => [r.doc.id, r.doc.version, r.snippet])))
    .digest('hex')
    .slice(0, 16);

/** A variant `herald personalize` shows: grounded (or replaced by grounded copy), not blocked. */
const shownToAPerson = (v: ScreenedVariant): boolean =>
  (v.grounding.ok || v.grounding.replacedBy !== null) && v.safety.outcome !== 'block';

/** A variant a campaign can send: grounded (or replaced), passing the screen outright. */
const campaignUsable = (v: ScreenedVariant): boolean =>
  (v.grounding.ok || v.grounding.replacedBy !== null) && v.safety.outcome === 'pass';

/** Briefs whose copy a process keeps: the least recently read go first. */
export const GENERATION_CACHE_LIMIT = 500;

/** Copy written for a brief, read from the cache: it becomes the most recently read. */
const readWritten = (cache: Map<string, Written> | undefined, key: string) => {
  const written = cache?.get(key);
  if (cache !== undefined && written !== undefined) {
    cache.delete(key);
    cache.set(key, written);
  }
  return written;
};

/** Keeps copy written for a brief, the least recently read going past the limit. */
const keepWritten = (cache: Map<string, Written>, key: string, written: Written) => {
  cache.set(key, written);
  for (const oldest of cache.keys()) {
    if (cache.size <= GENERATION_CACHE_LIMIT) break;
    cache.delete(oldest);
  }
};

/**
 * The text every body must hold: the guard policy's signature (the brand guardrail blocks a
 * body without it), else the brand policy's; empty when neither is set.
 */
const signatureOf = (options: PersonalizeOptions): string =>
  options.guardPolicy.signature !== ''
    ? options.guardPolicy.signature
    : (options.brand.signature ?? '');

/** What a segment's copy is written for: its plan, and who it addresses. */
interface Brief {
  plan: (typeof plans)[ScenarioSegment];
  /** The segment named to the writer (a campaign's own segment; else `segment`). */
  name: string;
  /** The strategies that won for the segment before, best first (campaigns). */
  learned: readonly Strategy[];
}

/** The composer's variants for a segment, within the configured subject length and signature. */
const composeFor = (
  brief: Brief,
  retrieved: readonly RetrievedContent[],
  options: PersonalizeOptions,
) =>
  composeVariants({
    segment: brief.name,
    strategies: brief.plan.strategies,
    tone: brief.plan.tone,
    retrieved,
    incentive: options.incentive ?? null,
    brand: { name: options.brandName },
    count: options.variants,
    maxSubjectLength: options.guardPolicy.maxSubjectLength,
    signature: signatureOf(options),
    avoidInSubject: options.guardPolicy.spamTriggerWords,
  });

/** Variants for one segment: from the model when one is configured and it answers well. */
const generate = async (
  brief: Brief,
  retrieved: readonly RetrievedContent[],
  options: PersonalizeOptions,
): Promise<Written> => {
  const { plan } = brief;
  const incentive = options.incentive ?? null;
  const composed = composeFor(brief, retrieved, options);
  if (!composed.ok) throw new Error(`the composer refused: ${composed.error.kind}`);
  if (options.languageModel === undefined)
    return {
      variants: composed.value,
      generator: 'offline-composer',
      fallback: null,
      called: false,
      usage: null,
      transient: false,
    };
  const { languageModel } = options;
  // An adapter reports failures as answers; one that throws all the same is a failure too.
  const answer = await languageModel
    .generate(
      {
        segment: brief.name,
        strategy: plan.strategies.join(','),
        tone: plan.tone,
        count: options.variants,
        snippets: retrieved.map((r) => ({ docId: r.doc.id, title: r.doc.title, text: r.snippet })),
        incentive,
        brand: { name: options.brandName, voice: [...options.brand.voiceWords] },
        // The guard's limit: a longer subject is blocked, whoever wrote it.
        maxSubjectLength: options.guardPolicy.maxSubjectLength,
        ...(signatureOf(options) === '' ? {} : { signature: signatureOf(options) }),
        ...(brief.learned.length === 0 ? {} : { learned: [...brief.learned] }),
      },
      // No deadline of its own: the adapter bounds a call by its settings (each attempt's
      // timeout, its retries and the longest Retry-After it waits out), as documented. A cap
      // here cut off the retries those settings allow and reported them as an abort.
      new AbortController().signal,
    )
    .catch((error: unknown) => ({
      ok: false as const,
      reason: `the language model failed: ${error instanceof Error ? error.message : String(error)}`,
      retryable: true,
      usage: null,
    }));
  const fallback = (reason: string, transient: boolean, usage: Usage | null): Written => ({
    variants: composed.value,
    generator: 'offline-composer',
    fallback: reason,
    called: true,
    usage,
    transient,
  });
  if (!answer.ok) return fallback(answer.reason, answer.retryable, answer.usage);
  const labels = strategiesOfReply(answer.variants, planned(plan.strategies, options.variants));
  if (!labels.ok) return fallback(`malformed reply: ${labels.error}`, false, answer.usage);
  return {
    variants: answer.variants.map(({ strategy: _said, ...v }, i) => ({
      ...v,
      id: `${brief.name}-llm-${String(i + 1)}`,
      strategy: labels.value[i] ?? 'control',
      tone: plan.tone,
      generator: `${options.languageModel?.name ?? 'model'}:${answer.model}`,
    })),
    generator: answer.model,
    fallback: null,
    called: true,
    usage: answer.usage,
    transient: false,
  };
};

/** The strategy of each of `count` variants: the plan's, repeated as the composer does. */
const planned = (strategies: readonly Strategy[], count: number): Strategy[] =>
  Array.from({ length: count }, (_, i) => strategies[i % strategies.length] ?? 'control');

/**
 * The strategy of each variant of a model's reply, checked against the request: as many
 * variants as asked, and — when the model labels them — each strategy as many times as the
 * plan asks, in any order (unlabelled variants take the plan's strategy at their place).
 */
const strategiesOfReply = (
  variants: readonly { strategy?: string }[],
  plan: readonly Strategy[],
): { ok: true; value: Strategy[] } | { ok: false; error: string } => {
  if (variants.length !== plan.length)
    return {
      ok: false,
      error: `${String(variants.length)} variant${variants.length === 1 ? '' : 's'}, asked for ${String(plan.length)}`,
    };
  const said = variants.map((v, i) => v.strategy?.trim() ?? plan[i] ?? 'control');
  const unknown = said.find((s) => !plan.includes(s as Strategy));
  if (unknown !== undefined)
    return { ok: false, error: `strategy "${unknown}", asked for ${plan.join(', ')}` };
  const sorted = (list: readonly string[]) => [...list].sort().join(',');
  if (sorted(said) !== sorted(plan))
    return { ok: false, error: `strategies ${said.join(', ')}, asked for ${plan.join(', ')}` };
  return { ok: true, value: said as Strategy[] };
};

/**
 * The whole flow for a customer list: segments, retrieval per segment, variants (cached per
 * segment, strategies, tone, content set and template version), grounding — a variant that
 * states something its sources do not is replaced by the composer's control variant, the
 * offending claims recorded —, the content-safety screen and the brand and tone scores.
 */
export const personalize = async (
  customers: readonly ScenarioCustomer[],
  documents: readonly ContentDocument[],
  options: PersonalizeOptions,
  /**
   * Every customer in one segment, addressed with this plan (campaigns): `name` is the segment
   * the copy is written for (the campaign's own), `learned` the strategies that won for it,
   * `mustMatch` the campaign's own query, of which every document retrieved holds a term.
   */
  only?: {
    segment: ScenarioSegment;
    plan: (typeof plans)[ScenarioSegment];
    name?: string;
    learned?: readonly Strategy[];
    mustMatch?: string;
    /** Which variants can be used (copy none of whose variants can is not kept). */
    usable?: (variant: ScreenedVariant) => boolean;
  },
): Promise<PersonalizeResult> => {
  // A folder may hold several versions of a document, as the library does: the version in
  // force is the one read (`documentsInForce`); one version given twice is a mistake.
  const seen = new Set<string>();
  for (const d of documents) {
    const version = JSON.stringify([d.id, d.version]);
    if (seen.has(version))
      throw new AppError(
        'invalid-input',
        `content document ${d.id} version ${d.version} is given more than once`,
        { problems: [{ path: 'id', message: `${d.id} ${d.version} appears more than once` }] },
      );
    seen.add(version);
  }
  const inForce = documentsInForce(
    documents.map((document) => ({ document, importedAtMs: 0 })),
    options.atMs,
  );
  const index = createContentIndex(inForce);
  const usable = inForce.length;
  const sizes = new Map<ScenarioSegment, number>();
  for (const c of customers) {
    const segment = only?.segment ?? segmentOf(c);
    sizes.set(segment, (sizes.get(segment) ?? 0) + 1);
  }
  const segments: SegmentResult[] = [];
  let vectorFailure: Extract<Similarities, { ok: false }> | null = null;
  for (const segment of scenarioSegments) {
    const size = sizes.get(segment) ?? 0;
    if (size === 0) continue;
    const plan = only?.plan ?? plans[segment];
    const brief: Brief = {
      plan,
      name: only?.name ?? segment,
      learned: only?.learned ?? [],
    };
    // The campaign's own words, when it has them: what a document must be alike to.
    const vectors: Similarities | null =
      options.embeddings === undefined
        ? null
        : // Failed once, the model is not asked again for the run's other segments, each of
          // which would wait out the same retries.
          (vectorFailure ??
          (await similaritiesTo(
            options.embeddings.model,
            inForce,
            only?.mustMatch ?? plan.query,
            options.embeddings.cache,
            // Bounded by the adapter's settings, as a language model's call is.
            new AbortController().signal,
          )));
    if (vectors?.ok === false) vectorFailure = vectors;
    const retrieved = search(index, plan.query, {
      audience: plan.audience,
      atMs: options.atMs,
      minScore: 0,
      minRelativeScore: options.minRelativeScore ?? defaultMinRelativeScore,
      ...(only?.mustMatch === undefined ? {} : { mustMatch: only.mustMatch }),
      topK: RETRIEVED_PER_SEGMENT,
      ...(vectors?.ok === true && options.embeddings !== undefined
        ? {
            similar: {
              matches: vectors.matches,
              minSimilarity: options.embeddings.minSimilarity,
            },
          }
        : {}),
    });
    const base = {
      segment,
      audience: plan.audience,
      customers: size,
      retrieved: retrieved.map(entryOf),
      ...(vectors === null
        ? {}
        : {
            vectors: vectors.ok
              ? {
                  used: true as const,
                  tokens: vectors.tokens,
                  nearest: [...vectors.matches]
                    .sort(([a, x], [b, y]) => y.similarity - x.similarity || (a < b ? -1 : 1))
                    .slice(0, NEAREST_SHOWN)
                    .map(([id, m]) => ({ id, similarity: m.similarity })),
                }
              : { used: false as const, reason: vectors.reason },
          }),
    };
    if (retrieved.length === 0) {
      segments.push({
        ...base,
        generator: 'none',
        fallback: null,
        usage: null,
        called: false,
        variants: [],
        skipped: 'no approved content for the segment',
      });
      continue;
    }
    // Everything the copy is written from: an offer, a count, a brand or a writer of their own
    // ask for copy of their own.
    const key = JSON.stringify([
      segment,
      brief.name,
      brief.learned,
      plan.strategies,
      plan.tone,
      contentSetHash(retrieved),
      TEMPLATE_VERSION,
      options.incentive ?? null,
      options.variants,
      options.brandName,
      options.brand.voiceWords,
      options.languageModel?.cacheKey ?? 'offline-composer',
      // The guard's limits the copy is written within.
      options.guardPolicy.maxSubjectLength,
      signatureOf(options),
      options.guardPolicy.spamTriggerWords,
    ]);
    const cached = readWritten(options.cache, key);
    const written = cached ?? (await generate(brief, retrieved, options));
    const cited = retrieved.map((r) => r.doc);
    const incentive = options.incentive ?? null;
    const signature = signatureOf(options);
    // The brand's own name and signature need no source.
    const knownNames = [options.brandName, ...(signature === '' ? [] : [signature])];
    const problemsOf = (v: GeneratedVariant) => {
      const grounded = checkGrounding(v, cited, incentive, { knownNames });
      // Copy is rendered with the customer's data: only the composer's own Liquid may print.
      const liquid = checkLiquid(v);
      return [...(grounded.ok ? [] : grounded.problems), ...(liquid.ok ? [] : liquid.problems)];
    };
    // A variant that fails is replaced by the composer's for the same strategy, each composer
    // variant at most once: replaced by the same control copy, two arms of the test were one.
    // Composed only when a variant fails: the composer's own copy (the default) never does.
    let spare: GeneratedVariant[] | null = null;
    const take = (strategy: Strategy): GeneratedVariant | null => {
      if (spare === null) {
        const composed = composeFor(brief, retrieved, options);
        spare = composed.ok ? [...composed.value] : [];
      }
      const at = spare.findIndex((c) => c.strategy === strategy);
      const [picked] = spare.splice(at === -1 ? 0 : at, 1);
      // The composer's copy is checked as the model's is: only grounded copy stands in.
      return picked === undefined || problemsOf(picked).length > 0 ? null : picked;
    };
    const brandPolicy: BrandPolicy = {
      ...options.brand,
      ...(signature === '' ? {} : { signature }),
      tone: plan.tone,
      maxSubjectLength: options.guardPolicy.maxSubjectLength,
    };
    const variants: ScreenedVariant[] = [];
    for (const v of written.variants) {
      const problems = problemsOf(v);
      const grounding = { ok: problems.length === 0, problems };
      const replacement = grounding.ok ? null : take(v.strategy);
      const used: GeneratedVariant =
        replacement === null ? v : { ...replacement, id: `${v.id}-${replacement.strategy}` };
      const scores = scoreBrand(used, brandPolicy);
      variants.push({
        ...used,
        grounding: {
          ok: grounding.ok,
          problems: grounding.problems,
          replacedBy: replacement === null ? null : used.id,
          ...(replacement === null ? {} : { replaced: v.id }),
        },
        safety: await screen(used, scores, options),
        scores,
      });
    }
    // A fallback after a failure that may pass is not kept: the next run asks the model again.
    // The model's copy is kept (grounding and Liquid are checked again on every read), and so
    // is a fallback after a malformed or refused reply, which asking again would bill again —
    // unless no variant of it can be used (by a campaign: grounded and passing the screen; by
    // `herald personalize`: grounded and not blocked): a launch tried again asks again.
    if (
      cached === undefined &&
      !written.transient &&
      options.cache !== undefined &&
      variants.some(only?.usable ?? shownToAPerson)
    )
      keepWritten(options.cache, key, written);
    segments.push({
      ...base,
      generator: written.generator,
      fallback: written.fallback,
      // Copy from the cache cost nothing this time.
      usage: cached === undefined ? written.usage : null,
      called: cached === undefined && written.called,
      variants,
      skipped: null,
    });
  }
  const billed = segments.flatMap((s) => (s.usage === null ? [] : [s.usage]));
  return {
    generatedAt: new Date(options.atMs).toISOString(),
    customers: customers.length,
    documents: { total: new Set(documents.map((d) => d.id)).size, usable },
    usage: {
      calls: segments.filter((s) => s.called).length,
      promptTokens: billed.reduce((sum, u) => sum + u.promptTokens, 0),
      completionTokens: billed.reduce((sum, u) => sum + u.completionTokens, 0),
      costUsd: billed.reduce((sum, u) => sum + u.costUsd, 0),
    },
    segments,
  };
};

/** The content audience a decide-stage segment reads (its RFM segment names). */
export const audienceOfSegment = (segment: string | null): string => {
  const s = (segment ?? '').toLowerCase();
  if (s.includes('high') || s.includes('vip')) return 'High-Value';
  if (s.includes('risk') || s.includes('dormant') || s.includes('lapsed')) return 'At-Risk';
  if (s.includes('new')) return 'New Customer';
  return 'Standard';
};

/**
 * The content audience a campaign's copy is written for: its segment's, or — a campaign to
 * everyone reaching every segment — `All`, so only documents approved for every audience are
 * used (a Standard-only document's copy went to High-Value and At-Risk customers too).
 */
export const campaignAudienceOf = (segment: string | null): string =>
  segment === null ? 'All' : audienceOfSegment(segment);

/** The scenario segment whose plan addresses `audience` (Standard when none does). */
const segmentOfAudience = (audience: string): ScenarioSegment =>
  scenarioSegments.find((s) => plans[s].audience === audience) ?? 'Standard';

export interface CampaignCreative {
  /** Variants that passed grounding and the screen (safety pass, scores on brand). */
  usable: ScreenedVariant[];
  /** What the language model's call cost (zero with the offline composer). */
  usage: PersonalizeResult['usage'];
  /** Why the language model's copy was not used, when a model was asked and it was not. */
  fallback: string | null;
  /** Variants left out, with why. */
  refused: { id: string; reason: string }[];
  retrieved: RetrievedEntry[];
  /** Whether documents were compared with the query in meaning too (an embedding model answered). */
  readMeaning: boolean;
  /** The learnings applied: strategies of the segment's plan, in the order they won. */
  learnedOrder: Strategy[];
  /** Learnings outside the segment's plan: not written, recorded so that nothing is lost. */
  learnedIgnored: string[];
}

/**
 * Variants for a campaign to one segment: retrieval for the segment's audience (and the
 * campaign's own query, when given: only documents holding one of its terms — none, and nothing
 * is written), the segment's strategies — the ones that won before first, when a finished test
 * left learnings — then the same grounding, screen and scores as `personalize`. Only variants
 * that are grounded and pass the screen outright are usable.
 *
 * The copy is written in the plan's own order, so each strategy stays on its document whatever
 * was learned (a learned order would move the control onto another document, whose copy may
 * fail the screen); the learnings only order the variants written. A learned strategy outside
 * the segment's plan is not written: it is returned in `learnedIgnored`.
 */
export const writeCampaignVariants = async (
  documents: readonly ContentDocument[],
  request: { segment: string | null; query: string | null; learned: readonly string[] },
  options: PersonalizeOptions,
): Promise<CampaignCreative> => {
  // The plan (themes, strategies, tone) of the segment's audience, Standard's for everyone; the
  // documents of the campaign's own audience.
  const segment = segmentOfAudience(audienceOfSegment(request.segment));
  const plan = { ...plans[segment], audience: campaignAudienceOf(request.segment) };
  const learnedOrder = [
    ...new Set(
      request.learned.filter((s): s is Strategy => plan.strategies.includes(s as Strategy)),
    ),
  ];
  const learnedIgnored = [
    ...new Set(request.learned.filter((s) => !plan.strategies.includes(s as Strategy))),
  ];
  // Learned strategies first, then the plan's others in its order (a stable sort).
  const rank = (strategy: Strategy) => {
    const at = learnedOrder.indexOf(strategy);
    return at === -1 ? learnedOrder.length : at;
  };
  const result = await personalize(
    [{ id: 'campaign', tier: '', purchaseFrequency: 0, avgOrderValue: 0, lastEngagementDays: 0 }],
    documents,
    options,
    {
      segment,
      // The segment's themes rank the documents; the campaign's query decides which may be
      // retrieved: one matching the themes alone (its query's words in none of its fields) is
      // about something else, and copy written from it would answer a question nobody asked.
      plan: {
        ...plan,
        query: request.query === null ? plan.query : `${request.query} ${plan.query}`,
      },
      ...(request.query === null ? {} : { mustMatch: request.query }),
      // The writer is told the campaign's own segment, and what won for it before.
      name: request.segment ?? segment,
      learned: learnedOrder,
      usable: campaignUsable,
    },
  );
  const written = result.segments[0];
  const usable: ScreenedVariant[] = [];
  const refused: { id: string; reason: string }[] = [];
  const inOrder = [...(written?.variants ?? [])].sort(
    (a, b) => rank(a.strategy) - rank(b.strategy),
  );
  for (const v of inOrder) {
    if (!v.grounding.ok) {
      // The claims are named, for the audit entry and the 409 that keeps them.
      const claims = v.grounding.problems
        .map((p) => (p.claim === '' ? p.reason : `${p.claim} (${p.kind})`))
        .join(', ');
      refused.push({ id: v.grounding.replaced ?? v.id, reason: `not grounded: ${claims}` });
      // The composer's grounded copy that stood in is judged as any other; without one, the
      // copy is the ungrounded variant itself.
      if (v.grounding.replacedBy === null) continue;
    }
    if (v.safety.outcome !== 'pass')
      refused.push({
        id: v.id,
        reason: v.safety.verdicts
          .filter((x) => x.outcome !== 'pass')
          .map((x) => x.code)
          .join(', '),
      });
    else usable.push(v);
  }
  return {
    usable,
    refused,
    retrieved: written?.retrieved ?? [],
    readMeaning: written?.vectors?.used === true,
    usage: result.usage,
    fallback: written?.fallback ?? null,
    learnedOrder,
    learnedIgnored,
  };
};
