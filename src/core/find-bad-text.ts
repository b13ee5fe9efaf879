import type { FieldProblem } from './errors.js';

// JSON.stringify escapes NUL and lone surrogates, so one scan of the JSON finds both; and it
// writes a `__proto__` key JSON.parse made an own property, which a copy or a merge key by key
// would instead take for the object's prototype (a trait hidden from the profile's JSON, and
// read by every lookup: `traits.__proto__.email` became the address mail went to).
const suspicious = /\\u0000|\\ud[89a-f][0-9a-f]{2}|"__proto__"/i;
const PROTO_MESSAGE = 'is the key "__proto__", which no object can hold as data';
const badChar = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const describe = (text: string): string =>
  text.includes('\u0000')
    ? 'contains a NUL character (U+0000)'
    : 'contains an unpaired UTF-16 surrogate';

const walk = (value: unknown, path: string): FieldProblem | null => {
  if (typeof value === 'string')
    return badChar.test(value) ? { path, message: describe(value) } : null;
  if (typeof value !== 'object' || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (badChar.test(key)) return { path: childPath, message: `key ${describe(key)}` };
    if (key === '__proto__') return { path: childPath, message: PROTO_MESSAGE };
    const found = walk(child, childPath);
    if (found !== null) return found;
  }
  return null;
};

/**
 * Text PostgreSQL and most tools cannot store (NUL, unpaired surrogates), or a `__proto__` key,
 * with the field that holds it; null when the event is clean. `json` is the event already serialised: one scan of it
 * clears a clean event. Only then are `places` walked, in order, for the field to name — each
 * built on demand (the same text can sit in more than one; the first that holds it is named).
 */
export const findBadText = (
  json: string,
  places: () => Iterable<readonly [value: unknown, path: string]>,
): FieldProblem | null => {
  if (!suspicious.test(json)) return null;
  for (const [value, path] of places()) {
    const found = walk(value, path);
    if (found !== null) return found;
  }
  return null;
};
