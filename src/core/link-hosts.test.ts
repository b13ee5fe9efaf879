import { describe, expect, it } from 'vitest';
import {
  hostOfLink,
  isAllowedHost,
  linkHostsInHtml,
  linkHostsInText,
  shopHostsOf,
} from './link-hosts.js';

describe('linkHostsInText', () => {
  it('reads URLs with a scheme, www. hosts and bare hosts with a path, as a mail client links them', () => {
    expect(linkHostsInText('Ana, verify: https://evil.example/x')).toEqual(['evil.example']);
    expect(linkHostsInText('visit:HTTPS://Evil.Example.:8080/x).')).toEqual(['evil.example']);
    expect(linkHostsInText('see www.evil.com.')).toEqual(['www.evil.com']);
    expect(linkHostsInText('go to evil.com/verify now')).toEqual(['evil.com']);
    expect(linkHostsInText('(https://shop.example.com) and http://a.example')).toEqual([
      'shop.example.com',
      'a.example',
    ]);
  });

  it('reads the host a browser would go to, not the one a reader sees first', () => {
    expect(linkHostsInText('https://shop.example.com@evil.com/')).toEqual(['evil.com']);
    // A Cyrillic "о" in place of the Latin one: another host, in punycode.
    expect(linkHostsInText('https://shоp.example.com/x')).toEqual(['xn--shp-ted.example.com']);
  });

  it('reads a bare host alone when it ends in a top-level domain, as phones and mail clients do', () => {
    expect(
      linkHostsInText('Hi Ana evil.com, or evil.shop? Evil.Example:8080/x evil.example?id=1'),
    ).toEqual(['evil.com', 'evil.shop', 'evil.example', 'evil.example']);
    // A domain that is not one (.example is reserved) needs a path, a query or a port.
    expect(linkHostsInText('Hi evil.example.')).toEqual([]);
  });

  it('leaves dotted words, prices, file names and addresses alone', () => {
    expect(
      linkHostsInText('Mr.Smith, 19.99/month, e.g./x, and/or, index.html, ana@evil.com/x, v2.5.1'),
    ).toEqual([]);
  });

  it('ends a URL where white space, a quote, a bracket or `{}|^` does: every BMP character', () => {
    const differ: string[] = [];
    for (let code = 0; code <= 0xffff; code += 1) {
      const text = `see https://ab${String.fromCharCode(code)}cd.example/x now`;
      // Cut where the pattern says the URL ends, the text is read the same.
      const cut = /https:\/\/[^\s<>"'`{}|^]*/.exec(text)?.[0].length ?? 0;
      const at = text.indexOf('https://');
      const whole = linkHostsInText(text).slice(0, 1);
      const upToEnd = linkHostsInText(text.slice(0, at + cut)).slice(0, 1);
      if (whole.join() !== upToEnd.join()) differ.push(code.toString(16));
    }
    expect(differ).toEqual([]);
  });

  it('ends a link at CJK punctuation when read on it would lead to no host, never when it would', () => {
    expect(linkHostsInText('セール（https://shop.example.com）です')).toEqual(['shop.example.com']);
    expect(
      linkHostsInText('詳しくは https://shop.example.com/sale 、または【https://a.example.com】。'),
    ).toEqual(['shop.example.com', 'a.example.com']);
    // Read on, the host could resolve: both readings are judged (a user name before `@`).
    expect(linkHostsInText('https://shop.example.com）@evil.com/x')).toEqual([
      'evil.com',
      'shop.example.com',
    ]);
    expect(linkHostsInText('https://evil.com）')).toEqual(['evil.com']);
    // An IP address or an underscore host could resolve too.
    expect(linkHostsInText('Hi https://shop.example.com、@1.2.3.4/login')).toEqual([
      '1.2.3.4',
      'shop.example.com',
    ]);
    expect(linkHostsInText('https://shop.example.com、@0x7f000001/x')[0]).toBe('127.0.0.1');
    expect(linkHostsInText('https://shop.example.com、@x_y.evil.com/x')[0]).toBe('x_y.evil.com');
    // Read on, `。` is a dot of the host; a client may end the link at it.
    expect(linkHostsInText('詳しくは https://evil.com。shop.example.com/sale')).toContain(
      'evil.com',
    );
    // A user name ended by CJK punctuation, the host after it ended by another (linkifiers end
    // the link at `」` and open evil.com).
    expect(linkHostsInText('Hi https://shop.example.com、@evil.com」 x')).toContain('evil.com');
    expect(linkHostsInText('Hi https://shop.example.com「@evil.com」 x')).toContain('evil.com');
    // However many `@` come before or after the one that names it.
    const ats = '、@'.repeat(20);
    // More than any address has: read no further, and fail closed.
    expect(linkHostsInText(`https://shop.example.com${'@、'.repeat(100)}`)).toContain('');
    expect(linkHostsInText(`Hi https://shop.example.com${ats}@evil.com」${ats} x`)).toContain(
      'evil.com',
    );
    // A client that ends a link at such a mark links what is glued after it on its own: a
    // link of its own, or a bare host (each was judged as the first link's path alone).
    expect(linkHostsInText('見る https://shop.example.com/a、https://evil.com/x')).toEqual([
      'shop.example.com',
      'evil.com',
    ]);
    expect(linkHostsInText('https://shop.example.com/a。evil.com です')).toContain('evil.com');
    expect(
      linkHostsInText('https://shop.example.com/a、https://shop.example.com/b、www.evil.com'),
    ).toContain('www.evil.com');
    // Glued deeper than any copy: read no further, and fail closed.
    const glued = `https://shop.example.com/${'、https://shop.example.com/'.repeat(5000)}`;
    expect(linkHostsInText(glued)).toContain('');
    expect(linkHostsInText(glued.slice(0, 200))).not.toContain('');
    // CJK punctuation inside a path is part of it.
    expect(
      linkHostsInText('https://shop.example.com/アウトレット・sale.html?utm_source=x'),
    ).toEqual(['shop.example.com']);
    // Folded, `）` is `)` and `，` is `,`: the host is read up to them.
    expect(linkHostsInText('セール(https://shop.example.com)です')).toEqual(['shop.example.com']);
    expect(linkHostsInText('访问https://shop.example.com,立即购买')).toEqual(['shop.example.com']);
  });

  it('reads a link that does not parse up to the first character no host holds', () => {
    // Dropped before: linkifiers link https://evil.com in each.
    expect(linkHostsInText('Ana, verify https://evil.com% now')).toEqual(['evil.com']);
    expect(linkHostsInText('Hi https://evil.com[x')).toEqual(['evil.com']);
    expect(linkHostsInText('(https://evil.com)50%off')).toEqual(['evil.com']);
    expect(linkHostsInText('セール（https://evil.com）50%オフ')).toEqual(['evil.com']);
    // Nothing a host is written with: no host the brand names.
    // No host written: no link, as no client links `https://` alone.
    expect(linkHostsInText('see https://%zz now')).toEqual([]);
    expect(
      linkHostsInText('Make sure the address starts with https:// before you log in.'),
    ).toEqual([]);
  });

  it('finds every link of a long text, each once', () => {
    // 3,200 URLs with a scheme and 3,200 bare hosts: found, each once.
    const text = 'http://a.example/ b.com '.repeat(3200);
    const hosts = linkHostsInText(text);
    expect(hosts).toHaveLength(6400);
    expect(new Set(hosts)).toEqual(new Set(['a.example', 'b.com']));
  });
});

describe('linkHostsInHtml', () => {
  it('reads every web link, scheme-relative and backslashed ones as a browser does', () => {
    expect(
      linkHostsInHtml(
        '<a href="//evil.com/x">a</a><a href="https:\\\\evil2.com">b</a>' +
          '<a href="mailto:x@y.z">c</a><a href="/rel">d</a><a href="HTTPS://Shop.Example.com">e</a>',
      ),
    ).toEqual(['evil.com', 'evil2.com', 'shop.example.com']);
  });
});

describe('hostOfLink and isAllowedHost', () => {
  it('has no host for links that lead to none', () => {
    expect(hostOfLink('tel:+15555550100')).toBeNull();
    expect(hostOfLink('https://')).toBeNull();
    expect(hostOfLink('/cart')).toBeNull();
    expect(hostOfLink('javascript:alert(1)')).toBeNull();
  });

  it('reads a link as a browser does: tabs inside, controls before, backslashes', () => {
    for (const link of [
      'h\tttps://evil.example/x',
      '\u0001https://evil.example/x',
      ' https://evil.example/x',
      '/\\evil.example/x',
      '\\\\evil.example/x',
      'https:\\\\evil.example',
      '//evil.example/x',
      'https://shop.example.com\\@evil.example/',
    ])
      expect({ link, host: hostOfLink(link) }).toEqual({
        link,
        host: link.includes('shop') ? 'shop.example.com' : 'evil.example',
      });
  });

  it('matches a host written out exactly, and *. any host under a domain', () => {
    const known = new Set(['shop.example.com']);
    expect(isAllowedHost('shop.example.com', known, [])).toBe(true);
    expect(isAllowedHost('evil.com', known, [])).toBe(false);
    expect(isAllowedHost('cdn.shop.example', known, ['CDN.shop.example'])).toBe(true);
    expect(isAllowedHost('img.cdn.example', known, ['*.cdn.example'])).toBe(true);
    expect(isAllowedHost('cdn.example', known, ['*.cdn.example'])).toBe(false);
    expect(isAllowedHost('evilcdn.example', known, ['*.cdn.example'])).toBe(false);
    // A pattern among the known hosts works as one in the configuration.
    const shop = new Set(['*.shop.example']);
    expect(isAllowedHost('www.shop.example', shop, [])).toBe(true);
    expect(isAllowedHost('a.b.shop.example', shop, [])).toBe(true);
    expect(isAllowedHost('shop.example.evil.com', shop, [])).toBe(false);
    expect(isAllowedHost('evilshop.example', shop, [])).toBe(false);
  });

  it("takes a shop's www. and bare host for one, and every host under it", () => {
    expect(shopHostsOf('https://www.shop.example/')).toEqual([
      'www.shop.example',
      'shop.example',
      '*.shop.example',
    ]);
    expect(shopHostsOf('https://shop.example')).toEqual(['shop.example', '*.shop.example']);
    expect(shopHostsOf('not a url')).toEqual([]);
  });
});
