/**
 * `text` with Liquid tags (`{{ … }}`, `{% … %}`) replaced by spaces of the same length, as
 * `/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g` would, in one walk: the pattern looked for a closer from
 * every opener to the end of the text, so copy of many `{{` and no `}}` took time growing with
 * the square of its length (80 KB, 1.4 s, before 2026-12-07).
 */
export const maskLiquid = (text: string): string => {
  let out = '';
  let last = 0;
  // Where no closer of each kind is left, once one was looked for and not found.
  let noOutputCloser = Number.POSITIVE_INFINITY;
  let noTagCloser = Number.POSITIVE_INFINITY;
  for (let at = text.indexOf('{', last); at >= 0 && at < text.length; at = text.indexOf('{', at)) {
    const next = text[at + 1];
    const closer = next === '{' ? '}}' : next === '%' ? '%}' : null;
    if (closer === null || at + 2 > (closer === '}}' ? noOutputCloser : noTagCloser)) {
      at += 1;
      continue;
    }
    const end = text.indexOf(closer, at + 2);
    if (end < 0) {
      if (closer === '}}') noOutputCloser = at + 2;
      else noTagCloser = at + 2;
      at += 1;
      continue;
    }
    out += text.slice(last, at) + ' '.repeat(end + 2 - at);
    last = end + 2;
    at = last;
  }
  return last === 0 ? text : out + text.slice(last);
};
