/** `text` with Liquid tags (`{{ … }}`, `{% … %}`) replaced by spaces of the same length. */
export const maskLiquid = (text: string): string =>
  text.replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g, (tag) => ' '.repeat(tag.length));
