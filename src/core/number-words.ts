// Numbers written in words, as copy states them: read by grounding (a claim in words is checked
// as in digits) and by the financial guardrail (a discount in words is banded as in digits).

export const smallNumbers: Record<string, number> = {
  a: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
/** The words that multiply what comes before them ("two million"), by what they multiply it by. */
export const largeNumbers: Readonly<Record<string, number>> = {
  thousand: 1e3,
  million: 1e6,
  billion: 1e9,
};
export const numberWord = `(?:${Object.keys(smallNumbers)
  .filter((w) => w !== 'a')
  .join('|')}|hundred|thousand|million|billion)`;
/** Every word of a number in words, as a pattern (what the composer never cuts in two). */
export const NUMBER_WORDS = numberWord;
/**
 * A number written in words ("twenty-five", "a hundred", "two hundred and fifty", "two
 * million"); "a" only before hundred, thousand, million or billion, "and" only after hundred or
 * thousand ("ten and twenty percent" is two numbers). At most twelve words follow the first: no
 * number is longer, and unbounded, a long run of number words made each start backtrack
 * through all of it (quadratic in the copy).
 */
export const inWords = `((?:a[\\s-]+(?=hundred|thousand|million|billion))?${numberWord}(?:(?:(?<=hundred|thousand)[\\s-]+and)?[\\s-]+${numberWord}){0,12})`;

/** The value of a number written in words (`inWords`). */
export const valueOfWords = (words: string): number => {
  let total = 0;
  let current = 0;
  for (const word of words.toLowerCase().split(/[\s-]+/)) {
    const large = largeNumbers[word];
    if (word === 'hundred') current = (current === 0 ? 1 : current) * 100;
    else if (large !== undefined) {
      total += (current === 0 ? 1 : current) * large;
      current = 0;
    } else current += smallNumbers[word] ?? 0;
  }
  return total + current;
};

type NumberPart = 'unit' | 'teen' | 'ten' | 'hundred' | 'large';
const partOf = (word: string): NumberPart => {
  if (word === 'hundred') return word;
  if (largeNumbers[word] !== undefined) return 'large';
  const value = smallNumbers[word] ?? 0;
  return value >= 20 ? 'ten' : value >= 10 ? 'teen' : 'unit';
};
// What may follow each part of one number: "twenty-four", "two hundred and five", "three
// thousand two hundred", "two million"; not "two-three" or "twenty-four seven", which are two
// numbers.
const follows: Record<NumberPart, readonly NumberPart[]> = {
  unit: ['hundred', 'large'],
  teen: ['hundred', 'large'],
  ten: ['unit', 'hundred', 'large'],
  hundred: ['unit', 'teen', 'ten', 'large'],
  large: ['unit', 'teen', 'ten'],
};
/** Whether words matched by `inWords` make one number, not several side by side. */
export const isOneNumber = (words: string): boolean => {
  const parts = words
    .toLowerCase()
    .split(/[\s-]+/)
    .filter((w) => w !== 'and' && w !== 'a')
    .map(partOf);
  // After a ten's unit ("twenty-four"), only hundred or thousand.
  return parts.every((part, i) => {
    const before = parts[i - 1];
    if (before === undefined) return true;
    if (before === 'unit' && parts[i - 2] === 'ten') return part === 'hundred' || part === 'large';
    return follows[before].includes(part);
  });
};
