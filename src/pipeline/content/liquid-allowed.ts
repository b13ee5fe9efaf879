/**
 * The Liquid generated copy may hold: what the composer itself writes. A variant's copy is
 * rendered with the customer's data when its message is made, so a model that writes
 * `{{ customer.email }}` would print it into a campaign; only these survive.
 */

/** Variables generated copy may print: the reader's first name, the shop link. */
export const allowedLiquidVariables = ['customer.firstName', 'links.shop'] as const;
/** Filters it may apply: `default` with one quoted literal (read by grounding for claims). */
export const allowedLiquidFilters = ['default'] as const;

export interface LiquidProblem {
  /** The Liquid as written in the variant. */
  claim: string;
  kind: 'liquid';
  reason: string;
}

export type LiquidCheck = { ok: true } | { ok: false; problems: LiquidProblem[] };

const BLANK = '[ \\t\\n\\v\\f\\r]*';
// `{{ name }}` or `{{ name | default: "text" }}`, with optional whitespace control; the literal
// holds no quote, brace, percent sign or pipe, so it cannot close or open another tag.
const ALLOWED_OUTPUT = new RegExp(
  `^\\{\\{-?${BLANK}([A-Za-z_][\\w.]*)${BLANK}(?:\\|${BLANK}(\\w+)${BLANK}:${BLANK}(?:"[^"'{}%|\\\\]*"|'[^"'{}%|\\\\]*')${BLANK})?-?\\}\\}`,
);
const OPENER = /\{\{|\{%/g;

/** The text of a tag from its opener to its closer (or a short run when it never closes). */
const tagAt = (text: string, at: number): string => {
  const closer = text.startsWith('{{', at) ? '}}' : '%}';
  const end = text.indexOf(closer, at + 2);
  return end === -1 ? text.slice(at, at + 40) : text.slice(at, end + 2);
};

const problemWith = (tag: string): LiquidProblem => {
  if (tag.startsWith('{%')) {
    const name = /^\{%-?\s*(\w+)/.exec(tag)?.[1] ?? '?';
    return {
      claim: tag,
      kind: 'liquid',
      reason: `uses the Liquid tag ${name}: generated copy may hold no tag`,
    };
  }
  if (!tag.endsWith('}}'))
    return { claim: tag, kind: 'liquid', reason: 'opens a Liquid output it never closes' };
  const inner = tag.replace(/^\{\{-?|-?\}\}$/g, '').trim();
  const variable = /^[A-Za-z_][\w.]*/.exec(inner)?.[0];
  const allowed = `only ${allowedLiquidVariables.join(' and ')}, with default, may be printed`;
  if (variable === undefined || !(allowedLiquidVariables as readonly string[]).includes(variable))
    return {
      claim: tag,
      kind: 'liquid',
      reason: `prints ${variable ?? inner}, which generated copy may not use: ${allowed}`,
    };
  const filters = [...inner.matchAll(/\|\s*(\w+)/g)].map((m) => m[1] ?? '');
  const other = filters.find((f) => !(allowedLiquidFilters as readonly string[]).includes(f));
  return {
    claim: tag,
    kind: 'liquid',
    reason:
      other === undefined
        ? `is not of the form {{ ${variable} | default: "…" }}`
        : `applies the filter ${other}, which generated copy may not use: ${allowed}`,
  };
};

/**
 * Checks every Liquid output and tag in a variant's subject, preheader, body and CTA against
 * what the composer writes: `{{ customer.firstName }}` and `{{ links.shop }}`, bare or with
 * `| default: "…"`. Any other variable, filter or tag — or a `{{` / `{%` that does not close —
 * is a problem, named as written (each once).
 */
export const checkLiquid = (variant: {
  subject: string;
  preheader: string;
  body: string;
  cta: string;
}): LiquidCheck => {
  const problems: LiquidProblem[] = [];
  const named = new Set<string>();
  for (const text of [variant.subject, variant.preheader, variant.body, variant.cta]) {
    for (const match of text.matchAll(OPENER)) {
      const at = match.index;
      const output = ALLOWED_OUTPUT.exec(text.slice(at));
      if (
        output !== null &&
        (allowedLiquidVariables as readonly string[]).includes(output[1] ?? '') &&
        (output[2] === undefined || (allowedLiquidFilters as readonly string[]).includes(output[2]))
      )
        continue;
      // An opener inside an allowed output cannot occur: its literal holds no brace.
      const tag = tagAt(text, at);
      if (named.has(tag)) continue;
      named.add(tag);
      problems.push(problemWith(tag));
    }
  }
  return problems.length === 0 ? { ok: true } : { ok: false, problems };
};
