import type { Variant } from './compose.js';
import { maskLiquid, wholeWords } from './text.js';
import { toneMarkers, tones, type Tone } from './tone.js';

export type RequiredElement = 'personalisation' | 'cta' | 'signature';

export interface BrandPolicy {
  voiceWords: readonly string[];
  forbiddenWords: readonly string[];
  requiredElements: readonly RequiredElement[];
  signature?: string;
  maxSubjectLength: number;
  /** Flesch–Kincaid grades the body should fall within, inclusive. */
  targetReadingGrade: readonly [number, number];
  /** Body words the body should fall within, inclusive; 40–150 when absent. */
  targetBodyWords?: readonly [number, number];
  tone: Tone;
}

export interface BrandScore {
  brandConsistency: number;
  toneConsistency: number;
  lengthAppropriateness: number;
  /** The body's Flesch–Kincaid grade (not a [0,1] score). */
  readingGrade: number;
  /** 1 inside `targetReadingGrade`, 0.25 less for each grade outside it, down to 0. */
  readingFit: number;
  reasons: string[];
}

const defaultBodyWords = [40, 150] as const;

/** Characters a Liquid output without a `default:` counts for in a subject: a long first name. */
export const typicalValueLength = 8;
const LIQUID_TAG = /\{\{-?([\s\S]*?)-?\}\}|\{%[\s\S]*?%\}/g;
const DEFAULT_TEXT = /\|\s*default\s*:\s*(?:"([^"]*)"|'([^']*)')/;

/**
 * A subject as a reader whose data is unknown reads it: each Liquid output as its `default:`
 * text (`{{ customer.firstName | default: "there" }}` is "there"), or `typicalValueLength`
 * characters without one; other tags print nothing. What the subject's length is measured on.
 */
export const subjectAsRead = (subject: string): string =>
  subject.replace(LIQUID_TAG, (_tag: string, output: string | undefined) => {
    if (output === undefined) return '';
    const fallback = DEFAULT_TEXT.exec(output);
    return fallback === null ? '_'.repeat(typicalValueLength) : (fallback[1] ?? fallback[2] ?? '');
  });

/**
 * A subject's length in characters (code points, as the brand guardrail counts them: an emoji
 * is one), measured as read (`subjectAsRead`), not on its Liquid source.
 */
export const subjectLength = (subject: string): number => Array.from(subjectAsRead(subject)).length;

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));
const round = (x: number, places = 3): number => Number(x.toFixed(places));
const containsPhrase = (text: string, phrase: string): boolean =>
  phrase.trim() !== '' && wholeWords(phrase, 'iu').test(text);

const wordsOf = (text: string): string[] => text.match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu) ?? [];

/**
 * Syllables of an English word, by heuristic: digits count as one; words of three letters or fewer
 * have one; otherwise a final silent `e` (not `-le`), `-ed` (not after t or d) and `-es` (not after
 * s, x, z, c or g) are dropped, a leading
 * `y` is a consonant, and each run of vowels (a e i o u y) is one syllable, at least one per word.
 */
export const countSyllables = (word: string): number => {
  const w = word.toLowerCase().replace(/[^a-z]/g, '');
  if (w.length === 0) return 1;
  if (w.length <= 3) return 1;
  const trimmed = w
    .replace(/(?:[^laeiouytd]ed|[^laeiouysxzcg]es|[^aeiouyl]e)$/, (end) => end.slice(0, 1))
    .replace(/^y/, '');
  return Math.max(1, (trimmed.match(/[aeiouy]+/g) ?? []).length);
};

/**
 * Flesch–Kincaid grade: 0.39 × words/sentence + 11.8 × syllables/word − 15.59. Sentences end at
 * `.`, `!`, `?` or a line break; an empty text is grade 0.
 */
export const fleschKincaidGrade = (text: string): number => {
  const sentences = text
    .split(/[.!?]+|\n+/)
    .filter((sentence) => wordsOf(sentence).length > 0).length;
  const words = wordsOf(text);
  if (words.length === 0 || sentences === 0) return 0;
  const syllables = words.reduce((sum, word) => sum + countSyllables(word), 0);
  return 0.39 * (words.length / sentences) + 11.8 * (syllables / words.length) - 15.59;
};

/**
 * Scores a variant against the brand policy; Liquid tags are not read as copy.
 * - brandConsistency = clamp(0.7 + voice − 0.3 × forbidden − 0.2 × missing), where `voice` is
 *   0.3 × min(1, distinct voice words used / min(3, voice words listed)) (0.3 when none are
 *   listed), `forbidden` the distinct forbidden words or phrases present, and `missing` the
 *   required elements absent (personalisation: a `{{ … }}` output tag; cta: a non-empty CTA;
 *   signature: the policy's signature in the body).
 * - toneConsistency = markers of the declared tone / markers of any tone (0.5 when there are none).
 * - lengthAppropriateness = bodyFit × subjectFit: bodyFit is 1 for a body word count inside the
 *   band [lo, hi], words/lo below it and max(0, 1 − (words − hi)/hi) above; subjectFit is 1 up
 *   to maxSubjectLength characters and max(0, 1 − excess/maxSubjectLength) beyond, the subject
 *   measured as read (`subjectLength`: Liquid as its default text, code points).
 * - readingGrade is the body's Flesch–Kincaid grade; readingFit is 1 inside the target band and
 *   0.25 lower per grade outside it.
 */
export const scoreBrand = (
  variant: Pick<Variant, 'subject' | 'preheader' | 'body' | 'cta'>,
  policy: BrandPolicy,
): BrandScore => {
  const reasons: string[] = [];
  const copy = maskLiquid(
    [variant.subject, variant.preheader, variant.body, variant.cta].join('\n'),
  );
  const body = maskLiquid(variant.body);

  const forbidden = policy.forbiddenWords.filter((w) => containsPhrase(copy, w));
  for (const word of forbidden) reasons.push(`uses forbidden word "${word}"`);
  const missing = policy.requiredElements.filter((element) => {
    switch (element) {
      case 'personalisation':
        return !/\{\{[\s\S]*?\}\}/.test(
          [variant.subject, variant.preheader, variant.body].join('\n'),
        );
      case 'cta':
        return variant.cta.trim() === '';
      case 'signature':
        return policy.signature === undefined || !containsPhrase(body, policy.signature);
    }
  });
  for (const element of missing) reasons.push(`missing required ${element}`);
  const voiceUsed = policy.voiceWords.filter((w) => containsPhrase(copy, w));
  const voice =
    policy.voiceWords.length === 0
      ? 0.3
      : 0.3 * Math.min(1, voiceUsed.length / Math.min(3, policy.voiceWords.length));
  if (policy.voiceWords.length > 0 && voiceUsed.length === 0) reasons.push('uses no voice words');
  const brandConsistency = clamp01(0.7 + voice - 0.3 * forbidden.length - 0.2 * missing.length);

  const counts = Object.fromEntries(tones.map((t) => [t, 0])) as Record<Tone, number>;
  for (const word of wordsOf(copy)) {
    const lower = word.toLowerCase();
    for (const t of tones) if (toneMarkers[t].includes(lower)) counts[t] += 1;
  }
  const markers = tones.reduce((sum, t) => sum + counts[t], 0);
  const toneConsistency = markers === 0 ? 0.5 : counts[policy.tone] / markers;
  if (markers === 0) reasons.push('no tone markers');
  else if (toneConsistency < 0.5) {
    reasons.push(
      `reads less ${policy.tone} than declared (${counts[policy.tone]} of ${markers} tone markers)`,
    );
  }

  const [lo, hi] = policy.targetBodyWords ?? defaultBodyWords;
  const bodyWords = wordsOf(body).length;
  const bodyFit =
    bodyWords < lo ? bodyWords / lo : bodyWords > hi ? Math.max(0, 1 - (bodyWords - hi) / hi) : 1;
  if (bodyFit < 1) reasons.push(`body has ${bodyWords} words, outside ${lo}–${hi}`);
  const subjectChars = subjectLength(variant.subject);
  const excess = subjectChars - policy.maxSubjectLength;
  const subjectFit = excess <= 0 ? 1 : Math.max(0, 1 - excess / policy.maxSubjectLength);
  if (excess > 0) {
    reasons.push(`subject has ${subjectChars} characters, over ${policy.maxSubjectLength}`);
  }

  const grade = fleschKincaidGrade(body);
  const [minGrade, maxGrade] = policy.targetReadingGrade;
  const gradesOff = grade < minGrade ? minGrade - grade : grade > maxGrade ? grade - maxGrade : 0;
  if (gradesOff > 0) {
    reasons.push(`reading grade ${grade.toFixed(1)} outside ${minGrade}–${maxGrade}`);
  }

  return {
    brandConsistency: round(brandConsistency),
    toneConsistency: round(toneConsistency),
    lengthAppropriateness: round(bodyFit * subjectFit),
    readingGrade: round(grade, 2),
    readingFit: round(clamp01(1 - 0.25 * gradesOff)),
    reasons,
  };
};
