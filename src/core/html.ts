import { decodeHTMLAttribute } from 'entities';
/** Text made safe inside HTML text and attribute values (`&`, `<`, `>`, quotes as entities). */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);

/**
 * The `href` of an `<a>` or `<area>` element, or of an Outlook VML button (`<v:roundrect>`,
 * `<v:rect>`): the links a reader follows in HTML (an image's `src`, a namespace, a stylesheet
 * are not: loading them is no click). Quoted values of attributes before it are stepped over
 * whole (a `>` in a title), and `href` (or SVG's `xlink:href`) must be an attribute of its own —
 * after a space, a `/` (`<a/href=…>`) or a quoted value (`class="b"href=…`), as browsers read
 * it, never `data-href`. Groups: 1 what comes before the value, 2–4 the value double-quoted,
 * single-quoted or bare.
 */
export const HTML_LINK =
  /(<(?:a|area|v:roundrect|v:rect)\b(?:[^>"']|"[^"]*"|'[^']*')*?(?:[\s/]|(?<=["']))(?:xlink:)?href\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/giu;

/**
 * An HTML comment, ended as the HTML tokenizer ends one: `<!-->` and `<!--->` are empty, `--!>`
 * closes one too, and one left open runs to the end.
 */
export const HTML_COMMENT = /<!--(?:-?>|[\s\S]*?(?:--!?>|$))/gu;

/** `html` with each comment's characters as spaces: a tag's place found in it is the tag's in `html`. */
export const withoutComments = (html: string): string =>
  html.includes('<!--') ? html.replace(HTML_COMMENT, (c) => ' '.repeat(c.length)) : html;

/**
 * Where the body of an HTML part ends, for what goes last in it (the marketing footer, the open
 * pixel): before its last `</body>` outside comments, in any case (`</BODY>`), else before its
 * last `</html>`, else at the end. A `</body>` a comment mentions is no end: the footer put
 * there was inside the comment, its unsubscribe link and address unseen.
 */
export const bodyEndOf = (html: string): number => {
  const shown = withoutComments(html);
  for (const tag of [/<\/body\s*>/giu, /<\/html\s*>/giu]) {
    let at = -1;
    for (const found of shown.matchAll(tag)) at = found.index;
    if (at >= 0) return at;
  }
  return html.length;
};

/** One link `HTML_LINK` finds: where it is, what comes before its value, and the value. */
export interface HtmlLinkMatch {
  index: number;
  /** Where the match ends: after the value (and its closing quote). */
  end: number;
  /** The element's text up to its value (`HTML_LINK`'s first group). */
  lead: string;
  value: string;
  quote: '"' | "'" | '';
}

const LINK_ELEMENT = /<(?:a|area|v:roundrect|v:rect)\b/giu;
const SPACE = /\s/u;
const HREF = /(?:xlink:)?href\s*=\s*/iuy;

/**
 * The links `HTML_LINK` matches, found in time proportional to the HTML's length. The pattern
 * tries each `<a` from where it stands to the next `>` outside quotes, so copy holding many
 * `<a` and no `>` took time growing with the square of its length (32 KB took over a second,
 * before 2026-12-07). The same walk, from each element the pattern would try: at each step the
 * `href` that may follow (after white space or `/`, or right after a quoted value), else the
 * next character or quoted value; and since where a walk goes from a step depends on that step
 * alone, a step an earlier failed walk passed through fails again at once.
 */
export const htmlLinkMatches = (html: string): HtmlLinkMatch[] => {
  const found: HtmlLinkMatch[] = [];
  const failed = new Uint8Array(html.length + 1);
  /** The link whose `href` starts at `k`, or null. */
  const hrefAt = (start: number, k: number): HtmlLinkMatch | null => {
    HREF.lastIndex = k;
    if (!HREF.test(html)) return null;
    const at = HREF.lastIndex;
    const first = html[at];
    if (first === '"' || first === "'") {
      const close = html.indexOf(first, at + 1);
      if (close < 0) return null;
      return {
        index: start,
        end: close + 1,
        lead: html.slice(start, at),
        value: html.slice(at + 1, close),
        quote: first,
      };
    }
    let end = at;
    while (end < html.length && !SPACE.test(html[end] ?? '') && !`"'>`.includes(html[end] ?? ''))
      end += 1;
    if (end === at) return null;
    return {
      index: start,
      end,
      lead: html.slice(start, at),
      value: html.slice(at, end),
      quote: '',
    };
  };
  LINK_ELEMENT.lastIndex = 0;
  for (let m = LINK_ELEMENT.exec(html); m !== null; m = LINK_ELEMENT.exec(html)) {
    const start = m.index;
    const walked: number[] = [];
    let i = start + m[0].length;
    let match: HtmlLinkMatch | null = null;
    while (failed[i] !== 1) {
      walked.push(i);
      const c = html[i];
      if (c !== undefined && (SPACE.test(c) || c === '/')) match = hrefAt(start, i + 1);
      const before = html[i - 1];
      if (match === null && (before === '"' || before === "'")) match = hrefAt(start, i);
      if (match !== null) break;
      if (c === undefined || c === '>') break;
      if (c === '"' || c === "'") {
        const close = html.indexOf(c, i + 1);
        if (close < 0) break;
        i = close + 1;
      } else i += 1;
    }
    if (match === null) {
      for (const step of walked) failed[step] = 1;
      LINK_ELEMENT.lastIndex = start + 1;
      continue;
    }
    found.push(match);
    LINK_ELEMENT.lastIndex = match.end;
  }
  return found;
};

/** The links of an HTML part, their character references decoded as a browser decodes them. */
export const htmlLinksIn = (html: string): string[] =>
  htmlLinkMatches(html).map((m) => decodeHTMLAttribute(m.value).trim());

// Schemes that run code or load content in place instead of leading somewhere. Others (an app's
// deep link, `webcal:`, `whatsapp:`) open what the reader's system has for them.
const UNSAFE_SCHEMES = new Set([
  'javascript',
  'jscript',
  'livescript',
  'vbscript',
  'mocha',
  'data',
  'file',
  'blob',
  'filesystem',
]);

/**
 * The scheme of a link no message should carry (`javascript`, `data`, `vbscript`, `file` …), as
 * a browser reads it — tabs and line breaks inside dropped, controls and spaces before it
 * skipped (`java&#9;script:` is `javascript:`); null for any other.
 */
export const unsafeSchemeOf = (url: string): string | null => {
  const read = url
    .replace(/[\t\n\r]/g, '')
    .replace(/^[\u0000-\u0020]+/, '')
    .toLowerCase();
  const scheme = /^([a-z][a-z0-9+.-]*):/.exec(read)?.[1];
  return scheme !== undefined && UNSAFE_SCHEMES.has(scheme) ? scheme : null;
};
