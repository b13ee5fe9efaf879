import { MAX_JSON_DEPTH, tooDeepAt } from './json-depth.js';

/** A value as an error message quotes it: text in quotes, a list or a mapping by its kind. */
export const quotedValue = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value)
    : Array.isArray(value)
      ? 'a list'
      : typeof value === 'object' && value !== null
        ? 'a mapping'
        : String(value);

/**
 * A value as JSON, cut to `max` characters, for an answer that quotes what was sent; one nested
 * deeper than `MAX_JSON_DEPTH` by its kind instead. `JSON.stringify` recurses: a list a few
 * thousand deep (12 KB, under every limit) overflowed the stack, and the request it came in
 * failed whole, its valid events with it.
 */
export const quotedJson = (value: unknown, max: number): string =>
  tooDeepAt(value, '') === null
    ? ((JSON.stringify(value) as string | undefined) ?? String(value)).slice(0, max)
    : `${quotedValue(value)} nested deeper than ${String(MAX_JSON_DEPTH)} levels`;
