import { escapeRegExp } from '../../core/escape-reg-exp.js';
// Text helpers shared by retrieval, composition, grounding and scoring.

const stopWords = new Set(
  'a an and are as at be by for from has have in is it its of on or our the to we with you your'.split(
    ' ',
  ),
);

/**
 * Lower-case word terms of `text`, stop words removed: what the index and snippets compare. In
 * one Unicode form (NFKC), accents kept in their words: "crème" saved decomposed (e + U+0300, as
 * macOS names and some editors write it) was split at its accent and matched no query typed
 * composed.
 */
export const toTerms = (text: string): string[] =>
  (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{M}\p{N}]+/gu) ?? []
  ).filter((term) => !stopWords.has(term));

/** `text` split after `.`, `!` or `?` (and at line breaks), each sentence trimmed, none empty. */
export const toSentences = (text: string): string[] =>
  text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => /[\p{L}\p{N}]/u.test(sentence));

// The renderer reads templates with their Liquid masked too: one definition, in core.
export { maskLiquid } from '../../core/mask-liquid.js';

// A Liquid literal: a quoted string or a number.
const LITERAL = /^\s*(?:"([^"]*)"|'([^']*)'|(-?\d+(?:\.\d+)?))\s*$/;
const literalOf = (expression: string): string | null => {
  const m = LITERAL.exec(expression);
  return m === null ? null : (m[1] ?? m[2] ?? m[3] ?? null);
};
// The filters whose argument is printed with the value.
const PRINTING_FILTERS = new Set(['default', 'append', 'prepend']);

/** What an output expression (`value | filter: arg …`) prints from literals in the copy. */
const printedBy = (expression: string): string => {
  const [value = '', ...filters] = expression.split('|');
  const printed = [literalOf(value) ?? ''];
  for (const filter of filters) {
    const colon = filter.indexOf(':');
    const name = (colon < 0 ? filter : filter.slice(0, colon)).trim();
    if (colon >= 0 && PRINTING_FILTERS.has(name))
      printed.push(
        filter
          .slice(colon + 1)
          .split(',')
          .map((arg) => literalOf(arg) ?? '')
          .join(''),
      );
    // Arithmetic and any other filter on a literal prints what no literal says: kept as is,
    // so the numbers it works on are read as claims rather than passed over.
    else if (literalOf(value) !== null && name !== '') printed.push(filter.slice(colon + 1));
  }
  return printed.join('');
};

/**
 * `text` with Liquid tags replaced by what they may print from the copy itself: an output
 * (`{{ … }}`, `{% echo … %}`) its literal value and the arguments of `default`, `append` and
 * `prepend` (`{{ name | default: "50% off" }}` prints a claim; `{{ items[0] | truncate: 20 }}`
 * does not), an `{% assign %}` its literal (an output may print it later), `{% liquid %}` and
 * `{% cycle %}` every quoted string (read as claims, not parsed); every other tag (`{% if %}`,
 * `{% for %}` …) prints nothing. Tags are replaced, not padded, so `Save {{ 70 }}%` reads
 * `Save 70%`.
 */
export const maskLiquidKeepingLiterals = (text: string): string =>
  text.replace(
    /\{\{-?([\s\S]*?)-?\}\}|\{%-?\s*(\w+)([\s\S]*?)-?%\}/g,
    (_tag, output, name, rest) => {
      if (typeof output === 'string') return printedBy(output);
      const body = String(rest);
      switch (name) {
        case 'echo':
          return printedBy(body);
        case 'assign':
          return printedBy(body.slice(body.indexOf('=') + 1));
        case 'liquid':
        case 'cycle':
          return [...body.matchAll(/"([^"]*)"|'([^']*)'/g)]
            .map((m) => m[1] ?? m[2] ?? '')
            .join(' ');
        default:
          return '';
      }
    },
  );

/** Lower case, every run of non-letters and non-digits one space: for substring comparison. */
export const normalise = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/**
 * `phrase` (trimmed) standing as whole words — no letter or digit joined to it on either side:
 * "act now" is not in "Contact Now", "Lumora" not in "Lumorax". `flags` as RegExp takes them.
 */
export const wholeWords = (phrase: string, flags: string): RegExp =>
  new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(phrase.trim())}(?![\\p{L}\\p{N}])`, flags);
