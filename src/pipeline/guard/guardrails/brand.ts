import type { Guardrail, Verdict } from '../guard-types.js';
import { pass, verdict } from '../guard-types.js';
import { visibleText } from '../../../core/visible-text.js';
import { visibleCopy } from './visible-copy.js';
import { wholePhrasesSource } from '../../../core/escape-reg-exp.js';
import { namesOf } from '../../../core/profile.js';

const NAME = 'brand';

/**
 * The policy's forbidden words as one pattern, compiled once per list: a word on its own
 * (no letter or digit on either side), in any case. One pass over the text finds whether any
 * of them is there; only then is each word looked for, to name them.
 */
const patterns = new WeakMap<readonly string[], { any: RegExp; each: [string, RegExp][] }>();
const patternsOf = (words: readonly string[]) => {
  let found = patterns.get(words);
  if (found === undefined) {
    // Its words however joined: "too-good-to-be-true" is the phrase before a noun.
    found = {
      any: new RegExp(wholePhrasesSource(words), 'iu'),
      each: words.map((w) => [w, new RegExp(wholePhrasesSource([w]), 'iu')]),
    };
    patterns.set(words, found);
  }
  return found;
};

const forbiddenIn = (text: string, words: readonly string[]): string[] => {
  if (words.length === 0) return [];
  const { any, each } = patternsOf(words);
  if (!any.test(text)) return [];
  return each.filter(([, pattern]) => pattern.test(text)).map(([word]) => word);
};

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * How many code points a subject over the limit may hold and still be read grapheme by grapheme:
 * a segment of the runtime's segmenter holds the whole text it came from (a copy of it in Node
 * 20), so segmenting a 60,000-character subject took gigabytes and ended the process.
 */
const SEGMENTED_PER_CHARACTER = 8;

/**
 * The characters a reader counts in `text`: its code points, or when they are more than `max`,
 * its graphemes once composed — an accent pasted decomposed (`e` and U+0301) or a flag (two
 * regional indicators) is one character, and a subject of 60 of them was blocked as longer.
 * A subject of more than eight code points a character allowed is too long whatever its
 * graphemes: its code points are the count.
 */
const charactersIn = (text: string, max: number): number => {
  const codePoints = Array.from(text).length;
  if (codePoints <= max || codePoints > max * SEGMENTED_PER_CHARACTER) return codePoints;
  // At most eight times the limit: every grapheme counted, as the verdict reports them.
  let count = 0;
  const segments = graphemes.segment(text.normalize('NFC'))[Symbol.iterator]();
  while (segments.next().done !== true) count += 1;
  return count;
};

/**
 * Tone and brand on the rendered message: forbidden words (blocked), a subject of at most
 * `maxSubjectLength` characters, and for marketing email the required elements — a call to
 * action (a link), the signature when one is configured, and personalisation (the customer's
 * first name when it is known). Generated copy goes to review when configured.
 */
export const brandGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    const c = message.content;
    if (c === null) return [pass(NAME, 'nothing rendered to check yet')];
    const found: Verdict[] = [];
    // As a reader sees it (line breaks, odd spaces, invisible characters and full-width forms
    // folded), the HTML part too (its visible text: most clients show it).
    const text = visibleCopy(c);
    const forbidden = forbiddenIn(text, policy.forbiddenWords);
    if (forbidden.length > 0)
      found.push(
        verdict(
          NAME,
          'block',
          'forbidden_words',
          `uses ${forbidden.map((w) => `"${w}"`).join(', ')}`,
          { words: forbidden },
        ),
      );
    const subjectLength = c.subject === null ? 0 : charactersIn(c.subject, policy.maxSubjectLength);
    if (subjectLength > policy.maxSubjectLength)
      found.push(
        verdict(
          NAME,
          'block',
          'subject_too_long',
          `subject of ${subjectLength} characters (at most ${policy.maxSubjectLength})`,
          {
            subjectLength,
            max: policy.maxSubjectLength,
          },
        ),
      );
    if (message.class === 'marketing' && message.channel === 'email') {
      // The footer's unsubscribe link is no call to action.
      const body = c.unsubscribeUrl === null ? c.body : c.body.replaceAll(c.unsubscribeUrl, '');
      if (policy.requireCta && !/https?:\/\/\S+/.test(body))
        found.push(verdict(NAME, 'block', 'no_cta', 'no call to action (link) in the body'));
      if (policy.signature !== '' && !c.body.includes(policy.signature))
        found.push(verdict(NAME, 'block', 'no_signature', 'the signature is missing'));
      // The name the renderer prints (a blank `firstName` passed over for `first_name`).
      const firstName = namesOf(context.profile.traits).first;
      if (firstName !== null && !text.includes(visibleText(firstName).trim()))
        // The reason goes to the audit log, which holds no personal data: no name in it.
        found.push(
          verdict(NAME, 'review', 'not_personalised', 'does not address the customer by name'),
        );
    }
    const scores = context.brandScores ?? null;
    if (message.generated && scores !== null) {
      if (scores.brand < policy.minBrandScore)
        found.push(
          verdict(
            NAME,
            'review',
            'brand_score_low',
            `brand consistency ${String(scores.brand)} below ${String(policy.minBrandScore)}`,
            {
              brand: scores.brand,
              min: policy.minBrandScore,
            },
          ),
        );
      if (scores.tone < policy.minToneScore)
        found.push(
          verdict(
            NAME,
            'review',
            'tone_score_low',
            `tone consistency ${String(scores.tone)} below ${String(policy.minToneScore)}`,
            {
              tone: scores.tone,
              min: policy.minToneScore,
            },
          ),
        );
    }
    if (message.generated && policy.reviewGenerated)
      found.push(
        verdict(NAME, 'review', 'generated_copy', 'generated copy is reviewed by a person'),
      );
    return found.length > 0 ? found : [pass(NAME, 'on brand')];
  },
};
