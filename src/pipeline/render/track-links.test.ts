import { describe, expect, it } from 'vitest';
import { verifyToken } from '../../core/signed-token.js';
import {
  htmlLinkHostsIn,
  trackHtmlLinks,
  trackLinks,
  withUtm,
  type LinkContext,
} from './track-links.js';

const link: LinkContext = {
  messageId: 'm-1',
  medium: 'email',
  campaign: 'cart-recovery',
  content: 'cart-reminder',
  base: 'https://h.example.com',
  linkSecret: 'secret',
};

/** The hosts the template links to. */
const hosts = new Set(['shop.example.com', 's.example.com']);

const destinationOf = (tracked: string): unknown => {
  const token = tracked.slice('https://h.example.com/t/c/'.length);
  const payload = verifyToken('secret', token);
  return payload === null ? null : JSON.parse(payload);
};

describe('link tracking', () => {
  it('sends a link through a signed redirect whose destination carries the UTM parameters', () => {
    const out = trackLinks('Finish here: https://shop.example.com/cart?x=1.', link, true, hosts);
    const url = /https:\/\/\S+(?=\.$)/.exec(out)?.[0] ?? '';
    expect(url.startsWith('https://h.example.com/t/c/')).toBe(true);
    expect(destinationOf(url)).toEqual({
      m: 'm-1',
      u: 'https://shop.example.com/cart?x=1&utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1',
    });
    expect(out.endsWith('.')).toBe(true);
  });

  it("leaves Herald's own links and existing UTM parameters alone", () => {
    expect(trackLinks('https://h.example.com/u/abc.def', link, true, hosts)).toBe(
      'https://h.example.com/u/abc.def',
    );
    expect(withUtm('https://s.example.com/?utm_source=news', link)).toBe(
      'https://s.example.com/?utm_source=news&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1',
    );
  });

  it('reads an href as a browser does, and tracks links only, not images or namespaces', () => {
    const html =
      '<html xmlns="http://s.example.com/1999/xhtml"><img src="https://s.example.com/logo.png">' +
      '<a class="x" href="https://s.example.com/search?q=men&#39;s&amp;page=1">go</a>' +
      "<area href='https://s.example.com/map'></html>";
    const out = trackHtmlLinks(html, link, hosts);
    expect(out).toContain('xmlns="http://s.example.com/1999/xhtml"');
    expect(out).toContain('<img src="https://s.example.com/logo.png">');
    const hrefs = [...out.matchAll(/href="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(hrefs.map((h) => destinationOf(h))).toEqual([
      {
        m: 'm-1',
        u: "https://s.example.com/search?q=men's&page=1&utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1",
      },
      {
        m: 'm-1',
        u: 'https://s.example.com/map?utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1',
      },
    ]);
    // The hosts a template links to are those of its links, not of its images.
    expect([
      ...htmlLinkHostsIn(
        '<img src="https://cdn.example.com/a.png"><a href="https://s.example.com/">x</a>',
      ),
    ]).toEqual(['s.example.com']);
  });

  it('tracks an href after a data-href, after a quoted >, and on Outlook VML buttons', () => {
    for (const html of [
      '<a data-href="#hero" href="https://s.example.com/sale">x</a>',
      '<a title="Women > Boots" href="https://s.example.com/boots">x</a>',
      '<!--[if mso]><v:roundrect arcsize="10%" href="https://s.example.com/sale"><![endif]-->',
      '<A HREF=https://s.example.com/sale>x</A>',
    ]) {
      const out = trackHtmlLinks(html, link, hosts);
      expect(out, html).toContain('https://h.example.com/t/c/');
    }
  });

  it('keeps a non-ASCII path whole in text', () => {
    expect(trackLinks('Neu: https://shop.example.com/damen/größen jetzt', link, false, hosts)).toBe(
      'Neu: https://shop.example.com/damen/gr%C3%B6%C3%9Fen?utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1 jetzt',
    );
  });

  it('ends a link in text where URL characters end', () => {
    const sms = (text: string) => trackLinks(text, link, false, hosts);
    expect(sms('Sale at \u201Chttps://shop.example.com/sale\u201D until Sunday')).toBe(
      '\u201Chttps://shop.example.com/sale?utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1\u201D until Sunday'.replace(
        /^/,
        'Sale at ',
      ),
    );
    // A sentence's punctuation after a link is not part of it, however much of it there is.
    expect(sms(`See https://shop.example.com/sale${'.'.repeat(20_000)}x!).`)).toBe(
      `See https://shop.example.com/sale${'.'.repeat(20_000)}x?utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1!).`,
    );
    // A bracket the URL opens is its own; one more is the sentence's.
    const utm =
      'utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1';
    expect(sms('Yours: https://shop.example.com/p/tee-(red)')).toBe(
      `Yours: https://shop.example.com/p/tee-(red)?${utm}`,
    );
    expect(sms('(see https://shop.example.com/p/tee-(red)).')).toBe(
      `(see https://shop.example.com/p/tee-(red)?${utm}).`,
    );
    expect(sms('[https://shop.example.com/wiki/a_[b]]')).toBe(
      `[https://shop.example.com/wiki/a_[b]?${utm}]`,
    );
    // A markdown link whose text is its URL: both tracked, the brackets kept.
    expect(sms('[https://shop.example.com/a](https://shop.example.com/a)')).toBe(
      `[https://shop.example.com/a?${utm}](https://shop.example.com/a?${utm})`,
    );
    expect(sms('セール：https://shop.example.com/sale。今すぐ')).toBe(
      'セール：https://shop.example.com/sale?utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1。今すぐ',
    );
  });

  it('leaves a link to a host the template does not link to as written: no open redirect', () => {
    for (const text of [
      'Hi https://evil.example/login, welcome',
      'Hi https://shop.example.com.evil.example/x',
      'Hi https://shop.example.com@evil.example/x',
    ])
      expect(trackLinks(text, link, true, hosts)).toBe(text);
  });

  it('only adds UTM parameters when asked not to track (SMS)', () => {
    expect(
      trackLinks('Shop https://s.example.com/p', { ...link, medium: 'sms' }, false, hosts),
    ).toBe(
      'Shop https://s.example.com/p?utm_source=herald&utm_medium=sms&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1',
    );
  });

  it('gives each message its own id on a link it shares with others, encoded when it must be', () => {
    const url = 'https://s.example.com/p#top';
    const tail =
      'utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder';
    expect(withUtm(url, link)).toBe(`https://s.example.com/p?${tail}&utm_id=m-1#top`);
    expect(withUtm(url, { ...link, messageId: 'm-2' })).toBe(
      `https://s.example.com/p?${tail}&utm_id=m-2#top`,
    );
    expect(withUtm(url, { ...link, messageId: 'a b&c' })).toBe(
      `https://s.example.com/p?${tail}&utm_id=a%20b%26c#top`,
    );
    // Another campaign, medium or template on the same link is not the first one's.
    expect(withUtm(url, { ...link, campaign: 'win-back' })).toBe(
      `https://s.example.com/p?${tail.replace('cart-recovery', 'win-back')}&utm_id=m-1#top`,
    );
    expect(withUtm(url, { ...link, medium: 'sms' })).toBe(
      `https://s.example.com/p?${tail.replace('email', 'sms')}&utm_id=m-1#top`,
    );
    expect(withUtm(url, { ...link, content: 'upsell' })).toBe(
      `https://s.example.com/p?${tail.replace('cart-reminder', 'upsell')}&utm_id=m-1#top`,
    );
  });

  it('leaves mailto:, tel: and sms: links as written, and takes no host from them', () => {
    const html =
      '<a href="mailto:help@s.example.com?subject=Order%20question">Email</a>' +
      ' <a href="tel:+15551234567">Call</a> <a href=\'sms:+15551234567?body=Hi\'>Text</a>' +
      ' <a href="https://s.example.com/sale">Sale</a>';
    expect([...htmlLinkHostsIn(html)]).toEqual(['s.example.com']);
    // Even with the empty host among them (what a mailto: link once added).
    const out = trackHtmlLinks(html, link, new Set([...hosts, '']));
    expect(out).toContain('<a href="mailto:help@s.example.com?subject=Order%20question">Email</a>');
    expect(out).toContain('<a href="tel:+15551234567">Call</a>');
    expect(out).toContain("<a href='sms:+15551234567?body=Hi'>Text</a>");
    expect(out).toContain('<a href="https://h.example.com/t/c/');
  });

  it.each([
    ['an encoded space', 'https://s.example.com/search?q=red%20shirt', '&'],
    ['a flag without a value', 'https://s.example.com/products/mug?preview', '&'],
    ['a path in a value', 'https://s.example.com/login?return_to=/account/orders', '&'],
    ['pairs split by semicolons', 'https://s.example.com/c?sort=price;dir=asc', '&'],
    ['a base64 token', 'https://s.example.com/activate?token=YWJj/ZGVm==', '&'],
    ['an upper-case host and a dot segment', 'https://S.example.com/a/../b', '?'],
    ['an empty query', 'https://s.example.com/p?', ''],
  ])('keeps the shop’s own URL as written, with %s', (_, url, separator) => {
    const sms = { ...link, medium: 'sms' };
    expect(withUtm(url, sms)).toBe(
      `${url}${separator}utm_source=herald&utm_medium=sms&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1`,
    );
  });

  it('puts the UTM parameters before the fragment and keeps the ones the shop set', () => {
    expect(withUtm('https://s.example.com/p?q=a%20b&utm_medium=news#/top?x', link)).toBe(
      'https://s.example.com/p?q=a%20b&utm_medium=news&utm_source=herald&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1#/top?x',
    );
    expect(withUtm('https://s.example.com#top', link)).toBe(
      'https://s.example.com/?utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1#top',
    );
    const all =
      'https://s.example.com/p?utm_source=a&utm_medium=b&utm_campaign=c&utm_content=d&utm_id=e';
    expect(withUtm(all, link)).toBe(all);
  });

  it('drops the line breaks of a wrapped href and encodes spaces, as a browser reads it', () => {
    const tracked = trackHtmlLinks(
      '<a href="https://shop.example.com/sale/\n  summer\tnow">Sale</a>',
      link,
      hosts,
    );
    const href = /href="([^"]*)"/.exec(tracked)?.[1] ?? '';
    expect(destinationOf(href)).toMatchObject({
      u: 'https://shop.example.com/sale/%20%20summernow?utm_source=herald&utm_medium=email&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1',
    });
  });

  it('writes characters beyond ASCII as a browser sends them: a redirect’s Location is ASCII', () => {
    expect(withUtm('https://bücher.example/ä?q=ü#ö', { ...link, medium: 'sms' })).toBe(
      'https://xn--bcher-kva.example/%C3%A4?q=%C3%BC&utm_source=herald&utm_medium=sms&utm_campaign=cart-recovery&utm_content=cart-reminder&utm_id=m-1#%C3%B6',
    );
  });
});
