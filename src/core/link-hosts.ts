import { htmlLinksIn } from './html.js';

/**
 * Where a reader of a message could be taken: the hosts of the web links in its text, as a mail
 * client or a phone would link them, and of the HTML part's links.
 *
 * In text, three forms are read as links: a URL with `http://` or `https://` (any case), a host
 * starting `www.`, and a bare host followed by a path (`shop.example/x`) — mail clients and
 * phones make each of them a link. A bare host alone (`example.com`) is not: names and copy
 * hold too many dotted words (`Mr.Smith`), and some clients link it, some do not.
 */

// A URL with its scheme is a link wherever it starts (`visit:https://…` too), up to white
// space, a quote or an angle bracket.
const URL_REST = /[^\s<>"'`{}|^]*/y;
// `www.` and the host after it, where a word could start.
const WWW = /www\./gi;
const WWW_HOST = /www\.[\p{L}\p{N}\p{M}\-.]+/iuy;
// A bare host before a path: dotted labels, the last of two letters or more.
const BARE_HOST = /^[\p{L}\p{N}\p{M}-]+(?:\.[\p{L}\p{N}\p{M}-]+)*\.\p{L}{2,}$/u;
const HOST_CHAR = /[\p{L}\p{N}\p{M}.-]/u;
// What may not come just before a bare host or `www.`: it would be inside a word, an address
// (`ana@evil.example/x`) or a path (`a/evil.example/x`).
const NOT_BEFORE = /[\p{L}\p{N}\p{M}@._%+\-/\\]/u;

// Punctuation that ends a sentence is not part of the link it follows (counted from the end
// by hand: a pattern anchored at the end is tried at every position of a long link).
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', "'", '"', '»', '”', '’']);
const withoutTrailing = (written: string): string => {
  let end = written.length;
  while (end > 0 && TRAILING.has(written.charAt(end - 1))) end -= 1;
  return written.slice(0, end);
};

// The authority of most links, read without the URL parser: ASCII letters, digits, dots and
// hyphens, an optional port, then the path, query, fragment or the end.
const PLAIN_AUTHORITY = /^https?:\/\/([A-Za-z0-9.-]+)(?::[0-9]*)?(?=[/?#]|$)/i;

/**
 * The host a web link leads to, as the URL parser reads it: lower case, punycode, no port, no
 * trailing dot; null for a link that leads to no host (`mailto:`, a relative path) or does not
 * parse. A link starting `//` takes the web's scheme, as a browser gives it.
 */
export const hostOfLink = (link: string): string | null => {
  const trimmed = link.trim();
  const plain = PLAIN_AUTHORITY.exec(trimmed)?.[1];
  if (plain !== undefined && !/^[0-9.]+$/.test(plain)) return hostOf(plain.toLowerCase());
  const absolute = trimmed.startsWith('//')
    ? `https:${trimmed}`
    : /^https?:/i.test(trimmed)
      ? trimmed
      : null;
  if (absolute === null) return null;
  let hostname: string;
  try {
    hostname = new URL(absolute).hostname;
  } catch {
    return null;
  }
  return hostOf(hostname);
};

const hostOf = (hostname: string): string | null => {
  const host = hostname.replace(/\.+$/, '');
  return host === '' ? null : host;
};

const isHostChar = (c: string): boolean =>
  c < '\u0080' ? /[A-Za-z0-9.-]/.test(c) : HOST_CHAR.test(c);

/** The hosts a reader of this text would be taken to by a link in it (see the module). */
export const linkHostsInText = (text: string): string[] => {
  const found: { at: number; host: string }[] = [];
  // Where URLs with a scheme are: nothing inside one is read again as a bare host.
  const spans: [number, number][] = [];
  const inSpan = (i: number): boolean => spans.some(([from, to]) => i >= from && i < to);
  const add = (at: number, written: string, scheme: boolean) => {
    const trimmed = withoutTrailing(written);
    const host = hostOfLink(scheme ? trimmed : `http://${trimmed}`);
    if (host !== null) found.push({ at, host });
  };
  // Found by their `://` (a plain search), the scheme read before it in any case.
  for (let colon = text.indexOf('://'); colon !== -1; colon = text.indexOf('://', colon + 3)) {
    const start = text
      .slice(Math.max(0, colon - 5), colon)
      .toLowerCase()
      .endsWith('https')
      ? colon - 5
      : text.slice(Math.max(0, colon - 4), colon).toLowerCase() === 'http'
        ? colon - 4
        : -1;
    if (start === -1 || inSpan(start)) continue;
    URL_REST.lastIndex = colon + 3;
    URL_REST.exec(text);
    const end = Math.max(URL_REST.lastIndex, colon + 3);
    spans.push([start, end]);
    add(start, text.slice(start, end), true);
  }
  const startsWord = (i: number) => i === 0 || !NOT_BEFORE.test(text.charAt(i - 1));
  WWW.lastIndex = 0;
  for (let m = WWW.exec(text); m !== null; m = WWW.exec(text)) {
    if (inSpan(m.index) || !startsWord(m.index)) continue;
    WWW_HOST.lastIndex = m.index;
    const host = WWW_HOST.exec(text)?.[0];
    if (host !== undefined) add(m.index, host, false);
  }
  for (let slash = text.indexOf('/'); slash !== -1; slash = text.indexOf('/', slash + 1)) {
    if (inSpan(slash)) continue;
    let start = slash;
    while (start > 0 && isHostChar(text.charAt(start - 1))) start -= 1;
    if (start === slash || !startsWord(start)) continue;
    const written = text.slice(start, slash);
    // A `www.` host was read above.
    if (BARE_HOST.test(written) && !/^www\./i.test(written)) add(start, written, false);
  }
  return found.length < 2
    ? found.map((f) => f.host)
    : found.sort((a, b) => a.at - b.at).map((f) => f.host);
};

/** The hosts the links of an HTML part (`<a href>` and its kin) lead to. */
export const linkHostsInHtml = (html: string): string[] =>
  htmlLinksIn(html).flatMap((link) => hostOfLink(link) ?? []);

/**
 * Whether a host is one of `known` (exact) or matches an entry of `allowed`: a host written out
 * matches itself, `*.example.com` any host under example.com (not example.com itself).
 */
export const isAllowedHost = (
  host: string,
  known: ReadonlySet<string>,
  allowed: readonly string[],
): boolean => {
  if (known.has(host)) return true;
  for (const entry of allowed) {
    const pattern = entry.toLowerCase();
    if (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern) return true;
  }
  return false;
};
