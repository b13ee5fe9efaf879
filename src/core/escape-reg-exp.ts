/** `text` with every character a regular expression gives a meaning escaped: matched as written. */
export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A phrase as a pattern matching it however its words are joined — by white space, or by one
 * hyphen or dash between them (`limited time` matches `Limited-time`, `risk-free` matches `risk
 * free`), not a dash with space around it, which parts clauses ("dressed to kill — you'll turn
 * heads" holds no "kill you") — and with or without a space before a `%` (`100% free`, `100 %
 * free`); otherwise as written.
 */
export const phraseSource = (phrase: string): string =>
  phrase
    .trim()
    .split(/[\s\p{Pd}]+/u)
    .map((word) => escapeRegExp(word).replaceAll('%', '\\s?%'))
    .join('(?:\\s+|\\p{Pd})');

/**
 * Any of `phrases` (`phraseSource`) standing as whole words — no letter or digit joined to it on
 * either side — as one pattern source. The phrases come first and the boundary before them is
 * checked behind: a pattern opening with the look-behind is tried at every position, and took
 * 11 µs instead of 1.6 over 2,000 characters of two-byte text.
 */
export const wholePhrasesSource = (phrases: readonly string[]): string => {
  const alternatives = phrases.map(phraseSource).join('|');
  return `(?:${alternatives})(?<=(?<![\\p{L}\\p{N}])(?:${alternatives}))(?![\\p{L}\\p{N}])`;
};
