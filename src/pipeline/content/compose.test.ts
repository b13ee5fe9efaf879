import { describe, expect, it } from 'vitest';
import { composeVariants, strategies, type ComposeInput, type Variant } from './compose.js';
import { checkGrounding } from './ground.js';
import { createContentIndex, search, type RetrievedContent } from './retrieve.js';
import {
  aDocument,
  loadScenarioDocuments,
  sharedDataDir,
  sharedDataNote,
} from './test-builders.js';
import { tones } from './tone.js';

const brand = { name: 'Northwind Traders' };
const retrievedOf = (doc = aDocument()): RetrievedContent => ({
  doc,
  score: 1,
  snippet: doc.body.split('. ')[0] ?? doc.body,
});

const input = (overrides: Partial<ComposeInput> = {}): ComposeInput => ({
  segment: 'High-Value',
  strategies: ['control', 'curiosity', 'benefit'],
  tone: 'friendly',
  retrieved: [retrievedOf()],
  incentive: null,
  brand,
  count: 3,
  ...overrides,
});

const compose = (overrides: Partial<ComposeInput> = {}): Variant[] => {
  const result = composeVariants(input(overrides));
  if (!result.ok) throw new Error(`compose failed: ${result.error.kind}`);
  return result.value;
};

describe('composeVariants', () => {
  it('never cuts an amount from its scale when it shortens a snippet', () => {
    // The preheader's cut (100 characters) falls between "$2" and "million".
    const body = `${'The Northwind community fund, open to every member, '.padEnd(85, 'x')} grants $2 million to local makers each year.`;
    const doc = aDocument({ body, title: 'Community Fund' });
    for (const v of compose({ retrieved: [retrievedOf(doc)] })) {
      expect(v.preheader).toMatch(/ grants…$/);
      expect(checkGrounding(v, [doc], null, { knownNames: [brand.name] })).toEqual({ ok: true });
    }
  });

  it('never cuts a number in words in two when it shortens a snippet', () => {
    // The preheader's cut (100 characters) falls between "ten" and "thousand".
    const body = `${'The Northwind community, open to every member, '.padEnd(88, 'x')} now ten thousand makers strong.`;
    const doc = aDocument({ body, title: 'Community Fund' });
    for (const v of compose({ retrieved: [retrievedOf(doc)] })) {
      expect(v.preheader).toMatch(/ now…$/);
      expect(checkGrounding(v, [doc], null, { knownNames: [brand.name] })).toEqual({ ok: true });
    }
  });

  it('keeps subjects within the length it is given, and writes the signature it is given', () => {
    const long = aDocument({ title: 'Premium Widget Analytics Dashboards for Teams' });
    for (const tone of tones)
      for (const variant of compose({
        tone,
        strategies: [...strategies],
        count: 5,
        retrieved: [retrievedOf(long)],
        maxSubjectLength: 30,
      }))
        expect(Array.from(variant.subject).length, variant.subject).toBeLessThanOrEqual(30);
    const signature = 'Northwind Traders, 12 Harbour Road';
    for (const variant of compose({ signature })) {
      expect(variant.body.endsWith(`\n\n${signature}`)).toBe(true);
      expect(variant.body).not.toContain('— The Northwind Traders team');
    }
  });

  it('writes a title holding a spam trigger into its subjects without it', () => {
    const doc = aDocument({ title: 'Limited Time Upgrade Offer' });
    const avoidInSubject = ['Limited time', 'Act now'];
    for (const tone of tones)
      for (const variant of compose({
        tone,
        strategies: [...strategies],
        count: 5,
        retrieved: [retrievedOf(doc)],
        avoidInSubject,
      })) {
        expect(variant.subject.toLowerCase(), variant.subject).not.toContain('limited time');
        expect(variant.subject).toContain('Upgrade Offer');
      }
    // Told nothing to avoid, the title stays whole.
    expect(compose({ retrieved: [retrievedOf(doc)] })[0]?.subject).toContain('Limited Time');
    // A trigger inside a longer word is left: cutting it would garble the word.
    for (const title of ['Contact Now for Premium Support', 'Urgently Needed Upgrades']) {
      const [variant] = compose({
        retrieved: [retrievedOf(aDocument({ title }))],
        avoidInSubject: ['act now', 'urgent'],
      });
      expect(variant?.subject).toContain(title);
    }
    // Nor do its own words go in when they are triggers: the tone's "Today: ", the strategy's
    // "Don't miss".
    const subjects = tones.flatMap((tone) =>
      compose({
        tone,
        strategies: [...strategies],
        count: 5,
        retrieved: [retrievedOf(doc)],
        avoidInSubject: ['today', "don't miss"],
      }).map((v) => v.subject),
    );
    expect(subjects.filter((s) => /today|don't miss/i.test(s))).toEqual([]);
    expect(subjects.filter((s) => !s.includes('Limited Time Upgrade Offer'))).toEqual([]);
  });

  it('writes count variants, one strategy each in turn, labelled as the offline composer', () => {
    const variants = compose({ count: 4 });
    expect(variants.map((v) => v.strategy)).toEqual(['control', 'curiosity', 'benefit', 'control']);
    expect(variants.map((v) => [v.generator, v.tone])).toEqual(
      Array.from({ length: 4 }, () => ['offline-composer', 'friendly']),
    );
    expect(new Set(variants.map((v) => v.id)).size).toBe(4);
    expect(new Set(variants.map((v) => v.subject)).size).toBe(4);
  });

  it('writes no strategy from the same document twice while another is left', () => {
    const docs = ['A', 'B', 'C'].map((id) =>
      retrievedOf(aDocument({ id, title: `Title ${id}`, body: `Fact about ${id}. More.` })),
    );
    const pairs = (count: number, retrieved: RetrievedContent[]) =>
      compose({ count, retrieved }).map((v) => `${v.strategy}/${v.citations.join()}`);
    // Three strategies over three documents: the fourth and fifth were the first and second.
    expect(pairs(5, docs)).toEqual([
      'control/A',
      'curiosity/B',
      'benefit/C',
      'control/B',
      'curiosity/C',
    ]);
    expect(pairs(5, docs.slice(0, 2))).toEqual([
      'control/A',
      'curiosity/B',
      'benefit/A',
      'control/B',
      'curiosity/A',
    ]);
    // One document: the strategy's other subject is all that is left to tell them apart.
    expect(pairs(4, docs.slice(0, 1))).toEqual([
      'control/A',
      'curiosity/A',
      'benefit/A',
      'control/A',
    ]);
  });

  it('refuses a count outside 3–5, no strategies or no content', () => {
    expect(composeVariants(input({ count: 2 }))).toEqual({
      ok: false,
      error: { kind: 'invalid-count', count: 2 },
    });
    expect(composeVariants(input({ count: 6 })).ok).toBe(false);
    expect(composeVariants(input({ strategies: [] }))).toEqual({
      ok: false,
      error: { kind: 'no-strategies' },
    });
    expect(composeVariants(input({ retrieved: [] }))).toEqual({
      ok: false,
      error: { kind: 'no-content' },
    });
  });

  it('cites the document whose snippet it uses, cycling through what was retrieved', () => {
    const second = aDocument({
      id: 'DOC901',
      title: 'Getting Started Guide',
      body: 'Welcome aboard. Start here.',
    });
    const variants = compose({ retrieved: [retrievedOf(), retrievedOf(second)] });
    expect(variants.map((v) => v.citations)).toEqual([['DOC900'], ['DOC901'], ['DOC900']]);
    expect(variants[1]?.body).toContain('Welcome aboard');
  });

  it('states the incentive and personalises with Liquid', () => {
    const [variant] = compose({ incentive: { percent: 25, code: 'GOLD25' } });
    expect(variant?.body).toContain('Use code GOLD25 for 25% off.');
    expect(variant?.subject).toContain('25% off');
    expect(variant?.body).toContain('{{ customer.firstName | default: "there" }}');
    expect(variant?.body).toContain('— The Northwind Traders team');
  });

  it('keeps subjects within 60 characters even for long titles', () => {
    const long = aDocument({
      title: 'An Extraordinarily Long Title About Premium Widget Analytics Dashboards',
    });
    for (const tone of tones) {
      for (const variant of compose({
        tone,
        strategies: [...strategies],
        count: 5,
        retrieved: [retrievedOf(long)],
      })) {
        expect(variant.subject.length).toBeLessThanOrEqual(60);
      }
    }
  });

  it('gives the same variants for the same input', () => {
    expect(compose({ count: 5, strategies: [...strategies] })).toEqual(
      compose({ count: 5, strategies: [...strategies] }),
    );
  });

  it('makes social proof out of what the document says about customers', () => {
    const doc = aDocument({ body: 'Fast setup. Join thousands of satisfied customers.' });
    const [variant] = compose({ strategies: ['social-proof'], retrieved: [retrievedOf(doc)] });
    expect(variant?.body).toContain('Join thousands of satisfied customers.');
  });
});

describe.skipIf(sharedDataDir === undefined)('composer output over the scenario content', () => {
  const docs = loadScenarioDocuments();
  const index = createContentIndex(docs);
  const atMs = Date.parse('2026-01-15T00:00:00Z');

  it('is always grounded: every strategy × tone × document, with and without an incentive', () => {
    let checked = 0;
    for (const doc of docs) {
      const [retrieved] = search(index, `${doc.title} ${doc.keywords.join(' ')}`, {
        atMs,
        minScore: 0,
        topK: 25,
      }).filter((r) => r.doc.id === doc.id);
      expect(retrieved, doc.id).toBeDefined();
      if (retrieved === undefined) continue;
      for (const tone of tones) {
        for (const incentive of [null, { percent: 20, code: 'SAVE20' }]) {
          const variants = compose({
            tone,
            incentive,
            strategies: [...strategies],
            count: 5,
            retrieved: [retrieved],
          });
          for (const variant of variants) {
            const verdict = checkGrounding(variant, docs, incentive, { knownNames: [brand.name] });
            expect(verdict, `${doc.id} ${variant.id}`).toEqual({ ok: true });
            expect(variant.subject.length).toBeLessThanOrEqual(60);
            checked += 1;
          }
        }
      }
    }
    expect(checked).toBe(25 * 3 * 2 * 5);
  });
});
if (sharedDataDir === undefined) it.skip(sharedDataNote, () => undefined);
