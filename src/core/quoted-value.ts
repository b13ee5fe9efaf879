/** A value as an error message quotes it: text in quotes, a list or a mapping by its kind. */
export const quotedValue = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value)
    : Array.isArray(value)
      ? 'a list'
      : typeof value === 'object' && value !== null
        ? 'a mapping'
        : String(value);
