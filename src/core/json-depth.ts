/**
 * The deepest nesting Herald takes in an event's properties, traits or context, or a send's
 * data: far beyond any real payload, and far short of where serialising it (recursive in V8)
 * would overflow the stack — a 500 the sender retries for ever, failing every event with it.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Where (a JSON Pointer below `path`) `value` holds an object or array nested deeper than
 * `MAX_JSON_DEPTH` levels, or null when it does not. Stops looking at that depth, so it never
 * recurses deeper than the limit itself.
 */
export const tooDeepAt = (value: unknown, path: string, depth = 0): string | null => {
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= MAX_JSON_DEPTH) return path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = tooDeepAt(value[i], `${path}/${String(i)}`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const key in value) {
    const found = tooDeepAt(
      (value as Record<string, unknown>)[key],
      `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`,
      depth + 1,
    );
    if (found !== null) return found;
  }
  return null;
};

/** The problem of a value nested too deeply, named at the first place it goes too deep. */
export const tooDeepMessage = `is nested deeper than ${String(MAX_JSON_DEPTH)} levels`;
