import { describe, expect, it } from 'vitest';
import { decodeHTML } from 'entities';
import { HTML_COMMENT } from './html.js';
import { shownHtml, visibleHtmlText, visibleText } from './visible-text.js';

// Every script's decimal digits, as Intl writes 0 to 9 in each numbering system it knows (but
// those that are ideographs used as numerals, such as hanidec's 一, no digits to Unicode).
const DIGITS = new Map<string, string>();
for (const numberingSystem of Intl.supportedValuesOf('numberingSystem')) {
  const format = new Intl.NumberFormat('en', { numberingSystem, useGrouping: false });
  for (let digit = 0; digit <= 9; digit += 1) {
    const written = format.format(digit);
    if (/^\p{Nd}$/u.test(written)) DIGITS.set(written, String(digit));
  }
}

// What visibleText means, without its shortcut for copy NFKC leaves alone.
const byDefinition = (text: string) =>
  text
    .normalize('NFKC')
    .replace(/\p{Nd}/gu, (c) => DIGITS.get(c) ?? c)
    .replace(/\p{Default_Ignorable_Code_Point}/gu, '')
    .replace(/\s+/gu, ' ');

describe('visibleText', () => {
  it('reads every character of the Basic Multilingual Plane as its definition does', () => {
    const differ: string[] = [];
    for (let code = 0; code <= 0xffff; code += 1) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const c = String.fromCharCode(code);
      // Alone, between letters, and after a letter it might compose with.
      for (const text of [c, `a${c}b`, `e${c}`, `${c}\u0301`])
        if (visibleText(text) !== byDefinition(text)) differ.push(code.toString(16));
    }
    expect(differ).toEqual([]);
  });

  it('reads an ellipsis as its three dots, in plain copy and beside what NFKC changes', () => {
    for (const text of [
      'a special discounted\u2026',
      '\u2026\u2026 wait\u2026 now',
      'caf\u00E9\u2026 \u2013 ok',
      '\u2026\u0301',
      '\uFF43heap\u2026',
      'x\u200B\u2026',
    ])
      expect(visibleText(text)).toBe(byDefinition(text));
    expect(visibleText('read on\u2026\n\nnow')).toBe('read on... now');
  });

  it('folds every run of white space to one space, whatever it is made of', () => {
    const pieces = [
      ' ',
      '  ',
      '\t',
      '\n',
      '\r\n',
      '\u00A0',
      '\u2028',
      '\u3000',
      'a',
      '.',
      '\u2026',
      'é',
    ];
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647);
    for (let n = 0; n < 5000; n += 1) {
      const text = Array.from({ length: next() % 14 }, () => pieces[next() % pieces.length]).join(
        '',
      );
      expect(visibleText(text)).toBe(byDefinition(text));
    }
  });

  it('folds what a reader would not tell apart', () => {
    expect(visibleText('too good\nto\u00A0be  true')).toBe('too good to be true');
    expect(visibleText('ch\u00ADe\u200Bap · Café – 10 €')).toBe('cheap · Café – 10 €');
    expect(visibleText('\uFF43\uFF48\uFF45\uFF41\uFF50 ½')).toBe('cheap 1⁄2');
    expect(visibleText('cafe\u0301')).toBe('café');
  });

  it('reads the visible text of HTML', () => {
    expect(visibleHtmlText('<style>p{}</style><p>too&nbsp;<b>go</b>od</p>')).toBe(' too good ');
  });

  it('drops every character a reader does not see, and reads HTML as a browser does', () => {
    // Direction marks and isolates, invisible operators, the grapheme joiner, variation selectors.
    for (const hidden of ['\u200E', '\u2062', '\u034F', '\uFE0F', '\u2066', '\u2069', '\u2063'])
      expect(visibleText(`ch${hidden}eap`), hidden.codePointAt(0)?.toString(16)).toBe('cheap');
    // A comment inside a word, entities of the whole HTML5 table, a reference without its `;`.
    expect(visibleHtmlText('<p>ch<!---->eap</p>')).toBe(' cheap ');
    // Comments end where a browser ends them: nothing after them is hidden.
    for (const opening of ['<!-->', '<!--->', '<!-- x --!>'])
      expect(visibleHtmlText(`<p>Hi${opening}cheap boots<!-- --></p>`)).toBe(' Hicheap boots ');
    expect(visibleHtmlText('<p>ch&ZeroWidthSpace;eap</p>')).toBe(' cheap ');
    expect(visibleHtmlText('<p>&#99heap</p>')).toBe(' cheap ');
    expect(visibleHtmlText('<p>act&hairsp;now</p>')).toBe(' act now ');
  });
});

describe('shownHtml and visibleHtmlText, read in one walk', () => {
  // The patterns the walks read as: the reference they must agree with.
  const HIDDEN = /<(style|script|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/giu;
  const INLINE =
    /<\/?(?:a|abbr|b|bdi|bdo|cite|code|data|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small|span|strike|strong|sub|sup|time|tt|u|var|wbr)\b[^>]*>/giu;
  const TAG = /<[^>]*>/gu;
  const byPatterns = (html: string) => {
    const shown = html.replace(HTML_COMMENT, '').replace(HIDDEN, ' ');
    return { shown, visible: visibleText(decodeHTML(shown.replace(INLINE, '').replace(TAG, ' '))) };
  };

  it('reads what the patterns read, over HTML put together from awkward pieces', () => {
    const pieces = [
      '<style>',
      '</style>',
      '</STYLE >',
      '<script type="x">',
      '</script>',
      '<title>',
      '</title',
      '<b>',
      '</b>',
      '<span class="a">',
      '<abbr>',
      '<p>',
      '<',
      '>',
      '<!--',
      '-->',
      'ch',
      'eap',
      ' ',
      '&amp;',
      'x',
    ];
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let n = 0; n < 20_000; n += 1) {
      const html = Array.from(
        { length: 1 + Math.floor(next() * 12) },
        () => pieces[Math.floor(next() * pieces.length)] ?? '',
      ).join('');
      const expected = byPatterns(html);
      expect(shownHtml(html), JSON.stringify(html)).toBe(expected.shown);
      expect(visibleHtmlText(html), JSON.stringify(html)).toBe(expected.visible);
    }
  });

  it('reads copy of many unclosed tags', () => {
    // Each `<` with no `>` after it was read to the end of the copy, again for each: 32 KB took
    // a second (not timed here).
    expect(visibleHtmlText(`<b>ch</b>eap ${'<'.repeat(40_000)}`)).toBe(
      `cheap ${'<'.repeat(40_000)}`,
    );
    expect(shownHtml(`${'<style>'.repeat(5_000)}x`)).toBe(`${'<style>'.repeat(5_000)}x`);
  });
});
