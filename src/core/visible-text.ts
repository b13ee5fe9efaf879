import { decodeHTML } from 'entities';
import { HTML_COMMENT } from './html.js';
// What a reader sees of a message's text, for the checks that look for words, numbers and
// addresses in it: the same characters however they were written. Without this, a forbidden
// word or a card number slips past with a line break, a non-breaking or doubled space, a
// zero-width character, a soft hyphen, full-width letters or digits, or (in HTML) a tag or an
// entity in the middle — all of which a mail client shows as the plain text.

// Every character Unicode says a reader does not see unless it is supported
// (Default_Ignorable_Code_Point): zero-width spaces and joiners, the word joiner and invisible
// operators, direction marks and isolates, variation selectors, the combining grapheme joiner,
// the BOM, the soft hyphen.
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * The text as read: compatibility forms folded (NFKC: `ｃｈｅａｐ` → `cheap`, `７０％` → `70%`),
 * every script's digits as ASCII ones (`٥٠` → `50`), invisible characters removed, every run
 * of white space (line breaks and non-breaking or thin spaces included) one space.
 */
export const visibleText = (text: string): string => {
  // Copy made only of characters NFKC leaves as they are and none of them invisible needs only
  // its white space folded (most copy is such, and NFKC is the cost).
  if (PLAIN.test(text)) return text.replace(SPACES, ' ');
  // The ellipsis is the compatibility form copy holds most (generated copy ends a cut snippet
  // with it): NFKC makes it three dots, which compose with nothing, so copy plain but for it
  // reads the same with its dots written out.
  if (text.includes('\u2026')) {
    const dotted = text.replaceAll('\u2026', '...');
    if (PLAIN.test(dotted)) return dotted.replace(SPACES, ' ');
  }
  return asciiDigits(text.normalize('NFKC')).replace(INVISIBLE, '').replace(SPACES, ' ');
};

// A decimal digit of another script (Arabic-Indic `٥`, Devanagari `५`, Thai `๕`): NFKC leaves
// them, and a reader of the script reads them as figures.
const OTHER_DIGIT = /[^\P{Nd}0-9]/gu;
const DIGIT = /^\p{Nd}$/u;

/**
 * Decimal digits of every script as ASCII digits (`٥٠%` → `50%`). Unicode assigns each script's
 * digits as a run from zero to nine (where runs abut, each starts where the one before ends), so
 * a digit's value is how many digits precede it in its run of runs, modulo ten.
 */
const asciiDigits = (text: string): string =>
  text.replace(OTHER_DIGIT, (digit) => {
    const at = digit.codePointAt(0) ?? 0;
    let before = 0;
    while (before < 100 && DIGIT.test(String.fromCodePoint(at - before - 1))) before += 1;
    return String(before % 10);
  });

// Every run of white space, as one space: the runs that are not a lone space already (a space
// replaced by a space is each a piece of a new string — prose has one every few words, and
// folding them all cost most of the time spent here).
const SPACES = /(?: \s|[^\S ])\s*/g;

// Printable ASCII and its white space; Latin-1's letters and signs but those with a
// compatibility form (¨ ª ¯ ² ³ ´ µ ¸ ¹ º ¼ ½ ¾), the non-breaking space and the soft hyphen;
// dashes, curly quotes, the bullet, the euro sign and the arrow. All are starters, so no two
// of them compose either.
const PLAIN =
  /^[\t-\r -~\u00A1-\u00A7\u00A9\u00AB\u00AC\u00AE\u00B0\u00B1\u00B6\u00B7\u00BB\u00BF-\u00FF\u2013\u2014\u2018\u2019\u201C\u201D\u2022\u20AC\u2192]*$/;

/**
 * Compatibility forms folded, every script's digits as ASCII ones, and invisible characters
 * removed, every space character a plain space — line breaks kept, for readers that care where
 * a line starts.
 */
export const foldedText = (text: string): string =>
  asciiDigits(text.normalize('NFKC'))
    .replace(INVISIBLE, '')
    .replace(/\p{Zs}/gu, ' ');

// The three passes below read as the patterns in their comments, in one walk each: the
// patterns tried every `<` to the end of the copy when no `>` followed, so copy of many `<`
// took time growing with the square of its length (32 KB took a second, before 2026-12-07).

/**
 * `html` with each element that `/<(style|script|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/giu`
 * matches — whose text is not shown — as one space.
 */
const withoutHiddenElements = (html: string): string => {
  const opener = /<(style|script|head|title)\b/giu;
  // From where on no closing tag of a name is left (one looked for and not found).
  const noneFrom = new Map<string, number>();
  let out = '';
  let last = 0;
  for (let m = opener.exec(html); m !== null; m = opener.exec(html)) {
    const name = (m[1] ?? '').toLowerCase();
    const gt = html.indexOf('>', m.index + m[0].length);
    if (gt < 0) break;
    if (gt + 1 >= (noneFrom.get(name) ?? Number.POSITIVE_INFINITY)) continue;
    const closer = new RegExp(`<\\/${name}\\s*>`, 'giu');
    closer.lastIndex = gt + 1;
    const close = closer.exec(html);
    if (close === null) {
      noneFrom.set(name, gt + 1);
      opener.lastIndex = m.index + 1;
      continue;
    }
    out += `${html.slice(last, m.index)} `;
    last = close.index + close[0].length;
    opener.lastIndex = last;
  }
  return last === 0 ? html : out + html.slice(last);
};

/** `html` with each tag `opener` starts, up to the next `>`, replaced by `by`. */
const replaceTags = (html: string, opener: RegExp, by: string): string => {
  let out = '';
  let last = 0;
  opener.lastIndex = 0;
  for (let m = opener.exec(html); m !== null; m = opener.exec(html)) {
    const gt = html.indexOf('>', m.index + m[0].length);
    // No `>` after this one: none after any later one either.
    if (gt < 0) break;
    out += html.slice(last, m.index) + by;
    last = gt + 1;
    opener.lastIndex = last;
  }
  return last === 0 ? html : out + html.slice(last);
};

// Elements that run inside a line: removed without a space, so `<b>ch</b>eap` reads `cheap`
// (`/<\/?(?:a|…|wbr)\b[^>]*>/giu`).
const INLINE_TAG =
  /<\/?(?:a|abbr|b|bdi|bdo|cite|code|data|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small|span|strike|strong|sub|sup|time|tt|u|var|wbr)\b/giu;
// Any tag (`/<[^>]*>/gu`).
const ANY_TAG = /</gu;

// Comments (`HTML_COMMENT`) are not shown, and stand for nothing: `ch<!---->eap` reads `cheap`.

/**
 * An HTML part without what a reader is never shown — comments and hidden elements (`style`,
 * `script`, `head`, `title`) — its tags kept: where a link a reader can follow is looked for.
 */
export const shownHtml = (html: string): string =>
  withoutHiddenElements(html.replace(HTML_COMMENT, ''));

/**
 * The visible text of an HTML part: comments and hidden elements dropped, tags removed, every
 * character reference decoded as a browser decodes it (the whole HTML5 table, and the legacy
 * ones without their `;`: `&#99heap`, `&copy`) by `entities`.
 */
export const visibleHtmlText = (html: string): string =>
  visibleText(decodeHTML(replaceTags(replaceTags(shownHtml(html), INLINE_TAG, ''), ANY_TAG, ' ')));
