import { describe, expect, it } from 'vitest';
import type { Variant } from './compose.js';
import {
  countSyllables,
  fleschKincaidGrade,
  scoreBrand,
  subjectAsRead,
  subjectLength,
  typicalValueLength,
  type BrandPolicy,
} from './score-brand.js';

const policy = (overrides: Partial<BrandPolicy> = {}): BrandPolicy => ({
  voiceWords: ['crafted', 'simple', 'together'],
  forbiddenWords: ['cheap', 'act now'],
  requiredElements: ['personalisation', 'cta', 'signature'],
  signature: 'The Northwind team',
  maxSubjectLength: 60,
  targetReadingGrade: [-20, 20],
  targetBodyWords: [4, 40],
  tone: 'friendly',
  ...overrides,
});

type Copy = Pick<Variant, 'subject' | 'preheader' | 'body' | 'cta'>;
const aCopy = (overrides: Partial<Copy> = {}): Copy => ({
  subject: 'Something simple for you',
  preheader: 'Crafted together with care',
  body: 'Hi {{ customer.firstName }}, thanks for reading. We hope you enjoy it.\n\nThe Northwind team',
  cta: 'Have a look',
  ...overrides,
});

const words = (n: number) => Array.from({ length: n }, () => 'word').join(' ');

describe('scoreBrand: brand consistency', () => {
  it('is 1 with three voice words, every required element and nothing forbidden', () => {
    const score = scoreBrand(aCopy(), policy());
    expect(score.brandConsistency).toBe(1);
    expect(score.reasons).toEqual([]);
  });

  it('takes 0.3 per forbidden word or phrase, matched as whole words', () => {
    expect(scoreBrand(aCopy({ cta: 'Act now' }), policy()).brandConsistency).toBe(0.7);
    expect(scoreBrand(aCopy({ cta: 'Cheap, act now' }), policy()).brandConsistency).toBe(0.4);
    expect(scoreBrand(aCopy({ cta: 'Cheapest' }), policy()).brandConsistency).toBe(1);
  });

  it('takes 0.2 per missing required element and says which', () => {
    const score = scoreBrand(
      aCopy({ body: 'Thanks for reading, we hope you enjoy it.', cta: ' ' }),
      policy(),
    );
    expect(score.brandConsistency).toBe(0.4);
    expect(score.reasons).toEqual(
      expect.arrayContaining([
        'missing required personalisation',
        'missing required cta',
        'missing required signature',
      ]),
    );
    const noSignature = policy();
    delete noSignature.signature;
    expect(scoreBrand(aCopy(), noSignature).brandConsistency).toBe(0.8);
  });

  it('credits voice words in proportion, up to three', () => {
    const copy = aCopy({ subject: 'Something for you', preheader: 'Made with care' });
    expect(scoreBrand(copy, policy()).brandConsistency).toBe(0.7);
    expect(scoreBrand({ ...copy, preheader: 'Made simple' }, policy()).brandConsistency).toBe(0.8);
    expect(scoreBrand(copy, policy({ voiceWords: [] })).brandConsistency).toBe(1);
  });

  it('never leaves [0, 1]', () => {
    const score = scoreBrand(
      aCopy({ body: 'cheap act now', cta: '' }),
      policy({ forbiddenWords: ['cheap', 'act now', 'body'] }),
    );
    expect(score.brandConsistency).toBe(0);
  });
});

describe('scoreBrand: tone', () => {
  it('is the share of tone markers that belong to the declared tone', () => {
    const copy = aCopy({ subject: 'Hi', preheader: 'thanks', body: 'Read this now.', cta: '' });
    expect(scoreBrand(copy, policy({ tone: 'friendly' })).toneConsistency).toBe(0.5);
    expect(scoreBrand(copy, policy({ tone: 'urgent' })).toneConsistency).toBe(0.25);
    expect(scoreBrand(copy, policy({ tone: 'informational' })).toneConsistency).toBe(0.25);
  });

  it('is 0.5 with a reason when there are no markers', () => {
    const score = scoreBrand(
      aCopy({ subject: 'x', preheader: 'y', body: 'z', cta: 'w' }),
      policy(),
    );
    expect(score.toneConsistency).toBe(0.5);
    expect(score.reasons).toContain('no tone markers');
  });
});

describe('scoreBrand: length', () => {
  const at = (bodyWords: number, subject = 'ok') =>
    scoreBrand(aCopy({ body: words(bodyWords), subject }), policy({ targetBodyWords: [10, 20] }))
      .lengthAppropriateness;

  it('is 1 on both edges of the band and falls off linearly outside it', () => {
    expect(at(10)).toBe(1);
    expect(at(20)).toBe(1);
    expect(at(9)).toBe(0.9);
    expect(at(5)).toBe(0.5);
    expect(at(21)).toBe(0.95);
    expect(at(40)).toBe(0);
    expect(at(60)).toBe(0);
  });

  it('scales by how far the subject runs over its maximum', () => {
    expect(at(10, 'x'.repeat(60))).toBe(1);
    expect(at(10, 'x'.repeat(61))).toBeCloseTo(1 - 1 / 60, 3);
    expect(at(10, 'x'.repeat(90))).toBe(0.5);
  });

  it('measures the subject as read: Liquid as its default text, in code points', () => {
    const liquid = '{{ customer.firstName | default: "there" }}, your Premium Widget awaits';
    expect(subjectAsRead(liquid)).toBe('there, your Premium Widget awaits');
    expect(subjectLength(liquid)).toBe(33);
    expect(at(10, `${liquid} — ${'x'.repeat(24)}`)).toBe(1);
    // An emoji is one character, as the brand guardrail counts it (two UTF-16 units).
    expect(at(10, '🎉'.repeat(60))).toBe(1);
    expect(at(10, '🎉'.repeat(61))).toBeCloseTo(1 - 1 / 60, 3);
    // Without a default, an output counts as a long first name; a tag prints nothing.
    expect(
      subjectLength("{{ customer.firstName }}, {% if x %}hi{% endif %} {{ x | default: 'a' }}"),
    ).toBe(typicalValueLength + 6);
    const over = scoreBrand(aCopy({ subject: '🎉'.repeat(61) }), policy());
    expect(over.reasons).toContain('subject has 61 characters, over 60');
  });

  it('ignores Liquid tags when counting words', () => {
    expect(at(10)).toBe(1);
    const score = scoreBrand(
      aCopy({ body: `${words(9)} {{ customer.firstName | default: "there" }}` }),
      policy({ targetBodyWords: [10, 20] }),
    );
    expect(score.lengthAppropriateness).toBe(0.9);
  });
});

describe('reading level', () => {
  it('counts syllables by the documented heuristic', () => {
    const cases: [string, number][] = [
      ['cat', 1],
      ['table', 2],
      ['make', 1],
      ['jumped', 1],
      ['wanted', 2],
      ['boxes', 2],
      ['syllable', 3],
      ['analytics', 4],
      ['2026', 1],
    ];
    expect(cases.map(([w]) => [w, countSyllables(w)])).toEqual(cases);
  });

  it('computes the Flesch–Kincaid grade', () => {
    // 6 words, 1 sentence, 6 syllables: 0.39 × 6 + 11.8 × 1 − 15.59.
    expect(fleschKincaidGrade('The cat sat on the mat.')).toBeCloseTo(-1.45, 5);
    // 4 words, 2 sentences, 8 syllables: 0.39 × 2 + 11.8 × 2 − 15.59.
    expect(fleschKincaidGrade('Table wanted. Boxes table!')).toBeCloseTo(8.79, 5);
    expect(fleschKincaidGrade('')).toBe(0);
  });

  it('fits 1 inside the target grades and 0.25 less per grade outside', () => {
    const body = 'Table wanted. Boxes table!';
    const fit = (band: [number, number]) =>
      scoreBrand(aCopy({ body }), policy({ targetReadingGrade: band })).readingFit;
    expect(fit([6, 10])).toBe(1);
    expect(fit([6, 8.79])).toBe(1);
    expect(fit([6, 7.79])).toBe(0.75);
    expect(fit([9.79, 12])).toBe(0.75);
    expect(fit([14, 16])).toBe(0);
    expect(
      scoreBrand(aCopy({ body }), policy({ targetReadingGrade: [6, 7.79] })).reasons,
    ).toContain('reading grade 8.8 outside 6–7.79');
  });
});
