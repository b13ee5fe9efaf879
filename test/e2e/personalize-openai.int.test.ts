import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../../src/adapters/clock/virtual-clock.js';
import {
  createOpenAiLanguageModel,
  type OpenAiLanguageModelOptions,
} from '../../src/adapters/language-model/openai.js';
import { aDocument } from '../../src/pipeline/content/test-builders.js';
import {
  personalize,
  type PersonalizeOptions,
  type PersonalizeResult,
  type ScenarioCustomer,
} from '../../src/pipeline/personalize.js';
import { personalizeOptions } from '../support/personalize-options.js';
import { completion, hang, startChatApi as startApi } from '../support/chat-completions-api.js';

const AT = Date.UTC(2026, 5, 1);

const documents = [
  aDocument({
    id: 'DOC1',
    title: 'Premium Widget Features',
    audience: ['High-Value'],
    keywords: ['premium', 'exclusive', 'gold'],
    body: 'Our Premium Widget includes an analytics dashboard. Gold members get priority support and exclusive benefits.',
  }),
  aDocument({
    id: 'DOC2',
    title: 'Gold Upgrade',
    audience: ['High-Value'],
    keywords: ['upgrade', 'gold', 'priority'],
    body: 'Upgrade to Gold for priority shipping. Gold members enjoy exclusive benefits.',
  }),
];
// High-Value Recent: control, benefit, social-proof.
const customers: ScenarioCustomer[] = [
  { id: 'c1', tier: 'Gold', purchaseFrequency: 5, avgOrderValue: 250, lastEngagementDays: 5 },
];

const good = {
  subject: 'Your Premium Widget has a new analytics dashboard',
  preheader: 'Gold members get priority support',
  body: 'Hi {{ customer.firstName | default: "there" }}, your Premium Widget includes an analytics dashboard, and as one of our Gold members you get priority support. We hope you enjoy it.',
  cta: 'See your dashboard',
  citations: ['DOC1'],
};

const aModel = (baseUrl: string, overrides: Partial<OpenAiLanguageModelOptions> = {}) =>
  createOpenAiLanguageModel({
    apiKey: 'sk-test',
    baseUrl,
    model: 'gpt-test',
    timeoutMs: 1000,
    maxRetries: 0,
    pricePer1kInputUsd: 0.5,
    pricePer1kOutputUsd: 1.5,
    random: { next: () => 0 },
    clock: createVirtualClock(AT),
    wait: () => Promise.resolve(true),
    ...overrides,
  });

const options = (extra: Partial<PersonalizeOptions>): PersonalizeOptions =>
  personalizeOptions(AT, { cache: new Map(), ...extra });

const only = (result: PersonalizeResult) => {
  const [segment] = result.segments;
  if (segment === undefined) throw new Error('no segment');
  return segment;
};

describe('personalize with a language model', () => {
  describe('the generation cache', () => {
    it('does not keep the fallback after a timeout: the next run asks the model again', async () => {
      const down = await startApi([hang]);
      const cache = new Map();
      const first = only(
        await personalize(
          customers,
          documents,
          options({ cache, languageModel: aModel(down.baseUrl, { timeoutMs: 200 }) }),
        ),
      );
      expect(first).toMatchObject({ generator: 'offline-composer', called: true });
      expect(first.fallback).toMatch(/^timed out/);

      const up = await startApi([completion([good, good, good])]);
      const second = only(
        await personalize(
          customers,
          documents,
          options({ cache, languageModel: aModel(up.baseUrl) }),
        ),
      );
      expect(up.seen).toHaveLength(1);
      expect(second).toMatchObject({ generator: 'gpt-test', fallback: null, called: true });
    });

    it('keeps the fallback after a malformed reply: asking again would bill again', async () => {
      const api = await startApi([completion([good]), completion([good, good, good])]);
      const cache = new Map();
      const model = aModel(api.baseUrl);
      const first = only(
        await personalize(customers, documents, options({ cache, languageModel: model })),
      );
      expect(first.fallback).toBe('malformed reply: 1 variant, asked for 3');
      const again = only(
        await personalize(customers, documents, options({ cache, languageModel: model })),
      );
      expect(api.seen).toHaveLength(1);
      expect(again).toMatchObject({ fallback: first.fallback, called: false, usage: null });
    });

    it('serves copy of one model or temperature to no other', async () => {
      const a = await startApi([completion([good, good, good])]);
      const other = { ...good, subject: 'Priority support for Gold members' };
      const b = await startApi([completion([other, other, other])]);
      const c = await startApi([completion([other, other, other])]);
      const cache = new Map();
      const run = (baseUrl: string, model: Partial<OpenAiLanguageModelOptions>) =>
        personalize(
          customers,
          documents,
          options({ cache, languageModel: aModel(baseUrl, model) }),
        ).then(only);

      await run(a.baseUrl, { model: 'gpt-4o-mini', temperature: 0.7 });
      const otherModel = await run(b.baseUrl, { model: 'gpt-4.1', temperature: 0.7 });
      expect(b.seen).toHaveLength(1);
      expect(otherModel.variants[0]?.subject).toBe('Priority support for Gold members');
      // The same endpoint and model at another temperature asks again too.
      const cooler = await run(a.baseUrl, { model: 'gpt-4o-mini', temperature: 0 });
      expect(a.seen.map((r) => r.temperature)).toEqual([0.7, 0]);
      expect(cooler.called).toBe(true);
      // The same model and temperature at another endpoint asks again; at the same one, not.
      await run(c.baseUrl, { model: 'gpt-4.1', temperature: 0.7 });
      expect(c.seen).toHaveLength(1);
      const again = await run(b.baseUrl, { model: 'gpt-4.1', temperature: 0.7 });
      expect(again.called).toBe(false);
      expect(b.seen).toHaveLength(1);
    });
  });

  describe('the reply, checked against the request', () => {
    it('takes a reply with more or fewer variants than asked for as malformed', async () => {
      for (const count of [7, 2]) {
        const api = await startApi([completion(Array.from({ length: count }, () => good))]);
        const segment = only(
          await personalize(customers, documents, options({ languageModel: aModel(api.baseUrl) })),
        );
        expect(segment.fallback).toBe(`malformed reply: ${String(count)} variants, asked for 3`);
        expect(segment.generator).toBe('offline-composer');
        expect(segment.usage).toMatchObject({ promptTokens: 1000, completionTokens: 200 });
        expect(segment.variants.map((v) => v.strategy)).toEqual([
          'control',
          'benefit',
          'social-proof',
        ]);
      }
    });

    it("keeps the strategy the model gives each variant, if it wrote the plan's strategies", async () => {
      const labelled = (strategy: string, subject: string) => ({ ...good, strategy, subject });
      const api = await startApi([
        completion([
          labelled('social-proof', 'Why Gold members choose the Premium Widget'),
          labelled('control', 'Your Premium Widget has a new analytics dashboard'),
          labelled('benefit', 'Get more from your Premium Widget'),
        ]),
        completion([
          labelled('control', 'One'),
          labelled('control', 'Two'),
          labelled('control', 'Three'),
        ]),
      ]);
      const model = aModel(api.baseUrl);
      const kept = only(await personalize(customers, documents, options({ languageModel: model })));
      expect(kept.variants.map((v) => [v.strategy, v.subject])).toEqual([
        ['social-proof', 'Why Gold members choose the Premium Widget'],
        ['control', 'Your Premium Widget has a new analytics dashboard'],
        ['benefit', 'Get more from your Premium Widget'],
      ]);
      expect(JSON.stringify(api.seen)).toContain('control, benefit, social-proof');

      const threeControls = only(
        await personalize(customers, documents, options({ languageModel: model })),
      );
      expect(threeControls.fallback).toBe(
        'malformed reply: strategies control, control, control, asked for control, benefit, social-proof',
      );
    });

    it('replaces copy printing any Liquid but the composer’s by the control, naming it', async () => {
      const leaky = {
        ...good,
        body: `${good.body} Your account: {{ customer.email }} {{ customer.phone }}.`,
      };
      const api = await startApi([completion([leaky, good, good])]);
      const segment = only(
        await personalize(customers, documents, options({ languageModel: aModel(api.baseUrl) })),
      );
      const [replaced, kept] = segment.variants;
      expect(replaced?.grounding.ok).toBe(false);
      expect(replaced?.grounding.problems.map((p) => [p.kind, p.claim])).toEqual([
        ['liquid', '{{ customer.email }}'],
        ['liquid', '{{ customer.phone }}'],
      ]);
      expect(replaced?.grounding.replacedBy).toMatch(/-control$/);
      expect(replaced?.body).not.toContain('customer.email');
      expect(replaced?.generator).toBe('offline-composer');
      expect(kept?.grounding).toEqual({ ok: true, problems: [], replacedBy: null });
    });
  });
});
