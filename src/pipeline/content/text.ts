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

/**
 * `text` with Liquid tags blanked except what a tag may print from the copy itself — the quoted
 * strings (without the quotes) and numbers of an output (`{{ … }}`, `{% echo %}`, and
 * `{% assign %}`, whose value an output may print) — kept where they stand: `{{ "Save 70%" }}`
 * and `{{ name | default: "50% off" }}` print claims like any other text; the condition of an
 * `{% if %}` prints nothing.
 */
export const maskLiquidKeepingLiterals = (text: string): string =>
  text.replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g, (tag) => {
    const kept = Array.from({ length: tag.length }, () => ' ');
    if (!/^\{\{|^\{%-?\s*(?:echo|assign)\b/.test(tag)) return kept.join('');
    for (const m of tag.matchAll(/"([^"]*)"|'([^']*)'|\b\d+(?:\.\d+)?\b/g)) {
      const literal = m[1] ?? m[2] ?? m[0];
      const at = m.index + (m[1] !== undefined || m[2] !== undefined ? 1 : 0);
      for (let i = 0; i < literal.length; i += 1) kept[at + i] = literal[i] ?? ' ';
    }
    return kept.join('');
  });

/** Lower case, every run of non-letters and non-digits one space: for substring comparison. */
export const normalise = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
