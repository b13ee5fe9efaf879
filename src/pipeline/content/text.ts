// Text helpers shared by retrieval, composition, grounding and scoring.

const stopWords = new Set(
  'a an and are as at be by for from has have in is it its of on or our the to we with you your'.split(
    ' ',
  ),
);

/** Lower-case word terms of `text`, stop words removed: what the index and snippets compare. */
export const toTerms = (text: string): string[] =>
  (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((term) => !stopWords.has(term));

/** `text` split after `.`, `!` or `?` (and at line breaks), each sentence trimmed, none empty. */
export const toSentences = (text: string): string[] =>
  text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => /[\p{L}\p{N}]/u.test(sentence));

/** `text` with Liquid tags (`{{ … }}`, `{% … %}`) replaced by spaces of the same length. */
export const maskLiquid = (text: string): string =>
  text.replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g, (tag) => ' '.repeat(tag.length));

/** Lower case, every run of non-letters and non-digits one space: for substring comparison. */
export const normalise = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
