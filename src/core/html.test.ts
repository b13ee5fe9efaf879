import { describe, expect, it } from 'vitest';
import { HTML_LINK, htmlLinkMatches } from './html.js';

/** What `HTML_LINK` itself matches: the reference `htmlLinkMatches` must agree with. */
const byPattern = (html: string) =>
  [...html.matchAll(HTML_LINK)].map((m) => ({
    index: m.index,
    end: m.index + m[0].length,
    lead: m[1] ?? '',
    value: m[2] ?? m[3] ?? m[4] ?? '',
    quote: m[2] !== undefined ? '"' : m[3] !== undefined ? "'" : '',
  }));

describe('htmlLinkMatches', () => {
  it('finds what HTML_LINK finds, over HTML put together from its awkward pieces', () => {
    const pieces = [
      '<a',
      '<A',
      '<area',
      '<abbr',
      '<v:rect',
      '<a-b',
      ' ',
      '\u00A0',
      '/',
      'href',
      'HREF',
      'xlink:',
      'data-href',
      '=',
      ' = ',
      '"',
      "'",
      '"x>y"',
      "'q'",
      '>',
      '<',
      'https://shop.example.com/a?b=1&amp;c=2',
      'title',
      'x',
      '\n',
    ];
    // A fixed sequence of draws (no randomness between runs): 20,000 strings of 1–14 pieces.
    let seed = 42;
    const next = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let n = 0; n < 20_000; n += 1) {
      const count = 1 + Math.floor(next() * 14);
      const html = Array.from(
        { length: count },
        () => pieces[Math.floor(next() * pieces.length)] ?? '',
      ).join('');
      expect(htmlLinkMatches(html), JSON.stringify(html)).toEqual(byPattern(html));
    }
  });

  it('reads real links as the pattern does', () => {
    const html =
      '<p><a class="b" href="https://a.example.com/x">A</a> <a/href=\'https://b.example.com\'>B</a>' +
      '<area shape=rect href=https://c.example.com><a title="x > y" data-href="no" href="https://d.example.com">D</a></p>';
    expect(htmlLinkMatches(html).map((m) => m.value)).toEqual([
      'https://a.example.com/x',
      'https://b.example.com',
      'https://c.example.com',
      'https://d.example.com',
    ]);
    expect(htmlLinkMatches(html)).toEqual(byPattern(html));
  });

  it('reads copy of many unclosed elements, and the link at its end', () => {
    // Each `<a` with no `>` after it was walked to the end of the copy, again for each: 32 KB
    // took over a second (not timed here: tests time nothing).
    const html = '<a '.repeat(20_000);
    expect(htmlLinkMatches(html)).toEqual([]);
    const linked = `${html}href="https://x.example.com"`;
    expect(htmlLinkMatches(linked)).toEqual([
      {
        index: 0,
        end: linked.length,
        lead: linked.slice(0, -23),
        value: 'https://x.example.com',
        quote: '"',
      },
    ]);
  });
});
