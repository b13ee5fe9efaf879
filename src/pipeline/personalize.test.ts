import { describe, expect, it } from 'vitest';
import { personalizeOptions } from '../../test/support/personalize-options.js';
import type { GeneratedVariant, LanguageModel } from '../ports/language-model.js';
import {
  aDocument,
  loadScenarioDocuments,
  sharedDataDir,
  sharedDataNote,
} from './content/test-builders.js';
import { personalize, type ScenarioCustomer } from './personalize.js';

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
