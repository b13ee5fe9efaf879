// What a reader sees of a message's text, for the checks that look for words, numbers and
// addresses in it: the same characters however they were written. Without this, a forbidden
// word or a card number slips past with a line break, a non-breaking or doubled space, a
// zero-width character, a soft hyphen, full-width letters or digits, or (in HTML) a tag or an
// entity in the middle — all of which a mail client shows as the plain text.

// Zero-width space, non-joiner, joiner, word joiner, BOM; the soft hyphen.
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/gu;

/**
 * The text as read: compatibility forms folded (NFKC: `ｃｈｅａｐ` → `cheap`, `７０％` → `70%`),
 * invisible characters removed, every run of white space (line breaks and non-breaking or thin
 * spaces included) one space.
 */
export const visibleText = (text: string): string =>
  // Copy made only of characters NFKC leaves as they are and none of them invisible needs only
  // its white space folded (most copy is such, and NFKC is the cost).
  PLAIN.test(text)
    ? text.replace(/\s+/g, ' ')
    : text.normalize('NFKC').replace(INVISIBLE, '').replace(/\s+/gu, ' ');

// Printable ASCII and its white space; Latin-1's letters and signs but those with a
// compatibility form (¨ ª ¯ ² ³ ´ µ ¸ ¹ º ¼ ½ ¾), the non-breaking space and the soft hyphen;
// dashes, curly quotes, the bullet, the euro sign and the arrow. All are starters, so no two
// of them compose either.
const PLAIN =
  /^[\t-\r -~\u00A1-\u00A7\u00A9\u00AB\u00AC\u00AE\u00B0\u00B1\u00B6\u00B7\u00BB\u00BF-\u00FF\u2013\u2014\u2018\u2019\u201C\u201D\u2022\u20AC\u2192]*$/;

/**
 * Compatibility forms folded and invisible characters removed, every space character a plain
 * space — line breaks kept, for readers that care where a line starts.
 */
export const foldedText = (text: string): string =>
  text
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .replace(/\p{Zs}/gu, ' ');

// Elements whose text is not shown.
const HIDDEN_ELEMENTS = /<(style|script|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/giu;
// Elements that run inside a line: removed without a space, so `<b>ch</b>eap` reads `cheap`.
const INLINE_TAG =
  /<\/?(?:a|abbr|b|bdi|bdo|cite|code|data|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small|span|strike|strong|sub|sup|time|tt|u|var|wbr)\b[^>]*>/giu;
const ANY_TAG = /<[^>]*>/gu;

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00A0',
  shy: '\u00AD',
  zwj: '\u200D',
  zwnj: '\u200C',
  ensp: '\u2002',
  emsp: '\u2003',
  thinsp: '\u2009',
  ndash: '\u2013',
  mdash: '\u2014',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  percnt: '%',
  commat: '@',
  period: '.',
  hyphen: '-',
};

const decodeEntities = (text: string): string =>
  text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/giu, (whole, name: string) => {
    const code =
      name.startsWith('#x') || name.startsWith('#X')
        ? Number.parseInt(name.slice(2), 16)
        : name.startsWith('#')
          ? Number.parseInt(name.slice(1), 10)
          : null;
    if (code === null) return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
    return Number.isInteger(code) && code > 0 && code <= 0x10ffff
      ? String.fromCodePoint(code)
      : whole;
  });

/** The visible text of an HTML part: hidden elements dropped, tags removed, entities decoded. */
export const visibleHtmlText = (html: string): string =>
  visibleText(
    decodeEntities(
      html.replace(HIDDEN_ELEMENTS, ' ').replace(INLINE_TAG, '').replace(ANY_TAG, ' '),
    ),
  );
