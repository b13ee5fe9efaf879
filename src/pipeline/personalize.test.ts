import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { personalizeOptions } from '../../test/support/personalize-options.js';
import type {
  GeneratedVariant,
  GenerationRequest,
  LanguageModel,
} from '../ports/language-model.js';
import {
  aDocument,
  loadScenarioDocuments,
  sharedDataDir,
  sharedDataNote,
} from './content/test-builders.js';
import { guardPolicySchema, type GuardPolicy } from './guard/index.js';
import {
  GENERATION_CACHE_LIMIT,
  personalize,
  writeCampaignVariants,
  type ScenarioCustomer,
} from './personalize.js';

const AT = Date.UTC(2026, 0, 15);
const gold: ScenarioCustomer = {
  id: 'c1',
  tier: 'Gold',
  purchaseFrequency: 9,
  avgOrderValue: 300,
  lastEngagementDays: 3,
};

/** A model that writes every variant as `variant`, citing DOC900. */
const scriptedModel = (variant: Partial<GeneratedVariant>): LanguageModel => ({
  name: 'scripted',
  cacheKey: 'scripted',
  generate: (request) =>
    Promise.resolve({
      ok: true,
      model: 'scripted-1',
      usage: { promptTokens: 1, completionTokens: 1, costUsd: 0 },
      variants: Array.from({ length: request.count }, () => ({
        subject: 'Premium Widget',
        preheader: 'Our Premium Widget includes an analytics dashboard.',
        body:
          'Hi {{ customer.firstName | default: "there" }}, thanks for being with us. Our Premium ' +
          'Widget includes an analytics dashboard that you will enjoy every day, and we hope it ' +
          'helps your team do more with less effort this season and beyond, with support whenever ' +
          'you need it.',
        cta: 'Have a look',
        citations: ['DOC900'],
        ...variant,
      })),
    }),
});

describe('personalize: the subject as read', () => {
  const screened = async (subject: string) => {
    const result = await personalize(
      [gold],
      [aDocument()],
      personalizeOptions(AT, { languageModel: scriptedModel({ subject }) }),
    );
    const variant = result.segments[0]?.variants[0];
    if (variant === undefined) throw new Error('no variant');
    return variant;
  };

  it('screens and scores a subject with Liquid by what the reader sees, not its source', async () => {
    // 71 characters as written, 33 as read ("there, your Premium Widget awaits").
    const v = await screened(
      '{{ customer.firstName | default: "there" }}, your Premium Widget awaits',
    );
    expect(v.grounding.ok).toBe(true);
    expect(v.safety.verdicts.map((x) => x.code)).not.toContain('subject_too_long');
    expect(v.safety.outcome).not.toBe('block');
    expect(v.scores.reasons.filter((r) => r.startsWith('subject'))).toEqual([]);
  });

  it('still blocks a subject too long as read, counting characters alike in both', async () => {
    const v = await screened(
      '{{ customer.firstName | default: "there" }}, your Premium Widget includes an analytics dashboard today',
    );
    const blocked = v.safety.verdicts.find((x) => x.code === 'subject_too_long');
    expect(blocked?.outcome).toBe('block');
    expect(v.scores.reasons).toContain('subject has 64 characters, over 60');
  });
});

describe('personalize: retrieval relevance', () => {
  const strong = aDocument({
    id: 'DOC901',
    title: 'Exclusive Gold Benefits',
    keywords: ['premium', 'gold', 'priority'],
    body: 'Gold members get premium benefits and priority support, exclusive to them.',
  });
  // One word in common with the query, in the body: no source for copy to these customers.
  const weak = aDocument({
    id: 'DOC902',
    title: 'Troubleshooting Common Issues',
    keywords: ['support', 'help'],
    body: 'If the app will not start, upgrade it and restart your device.',
  });

  it('retrieves only documents scoring at least a share of the best match', async () => {
    const retrieved = async (minRelativeScore?: number) =>
      (
        await personalize(
          [gold],
          [strong, weak],
          personalizeOptions(AT, minRelativeScore === undefined ? {} : { minRelativeScore }),
        )
      ).segments[0]?.retrieved.map((r) => r.id);
    expect(await retrieved()).toEqual(['DOC901']);
    expect(await retrieved(0)).toEqual(['DOC901', 'DOC902']);
  });

  it.skipIf(sharedDataDir === undefined)(
    'keeps At-Risk off a document that shares only "back" and "offer" with its query, still writing 3 cited variants per segment',
    async () => {
      const docs = loadScenarioDocuments();
      const customers: ScenarioCustomer[] = [
        gold,
        { ...gold, id: 'c2', lastEngagementDays: 90 },
        { ...gold, id: 'c3', tier: 'Silver', avgOrderValue: 50, purchaseFrequency: 1 },
        { ...gold, id: 'c4', tier: 'Silver', avgOrderValue: 50 },
      ];
      const result = await personalize(customers, docs, personalizeOptions(AT));
      expect(result.segments.map((s) => s.segment)).toEqual([
        'High-Value Recent',
        'At-Risk',
        'New Customer',
        'Standard',
      ]);
      const atRisk = result.segments.find((s) => s.segment === 'At-Risk');
      expect(atRisk?.retrieved.map((r) => r.id)).toEqual(['DOC004', 'DOC017']);
      for (const s of result.segments) {
        expect(s.variants).toHaveLength(3);
        for (const v of s.variants) {
          expect(v.citations.length).toBeGreaterThan(0);
          for (const id of v.citations) expect(s.retrieved.map((r) => r.id)).toContain(id);
        }
      }
    },
  );
  if (sharedDataDir === undefined) it.skip(sharedDataNote, () => undefined);
});

/** A model that answers with `variants` (one per strategy asked), recording each request. */
const recordingModel = (variants: (strategy: string) => Partial<GeneratedVariant>) => {
  const requests: GenerationRequest[] = [];
  const model: LanguageModel = {
    name: 'recording',
    cacheKey: 'recording',
    generate: (request) => {
      requests.push(request);
      return scriptedModel({})
        .generate(request, new AbortController().signal)
        .then((answer) =>
          answer.ok
            ? {
                ...answer,
                variants: answer.variants.map((v, i) => ({
                  ...v,
                  ...variants(request.strategy.split(',')[i] ?? 'control'),
                })),
              }
            : answer,
        );
    },
  };
  return { model, requests };
};

const policyWith = (overrides: Partial<GuardPolicy>): GuardPolicy =>
  Value.Default(guardPolicySchema, overrides) as GuardPolicy;

// Three documents for High-Value, so the composer's three variants each cite their own.
const library = ['Premium Widget Features', 'Gold Upgrade Guide', 'Exclusive Gold Benefits'].map(
  (title, i) =>
    aDocument({
      id: `DOC9${String(i + 10)}`,
      title,
      keywords: ['premium', 'exclusive', 'gold'],
      body: `${title}: gold members get priority support and exclusive premium benefits.`,
    }),
);

// Grounded in DOC910 and friendly in tone: copy the screen passes.
const friendly = {
  subject: 'Your Premium Widget has priority support',
  preheader: 'Gold members get priority support',
  body:
    'Hi {{ customer.firstName | default: "there" }}, thanks for being with us: your Premium ' +
    'Widget comes with priority support and exclusive premium benefits for gold members. We are ' +
    'glad you are here, and we hope you enjoy it with your team every day.',
  cta: 'Have a look',
  citations: ['DOC910'],
};

describe('the screen of written copy and the spam guardrail', () => {
  const write = (guardPolicy: GuardPolicy) =>
    writeCampaignVariants(
      library,
      { segment: 'High-Value Recent', query: null, learned: [] },
      personalizeOptions(AT, { guardPolicy }),
    );

  it("reads a subject's trigger words, not a customer's caps or engagement", async () => {
    const base = policyWith({});
    // An SMS-only shop: no marketing email at all. Copy is still copy.
    const noEmail = await write({ ...base, frequencyCaps: { ...base.frequencyCaps, email: 0 } });
    expect(noEmail.usable.length).toBeGreaterThan(0);
    expect(noEmail.usable.length).toBe((await write(base)).usable.length);
    // A subject with a trigger word fails it (each of its messages would wait for a person).
    const { model } = recordingModel((strategy) =>
      strategy === 'benefit'
        ? { ...friendly, subject: 'Get more from your Premium Widget' }
        : friendly,
    );
    const triggered = await writeCampaignVariants(
      library,
      { segment: 'High-Value Recent', query: null, learned: [] },
      personalizeOptions(AT, {
        guardPolicy: { ...base, spamTriggerWords: ['get more'] },
        languageModel: model,
      }),
    );
    expect(triggered.refused).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('spam_trigger_words') as unknown }),
    ]);
    // The composer passes over its own words that are triggers ("Get more from …", its
    // benefit strategy's): none of what it writes fails for one.
    const composed = await write({ ...base, spamTriggerWords: ['get more'] });
    expect(composed.refused.map((r) => r.reason)).not.toContain('spam_trigger_words');
    for (const v of composed.usable) expect(v.subject.toLowerCase()).not.toContain('get more');
  });
});

describe("personalize: the guard policy's subject length and signature", () => {
  it('writes, asks for and scores subjects within the configured length, not 60', async () => {
    const { model, requests } = recordingModel(() => friendly);
    const guardPolicy = policyWith({ maxSubjectLength: 20 });
    const result = await personalize(
      [gold],
      library,
      personalizeOptions(AT, { guardPolicy, cache: new Map() }),
    );
    for (const v of result.segments[0]?.variants ?? []) {
      expect(
        v.safety.verdicts.map((x) => x.code),
        v.subject,
      ).not.toContain('subject_too_long');
      expect(Array.from(v.subject).length).toBeLessThanOrEqual(20);
    }
    // The model is told the limit, and a subject over it scores under 1.
    const modelled = await personalize(
      [gold],
      library,
      personalizeOptions(AT, { guardPolicy, languageModel: model }),
    );
    expect(requests[0]?.maxSubjectLength).toBe(20);
    expect(modelled.segments[0]?.variants[0]?.scores.reasons).toContain(
      'subject has 40 characters, over 20',
    );
  });

  it('keeps copy written for one subject length out of the cache for another', async () => {
    const cache = new Map();
    const write = async (maxSubjectLength: number) =>
      (
        await personalize(
          [gold],
          library,
          personalizeOptions(AT, { guardPolicy: policyWith({ maxSubjectLength }), cache }),
        )
      ).segments[0]?.variants.map((v) => v.subject);
    const long = await write(60);
    const short = await write(20);
    expect(short).not.toEqual(long);
    expect(cache.size).toBe(2);
  });

  it('writes the configured signature, which the guard requires, and grounds it', async () => {
    const signature = 'Herald Store, 1 Market Street';
    const { model, requests } = recordingModel(() => ({}));
    const options = personalizeOptions(AT, {
      guardPolicy: policyWith({ signature }),
      brand: {
        ...personalizeOptions(AT).brand,
        requiredElements: ['personalisation', 'cta', 'signature'],
      },
    });
    const result = await personalize([gold], library, options);
    for (const v of result.segments[0]?.variants ?? []) {
      expect(v.body).toContain(signature);
      expect(v.grounding.ok).toBe(true);
      expect(v.safety.verdicts.map((x) => x.code)).not.toContain('no_signature');
      expect(v.scores.reasons).not.toContain('missing required signature');
    }
    await personalize([gold], library, { ...options, languageModel: model });
    expect(requests[0]?.signature).toBe(signature);
  });
});

describe('personalize: replacing ungrounded variants', () => {
  it("replaces each failed variant by the composer's for its strategy: no two arms alike", async () => {
    const { model } = recordingModel((strategy) => ({
      strategy,
      citations: ['DOC910'],
      body:
        strategy === 'control'
          ? 'Hi {{ customer.firstName | default: "there" }}, our Premium Widget is ready.'
          : `Hi {{ customer.firstName | default: "there" }}, save 40% with the ${strategy} plan.`,
    }));
    const variants =
      (await personalize([gold], library, personalizeOptions(AT, { languageModel: model })))
        .segments[0]?.variants ?? [];
    expect(variants.map((v) => [v.strategy, v.grounding.ok, v.grounding.replacedBy])).toEqual([
      ['control', true, null],
      ['benefit', false, 'High-Value Recent-llm-2-benefit'],
      ['social-proof', false, 'High-Value Recent-llm-3-social-proof'],
    ]);
    expect(variants[1]?.grounding.replaced).toBe('High-Value Recent-llm-2');
    expect(variants[1]?.generator).toBe('offline-composer');
    expect(new Set(variants.map((v) => `${v.subject}\n${v.body}`)).size).toBe(3);
  });
});

describe('writeCampaignVariants', () => {
  const campaign = { segment: 'High-Value Recent', query: null, learned: [] };

  it('names the claims of a variant that failed grounding, and uses the copy that replaced it', async () => {
    const { model } = recordingModel((strategy) => ({
      ...friendly,
      strategy,
      ...(strategy === 'control' ? { cta: 'Save 50% today' } : {}),
    }));
    const w = await writeCampaignVariants(
      library,
      campaign,
      personalizeOptions(AT, { languageModel: model }),
    );
    expect(w.refused).toEqual([
      { id: 'High-Value Recent-llm-1', reason: 'not grounded: 50% (percentage)' },
    ]);
    expect(w.usable.map((v) => [v.strategy, v.generator])).toEqual([
      ['control', 'offline-composer'],
      ['benefit', 'recording:scripted-1'],
      ['social-proof', 'recording:scripted-1'],
    ]);
  });

  it('writes from the cache for the same passages only, and keeps a bounded number of briefs', async () => {
    const { model, requests } = recordingModel(() => ({}));
    const cache = new Map();
    const options = personalizeOptions(AT, { languageModel: model, cache });
    // One document, two passages: each query retrieves it with the passage holding its words.
    const doc = aDocument({
      id: 'DOC910',
      title: 'Premium Widget Features',
      keywords: ['premium', 'gold'],
      body: 'Gold members get priority support all year. Members get a free engraving on every order.',
    });
    const write = (query: string) => writeCampaignVariants([doc], { ...campaign, query }, options);
    await write('priority support');
    await write('priority support');
    expect(requests).toHaveLength(1);
    // The same document, another passage: copy written from the first would not be this one's.
    await write('free engraving order');
    expect(requests).toHaveLength(2);
    expect(requests.map((r) => r.snippets.map((x) => x.text))).toEqual([
      [expect.stringContaining('priority support')],
      [expect.stringContaining('engraving')],
    ]);
    for (let i = 0; i < GENERATION_CACHE_LIMIT; i += 1) cache.set(`filler-${String(i)}`, {});
    // Read now, the engraving brief is the newest; a brief of its own (other learnings) is
    // then kept, and the least recently read go: the first brief and the oldest fillers.
    await write('free engraving order');
    await writeCampaignVariants(
      [doc],
      { ...campaign, query: 'free engraving order', learned: ['benefit'] },
      options,
    );
    expect(requests).toHaveLength(3);
    expect(cache.size).toBe(GENERATION_CACHE_LIMIT);
    expect(cache.has('filler-0')).toBe(false);
    await write('free engraving order');
    expect(requests).toHaveLength(3);
    await write('priority support');
    expect(requests).toHaveLength(4);
  });

  it("tells the writer the campaign's segment and the strategies that won for it", async () => {
    const { model, requests } = recordingModel(() => ({}));
    const w = await writeCampaignVariants(
      library,
      { segment: 'High-Value Recent', query: null, learned: ['social-proof'] },
      personalizeOptions(AT, { languageModel: model }),
    );
    expect(requests[0]).toMatchObject({ segment: 'High-Value Recent', learned: ['social-proof'] });
    const composed = await writeCampaignVariants(library, campaign, personalizeOptions(AT));
    expect(composed.usable[0]?.id).toMatch(/^high-value-recent-v1-/);
    expect(w.learnedOrder).toEqual(['social-proof']);
  });

  it('refuses a variant whose copy states a discount every one of its messages would be blocked for', async () => {
    const docs = [
      aDocument({
        id: 'SALE',
        audience: ['All'],
        title: 'Flash Sale Weekend',
        keywords: ['widget'],
        body: 'Get 50% off all premium widget features this weekend.',
      }),
    ];
    const w = await writeCampaignVariants(
      docs,
      { segment: null, query: 'widget', learned: [] },
      personalizeOptions(AT),
    );
    expect(w.usable.filter((v) => /50%/.test(v.body))).toEqual([]);
    expect(w.refused.some((r) => r.reason.includes('discount_too_high'))).toBe(true);
  });

  it('reads the preheader for a discount too, as every message of the variant will', async () => {
    const docs = library.map((d) =>
      d.id === 'DOC910' ? { ...d, body: `${d.body} Save 50% on your first year.` } : d,
    );
    const { model } = recordingModel(() => ({
      ...friendly,
      preheader: 'Save 50% on your first year',
    }));
    const w = await writeCampaignVariants(
      docs,
      campaign,
      personalizeOptions(AT, { languageModel: model }),
    );
    expect(w.usable.filter((v) => v.preheader.includes('50%'))).toEqual([]);
    expect(w.refused.some((r) => r.reason.includes('discount_too_high'))).toBe(true);
  });

  it('writes a campaign to everyone from documents approved for every audience only', async () => {
    const body = 'Our popular Widget Plan helps teams save time. Save 10% on your first year.';
    const docs = [
      aDocument({ id: 'DOC1', audience: ['Standard'], title: 'Widget Plan', body }),
      aDocument({ id: 'DOC2', audience: ['All'], title: 'Widget Plan for all', body }),
    ];
    const write = (segment: string | null) =>
      writeCampaignVariants(
        docs,
        { segment, query: 'widget', learned: [] },
        personalizeOptions(AT),
      );
    expect((await write(null)).retrieved.map((r) => r.id)).toEqual(['DOC2']);
    expect((await write('Standard')).retrieved.map((r) => r.id).sort()).toEqual(['DOC1', 'DOC2']);
  });

  it.skipIf(sharedDataDir === undefined)(
    "writes nothing from documents that match only the segment's themes, not the query",
    async () => {
      const docs = loadScenarioDocuments();
      const write = (query: string) =>
        writeCampaignVariants(docs, { segment: null, query, learned: [] }, personalizeOptions(AT));
      const nothing = await write('doorbuster');
      expect([nothing.retrieved, nothing.usable]).toEqual([[], []]);
      // "Automation Workflows" shares the Standard themes ("popular"), not "referral".
      const referral = await write('referral');
      expect(referral.retrieved.map((r) => r.id)).toEqual(['DOC011']);
      for (const v of referral.usable) expect(v.citations).toEqual(['DOC011']);
      // One of the query's words is enough: the flash sale starts on a Friday.
      const friday = await write('black friday doorbuster');
      expect(friday.retrieved.map((r) => r.id)).toEqual(['DOC017']);
    },
  );
});
