/**
 * Finds the Liquid outputs of an HTML part that escaping cannot keep in place. `escapeHtmlOnce`
 * turns `&`, `<`, `>` and quotes into entities: enough in text and in a quoted attribute value,
 * not where the value is read as something else. Outside quotes, a space or `=` in a trait adds
 * attributes (`alt={{ name }}` with `Ann onerror=…`); in a `style` attribute the browser decodes
 * `&#39;` before CSS reads it, and in a `<style>` element nothing is decoded but `;`, `{` and `}`
 * are CSS's own, so a trait adds declarations; likewise JavaScript in `on…` attributes and
 * `<script>`, and HTML in `srcdoc`. The context is read from the template's text in order, the
 * way a browser's tokenizer reads the rendered HTML (Liquid tags print nothing; both branches of
 * an `{% if %}` are read one after the other).
 */

import { defaultOptions, TypeGuards, type TagToken, Tokenizer } from 'liquidjs';

/** Where an output stands that escaping does not keep in place. */
export type UnsafePlace =
  | { kind: 'unquoted-attribute'; tag: string; attribute: string }
  | { kind: 'tag-markup'; tag: string }
  | { kind: 'code-attribute'; tag: string; attribute: string }
  | { kind: 'code-element'; tag: string };

export interface UnsafeOutput {
  /** The Liquid as written: `{{ customer.firstName }}`, `{% echo note %}`. */
  liquid: string;
  /** Its line in the part, from 1. */
  line: number;
  place: UnsafePlace;
}

/** The place in words, for an error: `the unquoted value of attribute alt of <img>`. */
export const describePlace = (place: UnsafePlace): string => {
  switch (place.kind) {
    case 'unquoted-attribute':
      return `the unquoted value of attribute ${place.attribute} of <${place.tag}>`;
    case 'tag-markup':
      return `the markup of a tag${place.tag === '' ? '' : ` <${place.tag}>`}, outside any quoted value`;
    case 'code-attribute':
      return `the ${place.attribute} attribute of <${place.tag}>`;
    case 'code-element':
      return `a <${place.tag}> element`;
  }
};

// Attributes whose value the browser hands to another language once it has decoded it.
const isCodeAttribute = (name: string): boolean =>
  name === 'style' || name === 'srcdoc' || /^on/.test(name);
// Elements whose text is not HTML: up to their end tag, `<` starts no tag. Not `<noscript>`:
// that is text only where scripts run, and no mail client runs them — there it is markup.
const RAW_TEXT = new Set([
  'style',
  'script',
  'xmp',
  'iframe',
  'noembed',
  'noframes',
  'textarea',
  'title',
]);
const CODE_ELEMENTS = new Set(['style', 'script']);

// Stands for one output in the part's HTML while the HTML is read (a private-use character).
const MARK = '\uE000';

/** An output of the part: what it is, and whether its value is printed as it is (`raw`). */
interface Printed {
  liquid: string;
  line: number;
  raw: boolean;
}

const endsWithRaw = (filters: readonly { name: string }[]): boolean =>
  filters[filters.length - 1]?.name === 'raw';

/** A tag, or a line of `{% liquid %}`. */
type TagLike = Pick<TagToken, 'name' | 'tokenizer'>;

// Whether `{% echo … %}` (or an `echo` line of `{% liquid %}`) prints its value as it is.
const echoIsRaw = (tag: TagLike): boolean => {
  tag.tokenizer.skipBlank();
  return !tag.tokenizer.end() && endsWithRaw(tag.tokenizer.readFilteredValue().filters);
};

/**
 * The part's HTML with a mark for each output, and the outputs in order. Only outputs print a
 * value: `{{ … }}`, `echo` (also in `{% liquid %}`) and `cycle` (whose values cannot be marked
 * `raw` one by one, so it always counts as escaped); a `{% raw %}` block is HTML, and a
 * `{% comment %}` block prints nothing.
 */
const markOutputs = (part: string): { html: string; outputs: Printed[] } => {
  const tokens = new Tokenizer(part).readTopLevelTokens(defaultOptions);
  const outputs: Printed[] = [];
  let html = '';
  let inComment = false;
  const lineOf = (at: number) => part.slice(0, at).split('\n').length;
  for (const token of tokens) {
    if (inComment) {
      if (TypeGuards.isTagToken(token) && token.name === 'endcomment') inComment = false;
      continue;
    }
    if (TypeGuards.isHTMLToken(token)) {
      html += token.getContent().replaceAll(MARK, ' ');
      continue;
    }
    const liquid = token.getText();
    const line = lineOf(token.begin);
    if (TypeGuards.isOutputToken(token)) {
      const value = new Tokenizer(part, undefined, undefined, token.contentRange);
      outputs.push({ liquid, line, raw: endsWithRaw(value.readFilteredValue().filters) });
      html += MARK;
      continue;
    }
    if (!TypeGuards.isTagToken(token)) continue;
    const tag: TagLike = token;
    if (tag.name === 'comment') inComment = true;
    const lines: readonly TagLike[] =
      tag.name === 'liquid' ? tag.tokenizer.readLiquidTagTokens() : [tag];
    for (const tag of lines) {
      if (tag.name !== 'echo' && tag.name !== 'cycle') continue;
      outputs.push({ liquid, line, raw: tag.name === 'echo' && echoIsRaw(tag) });
      html += MARK;
    }
  }
  return { html, outputs };
};

const isSpace = (c: string | undefined) =>
  c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r';
const isLetter = (c: string | undefined) => c !== undefined && /^[A-Za-z]$/.test(c);

/**
 * The place of each mark in `html` that escaping does not keep in place (null where it does):
 * a reading of HTML's tokenizer states (data, tags, attribute names and values, comments,
 * Outlook's conditional comments read as HTML, raw-text elements).
 */
const placesOfMarks = (html: string): (UnsafePlace | null)[] => {
  const places: (UnsafePlace | null)[] = [];
  let at = 0;
  // Marks from `at` up to `end` stand where `place` says.
  const skip = (end: number, place: UnsafePlace | null) => {
    for (let i = html.indexOf(MARK, at); i !== -1 && i < end; i = html.indexOf(MARK, i + 1))
      places.push(place);
    at = end;
  };
  const endOf = (text: string, from: number) => {
    const i = html.indexOf(text, from);
    return i === -1 ? html.length : i + text.length;
  };
  while (at < html.length) {
    const c = html[at];
    if (c === MARK) {
      places.push(null);
      at += 1;
      continue;
    }
    if (c !== '<') {
      at += 1;
      continue;
    }
    const next = html[at + 1];
    if (html.startsWith('<!--', at)) {
      // Outlook reads what its conditional comments hold as HTML: so is it read here.
      const conditional = /^<!--\[if[^\]]*\]>/i.exec(html.slice(at, at + 200));
      if (conditional !== null) {
        skip(at + conditional[0].length, { kind: 'tag-markup', tag: '' });
        continue;
      }
      // `<!-->` and `<!--->` end where they start; a `>` in a value is escaped, so it cannot end one.
      const empty = /^<!---?>/.exec(html.slice(at, at + 6));
      skip(empty === null ? endOf('-->', at + 4) : at + empty[0].length, null);
      continue;
    }
    if (next === '!' || next === '?') {
      // A doctype, `<![endif]-->`, CDATA and the like: up to the next `>`.
      skip(endOf('>', at), null);
      continue;
    }
    const closing = next === '/';
    const nameAt = at + (closing ? 2 : 1);
    if (html[nameAt] === MARK) {
      // `<{{ x }}`: a value starting with a letter makes a tag.
      places.push({ kind: 'tag-markup', tag: '' });
      at = nameAt + 1;
      continue;
    }
    if (!isLetter(html[nameAt])) {
      at = nameAt;
      continue;
    }
    let i = nameAt;
    while (i < html.length && !isSpace(html[i]) && html[i] !== '/' && html[i] !== '>') i += 1;
    const tag = html.slice(nameAt, i).toLowerCase();
    const markup: UnsafePlace = { kind: 'tag-markup', tag: tag.replaceAll(MARK, '') };
    skip(i, markup);
    // Attributes, up to the tag's end.
    while (at < html.length && html[at] !== '>') {
      if (isSpace(html[at]) || html[at] === '/') {
        at += 1;
        continue;
      }
      let end = at + 1;
      while (end < html.length && !isSpace(html[end]) && !'/>='.includes(html[end] ?? '')) end += 1;
      const attribute = html.slice(at, end).toLowerCase();
      skip(end, markup);
      while (isSpace(html[at])) at += 1;
      if (html[at] !== '=') continue;
      at += 1;
      while (isSpace(html[at])) at += 1;
      const quote = html[at];
      const code = isCodeAttribute(attribute)
        ? ({ kind: 'code-attribute', tag, attribute } as const)
        : null;
      if (quote === '"' || quote === "'") {
        at += 1;
        skip(endOf(quote, at), code);
        continue;
      }
      let valueEnd = at;
      while (valueEnd < html.length && !isSpace(html[valueEnd]) && html[valueEnd] !== '>')
        valueEnd += 1;
      skip(valueEnd, { kind: 'unquoted-attribute', tag, attribute });
    }
    at = Math.min(at + 1, html.length);
    if (closing || !RAW_TEXT.has(tag)) continue;
    const endTag = new RegExp(`</${tag}[\\s/>]`, 'i').exec(html.slice(at));
    skip(
      endTag === null ? html.length : at + endTag.index,
      CODE_ELEMENTS.has(tag) ? { kind: 'code-element', tag } : null,
    );
  }
  return places;
};

/** An unsafe output in words, for an error naming the template and the part before it. */
export const describeUnsafeOutput = ({ liquid, line, place }: UnsafeOutput): string =>
  `line ${String(line)}: ${liquid} is printed in ${describePlace(place)}, where escaping cannot keep a value in place (quote the attribute, keep customer data out of CSS and scripts, or end with | raw for trusted HTML)`;

/**
 * The outputs of an HTML part that print a value escaping cannot keep where it stands (see
 * above), unless their last filter is `raw`: the template's author vouches for those. Throws
 * when the part is not Liquid (liquidjs's own error).
 */
export const findUnsafeOutputs = (part: string): UnsafeOutput[] => {
  const { html, outputs } = markOutputs(part);
  const places = placesOfMarks(html);
  if (places.length !== outputs.length)
    throw new Error(`read ${String(places.length)} places for ${String(outputs.length)} outputs`);
  return outputs.flatMap(({ liquid, line, raw }, i) => {
    const place = places[i] ?? null;
    return raw || place === null ? [] : [{ liquid, line, place }];
  });
};
