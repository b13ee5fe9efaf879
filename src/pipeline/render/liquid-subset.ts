/**
 * Renders the part of Liquid that message templates mostly use, without liquidjs's machinery:
 * text, `{{ a.b }}`, `{{ a.b | default: "text" }}` and `{% if a.b %}…{% else %}…{% endif %}`.
 * liquidjs evaluates every template through generators, which made rendering the largest single
 * cost of guarding a message (a cart reminder's body took 16–30 µs, as the machine's speed drifted; here 0.4–0.6 µs).
 *
 * Exactly what liquidjs prints, with the renderer's options (`ownPropertyOnly`, Liquid's own
 * truthiness: only false, nil and undefined are false): a template, or any piece of one, outside
 * the subset compiles to null and liquidjs renders it, so only a template liquidjs has already
 * parsed is compiled here. `liquid-subset.test.ts` compares the two on random templates and
 * scopes. The scope is plain data (JSON values): no drops and no functions. Should one hold a
 * function or an object with `toLiquid` along a path, rendering gives up (undefined) and the
 * caller asks liquidjs, which would call them. In the `html` mode every output is escaped once,
 * as liquidjs does with `HTML_LIQUID_OPTIONS`.
 */

import { toValue } from 'liquidjs';

/** The options the renderer gives liquidjs: the subset matches liquidjs under these. */
export const LIQUID_OPTIONS = { strictFilters: true, ownPropertyOnly: true } as const;

/**
 * How a part's `{{ … }}` output is printed: as it is (`text`: subject, preheader, text, SMS,
 * push, WhatsApp, web), or HTML-escaped once (`html`: the email's HTML part, unless the last
 * filter is `raw`).
 */
export type OutputMode = 'text' | 'html';

const ESCAPABLE = /[&<>"']/;
// An `&` that does not start a character reference (`&amp;`, `&nbsp;`, `&#39;`, `&#x27;`), and
// the other characters markup is made of.
const UNESCAPED = /&(?![A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#[Xx][0-9A-Fa-f]+;)|[<>"']/g;
// The entities liquidjs's `escape` filter writes: what it printed is left as it is.
const ENTITY: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
  "'": '&#39;',
};

/**
 * Text made safe in HTML text and quoted attribute values, escaped once: `<`, `>`, quotes and an
 * `&` that starts no character reference become entities, and a character reference already
 * there stays as it is — so `{{ name | escape }}` prints as it did before the HTML part was
 * escaped by default, not `&amp;amp;`. Text with nothing to escape is returned as it is.
 */
export const escapeHtmlOnce = (text: string): string =>
  ESCAPABLE.test(text) ? text.replace(UNESCAPED, (c) => ENTITY[c] ?? c) : text;

// A value as liquidjs prints it (its `stringify`, which it does not export).
const printed = (value: unknown): string => {
  const v: unknown = toValue(value);
  return typeof v === 'string'
    ? v
    : v === null || v === undefined
      ? ''
      : Array.isArray(v)
        ? v.map(printed).join('')
        : // eslint-disable-next-line @typescript-eslint/no-base-to-string
          String(v);
};

/**
 * The options the renderer gives liquidjs for the HTML part: every output is escaped once
 * (`escapeHtmlOnce`) unless its last filter is `raw` — liquidjs adds the escape to each output
 * when it parses it, so an HTML part is parsed with these.
 */
export const HTML_LIQUID_OPTIONS = {
  ...LIQUID_OPTIONS,
  outputEscape: (value: unknown): string => escapeHtmlOnce(printed(value)),
} as const;

type Path = readonly string[];

type Piece =
  | string
  | { readonly path: Path; readonly fallback: string | null }
  | { readonly test: Path; readonly then: readonly Piece[]; readonly otherwise: readonly Piece[] };

export type SubsetTemplate = readonly Piece[];

// A key liquidjs reads as a literal or an operator, or answers specially (`size`, `first`,
// `last`): left to liquidjs wherever it appears in a path.
const SPECIAL = new Set([
  'true',
  'false',
  'nil',
  'null',
  'empty',
  'blank',
  'size',
  'first',
  'last',
  'and',
  'or',
  'not',
  'contains',
]);
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
// ASCII blanks only: JavaScript's \s and liquidjs's blanks differ beyond them (U+FEFF is a
// blank to one and part of a name to the other), so any other one sends the part to liquidjs.
const OUTPUT =
  /^[ \t\n\v\f\r]*([A-Za-z0-9_.]+)[ \t\n\v\f\r]*(?:\|[ \t\n\v\f\r]*default[ \t\n\v\f\r]*:[ \t\n\v\f\r]*(?:"([^"'\\{}%|]*)"|'([^"'\\{}%|]*)')[ \t\n\v\f\r]*)?$/;
const TAG = /^[ \t\n\v\f\r]*([a-z]+)(?:[ \t\n\v\f\r]+([A-Za-z0-9_.]+))?[ \t\n\v\f\r]*$/;

const pathOf = (text: string): Path | null => {
  if (!PATH.test(text)) return null;
  const path = text.split('.');
  return path.some((key) => SPECIAL.has(key)) ? null : path;
};

type Token = { text: string } | { output: string } | { tag: string };

const tokenize = (text: string): Token[] | null => {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const output = text.indexOf('{{', at);
    const tag = text.indexOf('{%', at);
    const start = output === -1 ? tag : tag === -1 ? output : Math.min(output, tag);
    if (start === -1) {
      tokens.push({ text: text.slice(at) });
      break;
    }
    if (start > at) tokens.push({ text: text.slice(at, start) });
    const isOutput = start === output;
    const end = text.indexOf(isOutput ? '}}' : '%}', start + 2);
    if (end === -1) return null;
    const inner = text.slice(start + 2, end);
    tokens.push(isOutput ? { output: inner } : { tag: inner });
    at = end + 2;
  }
  return tokens;
};

/** The template in the subset, or null when any of it is outside (liquidjs renders it). */
export const compileSubset = (text: string): SubsetTemplate | null => {
  const tokens = tokenize(text);
  if (tokens === null) return null;
  let next = 0;
  // Pieces up to the end, or up to an `else` / `endif` (returned as the stop).
  const sequence = (): { pieces: Piece[]; stop: string | null } | null => {
    const pieces: Piece[] = [];
    while (next < tokens.length) {
      const token = tokens[next] as Token;
      next += 1;
      if ('text' in token) {
        pieces.push(token.text);
        continue;
      }
      if ('output' in token) {
        const match = OUTPUT.exec(token.output);
        const path = match?.[1] === undefined ? null : pathOf(match[1]);
        if (match === null || path === null) return null;
        pieces.push({ path, fallback: match[2] ?? match[3] ?? null });
        continue;
      }
      const match = TAG.exec(token.tag);
      const [, name, argument] = match ?? [];
      if (name === 'else' || name === 'endif') {
        if (argument !== undefined) return null;
        return { pieces, stop: name };
      }
      if (name !== 'if' || argument === undefined) return null;
      const test = pathOf(argument);
      if (test === null) return null;
      const then = sequence();
      if (then === null || then.stop === null) return null;
      let otherwise: Piece[] = [];
      if (then.stop === 'else') {
        const rest = sequence();
        if (rest === null || rest.stop !== 'endif') return null;
        otherwise = rest.pieces;
      }
      pieces.push({ test, then: then.pieces, otherwise });
    }
    return { pieces, stop: null };
  };
  const all = sequence();
  return all === null || all.stop !== null ? null : all.pieces;
};

const GIVE_UP = Symbol('liquidjs');

const read = (scope: object, path: Path): unknown => {
  let value: unknown = scope;
  for (const key of path) {
    if (value === null || value === undefined) return value;
    if (typeof (value as { toLiquid?: unknown }).toLiquid === 'function') return GIVE_UP;
    value = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
    if (typeof value === 'function') return GIVE_UP;
  }
  return value;
};

const stringify = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : value === null || value === undefined
      ? ''
      : Array.isArray(value)
        ? value.map(stringify).join('')
        : // As liquidjs prints it: an object as `[object Object]`.
          // eslint-disable-next-line @typescript-eslint/no-base-to-string
          String(value);

const isFalsy = (value: unknown) => value === false || value === null || value === undefined;

const renderPieces = (
  pieces: readonly Piece[],
  scope: object,
  html: boolean,
): string | undefined => {
  let out = '';
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      out += piece;
      continue;
    }
    if ('path' in piece) {
      let value = read(scope, piece.path);
      if (value === GIVE_UP) return undefined;
      if (piece.fallback !== null) {
        const empty =
          typeof value === 'string' || Array.isArray(value) ? value.length === 0 : isFalsy(value);
        if (empty) value = piece.fallback;
      }
      out += html ? escapeHtmlOnce(stringify(value)) : stringify(value);
      continue;
    }
    const value = read(scope, piece.test);
    if (value === GIVE_UP) return undefined;
    const part = renderPieces(isFalsy(value) ? piece.otherwise : piece.then, scope, html);
    if (part === undefined) return undefined;
    out += part;
  }
  return out;
};

/**
 * The template rendered as liquidjs would (with `HTML_LIQUID_OPTIONS` in the `html` mode), or
 * undefined when liquidjs must render it — also when printing a value throws (an object whose
 * `toString` key is not a function), so that liquidjs reports it.
 */
export const renderSubset = (
  template: SubsetTemplate,
  scope: object,
  mode: OutputMode = 'text',
): string | undefined => {
  try {
    return renderPieces(template, scope, mode === 'html');
  } catch {
    return undefined;
  }
};
