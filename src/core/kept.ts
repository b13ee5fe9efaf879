/**
 * The value a bounded cache keeps for `key`, made (and kept) the first time it is asked for.
 * Past `max` entries the cache starts again empty: what it keeps is worked out again, never
 * wrong, and a long-running process does not grow without end.
 */
export const keptIn = <K, V>(cache: Map<K, V>, key: K, make: () => V, max = 10_000): V => {
  const known = cache.get(key);
  if (known !== undefined) return known;
  const made = make();
  if (cache.size >= max) cache.clear();
  cache.set(key, made);
  return made;
};
