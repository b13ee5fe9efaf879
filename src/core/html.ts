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

/** The links of an HTML part, their character references decoded as a browser decodes them. */
export const htmlLinksIn = (html: string): string[] =>
  [...html.matchAll(HTML_LINK)].map((m) => decodeHTMLAttribute(m[2] ?? m[3] ?? m[4] ?? '').trim());

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
