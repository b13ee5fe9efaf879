import { decodeHTMLAttribute, escapeAttribute } from 'entities';
import { htmlLinkMatches, htmlLinksIn } from '../../core/html.js';
import { signMessageToken, signToken } from '../../core/signed-token.js';

export interface LinkContext {
  messageId: string;
  /** `utm_medium`: the channel. */
  medium: string;
  /** `utm_campaign`: the campaign id, or the template. */
  campaign: string;
  /** `utm_content`: the template. */
  content: string;
  /** Tracking links point here (`HERALD_PUBLIC_URL`, no trailing slash). */
  base: string;
  linkSecret: string;
}

// A URL in text: the characters a URL may hold (RFC 3986, `%` escapes, and letters, digits and
// marks of any script in an internationalised path), so it stops at white space, quotes, angle
// brackets and other punctuation — curly quotes, CJK punctuation and the text after them.
const URL_PATTERN = /https?:\/\/[\p{L}\p{N}\p{M}\-._~:/?#[\]@!$&()*+,;=%]+/gu;
// Trailing punctuation of a sentence is not part of the URL: counted from the end by hand (a
// pattern anchored at the end, `[.,;:!?)\]]+$`, is tried at every dot of a long run that does
// not end the match, and a trait of 30,000 dots took 373 ms). A closing bracket is the
// sentence's only while the URL has more of them than it opens: `…/tee-(red)` keeps its own.
const TRAILING = new Set(['.', ',', ';', ':', '!', '?']);
const trailingOf = (match: string): string => {
  let parens = 0;
  let squares = 0;
  for (let i = 0; i < match.length; i += 1) {
    const c = match.charCodeAt(i);
    if (c === 40) parens += 1;
    else if (c === 41) parens -= 1;
    else if (c === 91) squares += 1;
    else if (c === 93) squares -= 1;
  }
  let cut = match.length;
  for (; cut > 0; cut -= 1) {
    const c = match.charAt(cut - 1);
    if (TRAILING.has(c)) continue;
    if (c === ')' && parens < 0) parens += 1;
    else if (c === ']' && squares < 0) squares += 1;
    else break;
  }
  return match.slice(cut);
};

const NON_ASCII = /[\u0080-\uffff]+/g;
// What a Location header cannot hold as written: control characters, spaces, beyond ASCII.
const NOT_PRINTABLE = /[^\x21-\x7e]+/g;
// Tabs and line breaks, which a URL parser drops wherever they are (an href wrapped by hand).
const LINE_BREAKS = /[\t\n\r]/g;
const AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

// A link goes into a Location header, which holds printable ASCII only: tabs and line breaks go
// as a browser drops them, and the rest is written as a browser sends it (spaces and controls
// percent-encoded, beyond ASCII as UTF-8, the host in punycode); the rest stays as written.
const toAsciiUrl = (written: string, parsed: URL): string => {
  const url = written.replace(LINE_BREAKS, '');
  if (url.search(NOT_PRINTABLE) === -1) return url;
  try {
    const authority = AUTHORITY.exec(url)?.[0] ?? '';
    const host =
      authority.search(NON_ASCII) !== -1 && parsed.username === '' && parsed.password === ''
        ? `${parsed.protocol}//${parsed.host}`
        : authority;
    return host + url.slice(authority.length).replace(NOT_PRINTABLE, (text) => encodeURI(text));
  } catch {
    // A lone surrogate, which encodeURI refuses: the URL's own serialisation.
    return new URL(url).href;
  }
};

const addUtm = (
  url: string,
  link: Pick<LinkContext, 'messageId' | 'medium' | 'campaign' | 'content'>,
): string => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const add: [string, string][] = [
    ['utm_source', 'herald'],
    ['utm_medium', link.medium],
    ['utm_campaign', link.campaign],
    ['utm_content', link.content],
    ['utm_id', link.messageId],
  ];
  // The URL only says which keys the shop set (they are kept); the missing ones are appended
  // as text: re-serialising the query would re-encode the shop's own parameters (`%20` as `+`,
  // `/` as `%2F`, `?preview` as `?preview=`), and its server may read them differently.
  const missing = add.filter(([key]) => !parsed.searchParams.has(key));
  if (missing.length === 0) return toAsciiUrl(url, parsed);
  // A web link's empty path is `/` (`https://shop.example.com?utm_…` reads as a typo).
  const authority = AUTHORITY.exec(url)?.[0] ?? '';
  const written =
    /^https?:$/.test(parsed.protocol) && /^[?#]?$/.test(url.charAt(authority.length))
      ? `${authority}/${url.slice(authority.length)}`
      : url;
  const hash = written.indexOf('#');
  const head = hash === -1 ? written : written.slice(0, hash);
  const fragment = hash === -1 ? '' : written.slice(hash);
  const separator = !head.includes('?') ? '?' : /[?&]$/.test(head) ? '' : '&';
  const pairs = missing.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
  return toAsciiUrl(`${head}${separator}${pairs}${fragment}`, parsed);
};

// Message ids a query string carries as they are (form encoding leaves these alone).
const PLAIN_ID = /^[A-Za-z0-9._-]+$/;
// Stands for the message id in a remembered link; a link whose parts hold it is never remembered.
const ID_MARK = 'HERALDMESSAGEIDf41c9e';
const MAX_REMEMBERED = 1000;
const remembered = new Map<string, string>();

/**
 * Adds the UTM parameters a link does not have yet; `utm_id` is the message's id, so an order
 * placed after the click can name the message it came from (attribution by message id).
 * Every message of a template and campaign has the same links but for that id: each link is
 * parsed once, with a mark where the id goes, and the id is put in its place after.
 */
export const withUtm = (
  url: string,
  link: Pick<LinkContext, 'messageId' | 'medium' | 'campaign' | 'content'>,
): string => {
  if (
    !PLAIN_ID.test(link.messageId) ||
    [url, link.medium, link.campaign, link.content].some((part) => part.includes(ID_MARK))
  )
    return addUtm(url, link);
  // Lengths first: no two different sets of parts make the same key.
  const key = `${String(url.length)},${String(link.medium.length)},${String(link.campaign.length)}:${url}${link.medium}${link.campaign}${link.content}`;
  let marked = remembered.get(key);
  if (marked === undefined) {
    marked = addUtm(url, { ...link, messageId: ID_MARK });
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    remembered.set(key, marked);
  }
  return marked.replace(ID_MARK, link.messageId);
};

/** The signed click-tracking URL for a destination: `base/t/c/<token>`. */
export const clickUrl = (destination: string, link: LinkContext): string =>
  `${link.base}/t/c/${signToken(link.linkSecret, JSON.stringify({ m: link.messageId, u: destination }))}`;

/** The open pixel's URL: `base/t/o/<token>`. */
export const openPixelUrl = (link: LinkContext): string =>
  `${link.base}/t/o/${signMessageToken(link.linkSecret, 'o', link.messageId)}`;

// Only a web link has a host to track: `mailto:`, `tel:`, `sms:` … have none (their `host` is
// ''), and the click redirect follows http(s) only, so they stay as written.
const hostOf = (url: string): string | null => {
  try {
    const parsed = new URL(url.replace(/&amp;/g, '&'));
    return parsed.protocol === 'http:' || parsed.protocol === 'https:'
      ? parsed.host.toLowerCase()
      : null;
  } catch {
    return null;
  }
};

/** The hosts of the links written in these texts (a template's parts, the shop's URL). */
export const linkHostsIn = (texts: readonly string[]): Set<string> =>
  new Set(texts.flatMap((text) => (text.match(URL_PATTERN) ?? []).flatMap((u) => hostOf(u) ?? [])));

/**
 * The links a reader's client makes of text, as `trackLinks` reads them (a sentence's trailing
 * punctuation left out), but for one glued to a word before it (`xhttps://…`), which none makes.
 */
export const linksInText = (text: string): string[] =>
  [...text.matchAll(URL_PATTERN)].flatMap((m) => {
    const before = m.index === 0 ? '' : (text[m.index - 1] ?? '');
    return /[\p{L}\p{N}]/u.test(before)
      ? []
      : [m[0].slice(0, m[0].length - trailingOf(m[0]).length)];
  });

/** The hosts of the links an HTML part's `<a href>` and `<area href>` point to. */
export const htmlLinkHostsIn = (html: string): Set<string> =>
  new Set(htmlLinksIn(html).flatMap((url) => hostOf(url) ?? []));

/** A link's tracked form, or null when it stays as written (see `trackLinks`). */
const rewritten = (
  url: string,
  link: LinkContext,
  track: boolean,
  hosts: ReadonlySet<string>,
): string | null => {
  if (url.startsWith(`${link.base}/`)) return null;
  const host = hostOf(url);
  if (host === null || !hosts.has(host)) return null;
  const destination = withUtm(url, link);
  return track ? clickUrl(destination, link) : destination;
};

/**
 * `trackLinks` for an HTML part: the `href` of each `<a>` and `<area>`, its character
 * references decoded as a browser decodes them (`&#39;`, `&amp;`) before it is read, and the
 * new value escaped for the attribute.
 */
export const trackHtmlLinks = (html: string, link: LinkContext, hosts: ReadonlySet<string>) => {
  let out = '';
  let last = 0;
  for (const m of htmlLinkMatches(html)) {
    const tracked = rewritten(decodeHTMLAttribute(m.value).trim(), link, true, hosts);
    if (tracked === null) continue;
    out += `${html.slice(last, m.index)}${m.lead}"${escapeAttribute(tracked)}"`;
    last = m.end;
  }
  return last === 0 ? html : out + html.slice(last);
};

/**
 * Rewrites the links to `hosts` (those the template itself or the shop links to) to go through
 * a signed click redirect, with UTM parameters on their destination; links to Herald's own
 * pages, and links to any other host — one a customer's name or traits carry — stay as written:
 * a signed redirect to wherever a customer's data points would make Herald's domain an open
 * redirect. With `track` false (SMS, push), links only get their UTM parameters.
 */
export const trackLinks = (
  text: string,
  link: LinkContext,
  track: boolean,
  hosts: ReadonlySet<string>,
): string =>
  text.replace(URL_PATTERN, (match) => {
    // A markdown link whose text is its URL (`[https://…](https://…)`) is two links.
    const joined = match.indexOf('](');
    if (joined >= 0)
      return `${trackOne(match.slice(0, joined), link, track, hosts)}](${trackOne(
        match.slice(joined + 2),
        link,
        track,
        hosts,
      )}`;
    return trackOne(match, link, track, hosts);
  });

/** One link of text, tracked, with the sentence's punctuation after it left after it. */
const trackOne = (
  match: string,
  link: LinkContext,
  track: boolean,
  hosts: ReadonlySet<string>,
): string => {
  const trailing = trailingOf(match);
  const url = trailing === '' ? match : match.slice(0, -trailing.length);
  const tracked = rewritten(url, link, track, hosts);
  return tracked === null ? match : tracked + trailing;
};
