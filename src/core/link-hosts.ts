import { domainToUnicode } from 'node:url';
import { htmlLinksIn } from './html.js';
import { onFirstUse } from './on-first-use.js';

/**
 * Where a reader of a message could be taken: the hosts of the web links in its text, as a mail
 * client or a phone would link them, and of the HTML part's links, as a browser reads them.
 *
 * In text, these are read as links: a URL with `http://` or `https://` (any case), a host
 * starting `www.`, a bare host followed by a path, a query, a fragment or a port
 * (`shop.example/x`, `shop.example?id=1`), and a bare host alone whose last label is a top-level
 * domain (`evil.com`; the `tlds` package's list) — mail clients and phones make each of them a
 * link. A dotted word whose end is no top-level domain (`Mr.Smith`, `index.html`, `3.99`) is
 * not; one whose end is (`Mr.Bond`: `.bond` is a domain) is read as a host, and fails closed.
 */

// A URL with its scheme is a link wherever it starts (`visit:https://…` too), up to white
// space, a quote, an angle bracket or one of `` ` { } | ^ ``: read by the character's code, as
// the pattern `[^\s<>"'`{}|^]*` would (three times faster on a tracked link's 400 characters).
const URL_STOP = new Uint8Array(128);
for (const c of '\t\n\v\f\r <>"\'`{}|^') URL_STOP[c.charCodeAt(0)] = 1;
const SPACE = /\s/;
const urlEndFrom = (text: string, from: number): number => {
  let end = from;
  for (; end < text.length; end += 1) {
    const c = text.charCodeAt(end);
    if (c < 0x80 ? URL_STOP[c] === 1 : SPACE.test(text.charAt(end))) break;
  }
  return end;
};
// A bare host: dotted labels, the last of two letters or more.
const BARE_HOST = /^[\p{L}\p{N}\p{M}-]+(?:\.[\p{L}\p{N}\p{M}-]+)*\.\p{L}{2,}$/u;
const HOST_CHAR = /[\p{L}\p{N}\p{M}.-]/u;
// What may not come just before a bare host: it would be inside a word, an address
// (`ana@evil.example/x`) or a path (`a/evil.example/x`).
const NOT_BEFORE = /[\p{L}\p{N}\p{M}@._%+\-/\\]/u;
// What makes a bare host a link whatever its last label: a path, a query, a fragment, a port.
const LINK_AFTER = /^(?:[/?#]|:[0-9])/;

const topLevelDomains = onFirstUse<readonly string[]>('tlds');
let tldSet: ReadonlySet<string> | undefined;
const isTopLevelDomain = (label: string): boolean =>
  (tldSet ??= new Set(topLevelDomains())).has(label.toLowerCase());

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
// Two bases a relative link is read against: a host that differs between them came from the base.
const BASES = ['https://a.relative.invalid/', 'https://b.relative.invalid/'] as const;

/**
 * The host a web link leads to, as a browser's URL parser reads it — controls and spaces around
 * it and tabs and line breaks inside dropped, `\\` read as `/`, a link starting `//` given the
 * web's scheme: lower case, punycode, no port, no trailing dot; null for a link that leads to no
 * host (`mailto:`, a relative path) or does not parse.
 */
export const hostOfLink = (link: string): string | null => {
  const plain = PLAIN_AUTHORITY.exec(link)?.[1];
  if (plain !== undefined && !/^[0-9.]+$/.test(plain)) return hostOf(plain.toLowerCase());
  let urls: [URL, URL];
  try {
    urls = [new URL(link, BASES[0]), new URL(link, BASES[1])];
  } catch {
    return null;
  }
  const [a, b] = urls;
  if (a.hostname !== b.hostname || (a.protocol !== 'http:' && a.protocol !== 'https:')) return null;
  return hostOf(a.hostname);
};

const hostOf = (hostname: string): string | null => {
  const host = hostname.replace(/\.+$/, '');
  return host === '' ? null : host;
};

/** Whether the character at `i` may be part of a host (ASCII by its code, without a pattern). */
const isHostCharAt = (text: string, i: number): boolean => {
  const c = text.charCodeAt(i);
  if (c >= 0x80) return HOST_CHAR.test(text.charAt(i));
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2e ||
    c === 0x2d
  );
};
const isDotOrHyphenAt = (text: string, i: number): boolean => {
  const c = text.charCodeAt(i);
  return c === 0x2e || c === 0x2d;
};

// A host a name server could answer: ASCII labels (punycode for the rest), the last a domain.
const ASCII_HOST = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
// What a URL's host is written with, up to the first character that cannot be in one.
const SCHEME_AND_HOST = /^[a-z]+:\/\/[A-Za-z0-9.-]+/i;

/**
 * Whether `host` (as `hostOfLink` gives it) could lead anywhere: an IP address, or ASCII labels
 * (underscores too) whose last is a real top-level domain. `shop.example.com)`, read on through
 * a bracket, leads nowhere.
 */
const couldResolve = (host: string): boolean => {
  if (IPV4.test(host) || host.startsWith('[')) return true;
  if (!ASCII_HOST.test(host)) return false;
  const tld = host.slice(host.lastIndexOf('.') + 1);
  return isTopLevelDomain(tld) || isTopLevelDomain(domainToUnicode(tld));
};

/** The most user names ended by punctuation one link is read for (each a URL parse). */
const MAX_USER_NAMES = 64;
/** The most links glued one after another at punctuation beyond ASCII that are read. */
const MAX_GLUED = 16;
const NON_ASCII = /[^\u0000-\u007f]/;
// Punctuation beyond ASCII: CJK copy closes a link with `）`, `、`, `。` or `】`.
export const WIDE_PUNCTUATION = /(?![\u0000-\u007f])\p{P}/u;
const WIDE_PUNCTUATION_ALL = new RegExp(WIDE_PUNCTUATION.source, 'gu');

/**
 * The hosts a link holding punctuation beyond ASCII may lead to where a client ends it at such a
 * mark (CJK copy closes a link with `）`, `、`, `。`; linkifiers differ on which they stop at):
 * the host before the first mark, and, for each `@` of the link's authority, the host from it to
 * the next mark — a user name ends at the `@`, and `https://shop.example.com、@evil.com」` leads
 * to evil.com when the link ends at `」`. Each `@` is read only up to the next mark, and only the
 * last before it: linear in the link's length.
 */
const hostsAtCuts = (written: string): (string | null)[] => {
  if (!NON_ASCII.test(written)) return [];
  const marks: number[] = [];
  WIDE_PUNCTUATION_ALL.lastIndex = 0;
  for (
    let m = WIDE_PUNCTUATION_ALL.exec(written);
    m !== null;
    m = WIDE_PUNCTUATION_ALL.exec(written)
  )
    marks.push(m.index);
  const first = marks[0];
  if (first === undefined) return [];
  const hosts = [hostOfLink(withoutTrailing(written.slice(0, first)))];
  const from = written.indexOf('://') + 3;
  let authorityEnd = written.slice(from).search(/[/?#\\]/);
  authorityEnd = authorityEnd === -1 ? written.length : from + authorityEnd;
  let mark = 0;
  for (let at = written.indexOf('@', from); at !== -1 && at < authorityEnd;) {
    while (mark < marks.length && (marks[mark] ?? 0) <= at) mark += 1;
    const cut = marks[mark];
    if (cut === undefined || cut > authorityEnd) break;
    const next = written.indexOf('@', at + 1);
    // Only the last `@` before the mark names the host a link ending there goes to. A link of
    // more such user names than any address has leads nowhere the brand names: `''`.
    if (next === -1 || next > cut) {
      if (hosts.length > MAX_USER_NAMES) return [...hosts, ''];
      hosts.push(hostOfLink(`https://${withoutTrailing(written.slice(at + 1, cut))}`));
    }
    at = next;
  }
  return hosts;
};

/**
 * The hosts a link with a scheme may lead to, as clients read it: read to its end, up to the
 * first character no host holds (`https://evil.com%`, `(https://shop.example.com)です` once
 * folded) and up to where a client may end it at punctuation beyond ASCII (`hostsAtCuts`). Every
 * reading whose host could resolve is judged; when none could, the whole link's host, if it
 * parses (an intranet name), else `''`, which the brand never names. `https://` with no host
 * written is no link.
 */
const schemeLinkHosts = (written: string): string[] => {
  const head = SCHEME_AND_HOST.exec(written)?.[0];
  const whole = hostOfLink(written);
  if (head === undefined) return whole === null ? [] : [whole];
  const readings = [
    whole,
    // Up to the first character no host holds, when the whole leads nowhere it could resolve.
    ...(whole === null || !couldResolve(whole) ? [hostOfLink(withoutTrailing(head))] : []),
    ...hostsAtCuts(written),
  ];
  const judged = [
    ...new Set(readings.filter((h): h is string => h !== null && (h === '' || couldResolve(h)))),
  ];
  if (judged.length > 0) return judged;
  return [whole ?? ''];
};

/**
 * The hosts of the links a client finds after a link it ended at punctuation beyond ASCII
 * (`https://shop.example.com/a、https://evil.com`, `…/a。evil.com`): the rest of the link read as
 * text, from its first such mark, keeping the hosts that could resolve. Read to `MAX_GLUED` links
 * deep (each reads the rest of its own), then `''`: no copy glues more.
 */
const hostsGluedAfter = (written: string, depth: number): string[] => {
  if (!NON_ASCII.test(written)) return [];
  const cut = written.search(WIDE_PUNCTUATION);
  if (cut === -1) return [];
  if (depth >= MAX_GLUED) return [''];
  return hostsInText(written.slice(cut + 1), depth + 1).filter(
    (host) => host === '' || couldResolve(host),
  );
};

/** The hosts a reader of this text would be taken to by a link in it (see the module). */
export const linkHostsInText = (text: string): string[] => hostsInText(text, 0);

const hostsInText = (text: string, depth: number): string[] => {
  const found: { at: number; host: string }[] = [];
  // Where URLs with a scheme are, in order: nothing inside one is read again as a bare host.
  const spans: [number, number][] = [];
  const add = (at: number, written: string, scheme: boolean) => {
    const trimmed = withoutTrailing(written);
    if (scheme) {
      for (const host of schemeLinkHosts(trimmed)) found.push({ at, host });
      for (const host of hostsGluedAfter(trimmed, depth)) found.push({ at: at + 1, host });
      return;
    }
    const host = hostOfLink(`http://${trimmed}`);
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
    const last = spans.at(-1);
    if (start === -1 || (last !== undefined && start < last[1])) continue;
    const end = urlEndFrom(text, colon + 3);
    spans.push([start, end]);
    add(start, text.slice(start, end), true);
  }
  // Bare hosts, found by their dots, in order; each dotted run is read once.
  let span = 0;
  for (let dot = text.indexOf('.'), next = 0; dot !== -1; dot = text.indexOf('.', next)) {
    next = dot + 1;
    while (span < spans.length && (spans[span]?.[1] ?? 0) <= dot) span += 1;
    const inside = spans[span];
    if (inside !== undefined && dot >= inside[0]) {
      next = inside[1];
      continue;
    }
    let start = dot;
    while (start > 0 && isHostCharAt(text, start - 1)) start -= 1;
    let end = dot + 1;
    while (end < text.length && isHostCharAt(text, end)) end += 1;
    next = end;
    // The dots and hyphens that end a sentence or a clause are not the host's.
    while (end > start && isDotOrHyphenAt(text, end - 1)) end -= 1;
    // A dot that ends a word or a sentence, no dot before it in the word: no host (most dots).
    if (end <= dot && text.lastIndexOf('.', end - 1) < start) continue;
    if (start > 0 && NOT_BEFORE.test(text.charAt(start - 1))) continue;
    const written = text.slice(start, end);
    const www = /^www\./i.test(written);
    if (!www && !BARE_HOST.test(written)) continue;
    const tld = written.slice(written.lastIndexOf('.') + 1);
    if (www || isTopLevelDomain(tld) || LINK_AFTER.test(text.slice(end, end + 2)))
      add(start, written, false);
  }
  return found.length < 2
    ? found.map((f) => f.host)
    : found.sort((a, b) => a.at - b.at).map((f) => f.host);
};

/** The hosts the links of an HTML part (`<a href>` and its kin) lead to. */
export const linkHostsInHtml = (html: string): string[] =>
  htmlLinksIn(html).flatMap((link) => hostOfLink(link) ?? []);

/**
 * Whether a host is one of `known` or matches an entry of `allowed`: a host written out matches
 * itself, `*.example.com` any host under example.com (not example.com itself) — in `known` as
 * in `allowed`.
 */
export const isAllowedHost = (
  host: string,
  known: ReadonlySet<string>,
  allowed: readonly string[],
): boolean => {
  // A link that leads to no host a client could name (`''`) is never the brand's, even when a
  // template's own Liquid-built link reads as one too.
  if (host === '') return false;
  if (known.has(host)) return true;
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1))
    if (known.has(`*${host.slice(dot)}`)) return true;
  for (const entry of allowed) {
    const pattern = entry.toLowerCase();
    if (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern) return true;
  }
  return false;
};

/**
 * The hosts of a shop's own URL every message may link to: the host, every host under it, and
 * the domain it is the `www.` of (`www.shop.example` and `shop.example` are one shop). A catalogue
 * linking products on `www.` while the configured URL has none, or the other way round, is the
 * shop's own.
 */
export const shopHostsOf = (url: string): string[] => {
  const host = hostOfLink(url);
  if (host === null) return [];
  const bare = host.startsWith('www.') ? host.slice(4) : host;
  return [...new Set([host, bare, `*.${bare}`])];
};
