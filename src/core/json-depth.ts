/**
 * The deepest nesting Herald takes in an event's properties, traits or context, or a send's
 * data: far beyond any real payload, and far short of where serialising it (recursive in V8)
 * would overflow the stack — a 500 the sender retries for ever, failing every event with it.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` holds an object or array nested `MAX_JSON_DEPTH` or more levels below it. */
const tooDeep = (value: unknown, depth: number): boolean => {
  if (typeof value !== 'object' || value === null) return false;
  if (depth >= MAX_JSON_DEPTH) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (tooDeep(item, depth + 1)) return true;
    return false;
  }
  for (const key in value)
    if (tooDeep((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
};

/** The path to the first place `value` goes too deep, once it is known to. */
const pathTooDeep = (value: unknown, path: string, depth: number): string | null => {
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= MAX_JSON_DEPTH) return path;
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((item, i) => [String(i), item])
    : Object.entries(value);
  for (const [key, child] of entries) {
    if (!tooDeep(child, depth + 1)) continue;
    return pathTooDeep(
      child,
      `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`,
      depth + 1,
    );
  }
  return null;
};

/**
 * Where (a JSON Pointer below `path`) `value` holds an object or array nested deeper than
 * `MAX_JSON_DEPTH` levels, or null when it does not. Never recurses deeper than the limit
 * itself; the path is only built for a value that goes too deep.
 */
export const tooDeepAt = (value: unknown, path: string): string | null =>
  tooDeep(value, 0) ? pathTooDeep(value, path, 0) : null;

/** The problem of a value nested too deeply, named at the first place it goes too deep. */
export const tooDeepMessage = `is nested deeper than ${String(MAX_JSON_DEPTH)} levels`;
