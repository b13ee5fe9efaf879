import { escapeRegExp } from '../../core/escape-reg-exp.js';
import type { ContentDocument } from './document.js';
import type { Incentive, Variant } from './compose.js';
import { isEnglishWord } from './english-words.js';
import { maskLiquidKeepingLiterals, normalise, wholeWords } from './text.js';
import {
  NUMBER_WORDS,
  inWords,
  isOneNumber,
  largeNumbers,
  numberWord,
  smallNumbers,
  valueOfWords,
} from '../../core/number-words.js';

export { NUMBER_WORDS };
import { foldedText } from '../../core/visible-text.js';

export type ClaimKind =
  'citation' | 'percentage' | 'price' | 'date' | 'number' | 'product-name' | 'code';

export interface GroundingProblem {
  /** The offending text as written in the variant (or the cited id). */
  claim: string;
  kind: ClaimKind;
  reason: string;
}

export type GroundingResult = { ok: true } | { ok: false; problems: GroundingProblem[] };

export interface GroundingOptions {
  /** Names the variant may state without a source, such as the brand's own name. */
  knownNames?: readonly string[];
}

interface Claim {
  text: string;
  kind: Exclude<ClaimKind, 'citation'>;
  /** Canonical form compared with the sources' facts of the same kind. */
  key: string;
}

const months = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const monthPattern =
  '(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)';
const monthOf = (name: string): number =>
  months.findIndex((m) => m.startsWith(name.toLowerCase().slice(0, 3))) + 1;

const amountOf = (digits: string): string => String(Number(digits.replace(/,/g, '')));

/** A day of the month in words ("fifth", "twenty-first", "thirtieth") by its number. */
const ordinals: Record<string, number> = Object.fromEntries(
  [
    'first second third fourth fifth sixth seventh eighth ninth tenth',
    'eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth',
    'nineteenth twentieth',
  ]
    .join(' ')
    .split(' ')
    .map((word, i) => [word, i + 1]),
);
ordinals['thirtieth'] = 30;
const ordinalPattern = `((?:(?:twenty|thirty)[\\s-]+)?(?:${Object.keys(ordinals).join('|')}))`;
/** The day an ordinal in words names: "twenty-first" is 21. */
const dayOfWords = (words: string): number => {
  const parts = words.toLowerCase().split(/[\s-]+/);
  const last = ordinals[parts.at(-1) ?? ''] ?? 0;
  return parts.length === 1 ? last : (parts[0] === 'thirty' ? 30 : 20) + last;
};
const weekdays = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** Currency marks (symbols, names) by the ISO code they stand for; a code stands for itself. */
const currencies: Record<string, string> = {
  $: 'USD',
  us$: 'USD',
  dollar: 'USD',
  dollars: 'USD',
  bucks: 'USD',
  c$: 'CAD',
  ca$: 'CAD',
  a$: 'AUD',
  au$: 'AUD',
  nz$: 'NZD',
  '€': 'EUR',
  euro: 'EUR',
  euros: 'EUR',
  '£': 'GBP',
  '¥': 'JPY',
  yen: 'JPY',
  '₹': 'INR',
  rupees: 'INR',
  // Never a weight, unlike "pounds".
  quid: 'GBP',
};
/** ISO 4217 codes Herald reads beside an amount (the currencies' own marks above too). */
const currencyCodes =
  'USD|EUR|GBP|CAD|AUD|NZD|JPY|CHF|SEK|NOK|DKK|PLN|CZK|INR|CNY|HKD|SGD|BRL|MXN|ZAR';
const currencyOf = (mark: string): string => {
  const m = mark.toLowerCase().replace(/\s+/g, '');
  return currencies[m] ?? m.toUpperCase();
};
/**
 * A currency symbol: letters before a `$` name their dollar (`US$`, `C$`, `HK$`; a mark this
 * file does not know stands for itself, never for US dollars), the others stand alone.
 */
const symbols = '(?:(?<![\\p{L}\\p{N}])([A-Za-z]{1,3}\\$)|([$€£¥₹]))';
// Not "pounds": as often a weight as a price.
const currencyWords = `(${currencyCodes}|dollars?|bucks|euros?|yen|rupees|quid)`;

/** Whether digits (and the separators between them) end the text just before a match. */
const afterDigits = (m: RegExpMatchArray): boolean => {
  const at = m.index ?? 0;
  return /\d[\s,.]*$/.test(m.input?.slice(Math.max(0, at - 8), at) ?? '');
};

const amount = '(\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?|\\d+(?:\\.\\d+)?)';

// A scale after an amount of money: "$20K", "$1.5M", "$2 bn", "20 thousand dollars" — read as
// the whole sum, so "$20K" is not grounded by a "$20" in a source.
/** The words of a scale after an amount of money (`scales`' keys), as a pattern. */
export const SCALE_WORDS = 'k|m|mn|bn|b|thousand|million|billion';
const scale = `(?:\\s?(${SCALE_WORDS})(?![\\p{L}\\p{N}]))?`;
const scales: Readonly<Record<string, number>> = {
  k: 1e3,
  thousand: 1e3,
  m: 1e6,
  mn: 1e6,
  million: 1e6,
  b: 1e9,
  bn: 1e9,
  billion: 1e9,
};
/** The share a fraction in words names, in percent. */
const fractions: Readonly<Record<string, number>> = {
  third: 33.33,
  quarter: 25,
  fifth: 20,
  tenth: 10,
};
/** The multiple a word names. */
const multiples: Readonly<Record<string, number>> = {
  double: 2,
  twice: 2,
  triple: 3,
  thrice: 3,
  quadruple: 4,
};
/** An amount with its scale, to the cent: `20` and `K` is 20000. */
const scaledAmountOf = (digits: string, scaleWord: string | undefined): string =>
  scaleWord === undefined
    ? amountOf(digits)
    : String(
        Math.round(
          Number(digits.replace(/,/g, '')) * (scales[scaleWord.toLowerCase()] ?? 1) * 100,
        ) / 100,
      );

// Words a day follows: "ends 6/30", "valid until 30/6", "from 6/1 to 6/30".
const DATE_CUE =
  /\b(?:until|till|by|ends?|ending|ended|on|from|through|thru|to|before|after|since|starting|starts?|expires?|expiring|valid|due|deadline|dated?)\s*:?\s*$/i;
/**
 * What may follow a day of the month written alone in words: the clause's end, a time, or "and"
 * or "or" before something other than another ordinal ("on the first and second purchase"
 * counts purchases).
 */
const AFTER_DAY_IN_WORDS = new RegExp(
  `\\s*(?:[.,;:!?)]|$|at\\b|until\\b|till\\b|(?:and|or)\\b(?!\\s+(?:the\\s+)?(?:(?:twenty|thirty)[\\s-]+)?(?:${Object.keys(ordinals).join('|')})\\b))`,
  'iy',
);
const endsDayInWords = (m: RegExpExecArray): boolean => {
  AFTER_DAY_IN_WORDS.lastIndex = m.index + m[0].length;
  return AFTER_DAY_IN_WORDS.test(m.input);
};
/** The text just before a match, where the words that lead into it stand. */
const textBefore = (m: RegExpExecArray, reach = 24): string =>
  m.input.slice(Math.max(0, m.index - reach), m.index);

/**
 * Whether a day and month without a year stand where a date would: after a word a date
 * follows. Without one, "24/7", "9/10 customers" or "4/5 stars" are figures, not days (read as
 * numbers, grounded as numbers are).
 */
const dateCueBefore = (m: RegExpExecArray): boolean => {
  const before = textBefore(m);
  // Or the end of a range that starts with a date: "7/1-7/15", "6/1 – 6/30".
  return DATE_CUE.test(before) || /\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?\s*[-–]\s*$/.test(before);
};

/** Whether a dashed date stands among other dashes or digits (a longer code, a phone number). */
const dashedAround = (m: RegExpExecArray): boolean =>
  /[-\p{N}]/u.test(m.input[m.index - 1] ?? '') ||
  /[-\p{N}]/u.test(m.input[m.index + m[0].length] ?? '');

/**
 * Whether a month's name, as written, is one: "may" and "march" in lower case are a verb and a
 * walk more often than a month ("you may first …", "50 may claim").
 */
const monthAsWritten = (name: string | undefined): boolean =>
  name === undefined || !/^(?:may|march|mar)$/.test(name);

// Words a period follows: a date's, and "in", "this", "next", "every", "during" … ("ends in
// July", "this Fri").
const PERIOD_CUE =
  /\b(?:until|till|by|ends?|ending|ended|on|from|through|thru|to|before|after|since|starting|starts?|expires?|expiring|valid|due|deadline|dated?|in|this|next|every|each|during|throughout|of|early|late|mid)\s*[:-]?\s*$/i;
/** Whether a day or month alone stands where a date would (`PERIOD_CUE` before it). */
const periodCueBefore = (m: RegExpExecArray): boolean => PERIOD_CUE.test(textBefore(m));

/**
 * The days a numeric date can name, as `month-day/year` (year empty when not written): "6/30"
 * only the 30th of June, "5/6" the 6th of May or the 5th of June, "2026/06/30" one day. None for
 * what no calendar has ("50/50", "13/13"), nor for a dotted one without its year ("4.99").
 */
const numericDateReadings = (m: RegExpExecArray): string[] => {
  const day = (month: number, date: number, year: string) =>
    month >= 1 && month <= 12 && date >= 1 && date <= 31 ? [`${month}-${date}/${year}`] : [];
  if (m[1] !== undefined) return day(Number(m[2]), Number(m[3]), m[1]);
  const [a, b, separator, written] = [Number(m[4]), Number(m[6]), m[5], m[7]];
  if (separator === '.' && written === undefined) return [];
  const year = written === undefined ? '' : written.length === 2 ? `20${written}` : written;
  return [...new Set([...day(a, b, year), ...day(b, a, year)])];
};

/** The dot of an abbreviated month ("5 Jun. 2026"), not a full stop after a month's name. */
const abbreviationDot = '(?:(?<=\\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec))\\.)?';

/** A count in an offer ("buy one", "3 for 2"): digits, or a word up to ten. */
const offerCount = `(\\d{1,2}|${Object.keys(smallNumbers)
  .filter((w) => w !== 'a' && (smallNumbers[w] ?? 0) <= 10)
  .join('|')})`;
const countOf = (written: string | undefined): number =>
  written === undefined ? 0 : (smallNumbers[written.toLowerCase()] ?? Number(written));
/** The items had and the items paid for in an offer the pattern above matched. */
const offerOf = (m: RegExpExecArray): [number, number] => {
  if (m[1] !== undefined) return [countOf(m[1]) + countOf(m[2]), countOf(m[1])];
  if (m[3] !== undefined) return [2, 1];
  return [countOf(m[4]), countOf(m[5])];
};

/** Whether a number in words matched at `m` is part of a name in title case ("Top Ten Picks"). */
const inTitleCaseName = (m: RegExpExecArray): boolean => {
  if (!/^\p{Lu}/u.test(m[0])) return false;
  // At a sentence's start a capital is grammar's, unless the next word has one too.
  const atStart = endsAt(sentenceBreak, m.input, m.index);
  return !atStart || /^[ \t]+\p{Lu}/u.test(m.input.slice(m.index + m[0].length));
};

/** The words that offer a code, in the cases they are written in ("code", "Promo", "COUPON"). */
const codeWord = `(?:${['promo', 'coupon', 'voucher', 'discount', 'code']
  .flatMap((w) => [w, `${w.slice(0, 1).toUpperCase()}${w.slice(1)}`, w.toUpperCase()])
  .join('|')})`;
// Where a code is typed, right after it: "at checkout", "in your cart".
const WHERE_TYPED =
  /^["'”’]?[ \t]+(?:at[ \t]+check[ -]?out|in[ \t]+(?:your|the)[ \t]+(?:cart|basket|bag))\b/i;
const codeVerb = `(?:${['use', 'enter', 'apply', 'redeem', 'type']
  .flatMap((w) => [w, `${w.slice(0, 1).toUpperCase()}${w.slice(1)}`, w.toUpperCase()])
  .join('|')})`;
/**
 * Whether a word after "code" is one: letters with a digit ("SAVE50", "x5f3a9c") or three
 * capitals or more ("WELCOME"); not a word ("code below") nor a number alone, read as a number.
 */
const isCodeLike = (word: string): boolean =>
  /\p{L}/u.test(word) &&
  (/\p{N}/u.test(word) || /^[\p{Lu}_-]{3,}$/u.test(word.split(/[ \t]/)[0] ?? ''));

/**
 * Claim extractors, in the order they run. Each one blanks out what it matched so that, say, the
 * 50 of "50%" is not read again as a bare number.
 */
const extractors: readonly {
  kind: Claim['kind'];
  pattern: RegExp;
  key: (m: RegExpExecArray) => string;
  /** Whether a match is a claim of this kind (when left out, every match is). */
  accept?: (m: RegExpExecArray) => boolean;
  /** The claim as named in a problem (when left out, the whole match). */
  text?: (m: RegExpExecArray) => string;
}[] = [
  {
    kind: 'price',
    // A code after a bare `$` names its dollar: "$200 CAD" is no price in US dollars.
    pattern: new RegExp(`${symbols}\\s?${amount}${scale}(?:\\s?(${currencyCodes})\\b)?`, 'giu'),
    key: (m) =>
      `${currencyOf((m[2] === '$' ? m[5] : undefined) ?? m[1] ?? m[2] ?? '$')}:${scaledAmountOf(m[3] ?? '', m[4])}`,
  },
  {
    // The mark after the amount, as much of Europe writes it: "200 €", "200€", "15 £".
    kind: 'price',
    pattern: new RegExp(`(?<![\\p{L}\\p{N}.,])${amount}${scale}\\s?([€£¥₹])`, 'giu'),
    key: (m) => `${currencyOf(m[3] ?? '$')}:${scaledAmountOf(m[1] ?? '', m[2])}`,
  },
  {
    kind: 'price',
    pattern: new RegExp(`\\b(${currencyCodes})\\s?${amount}${scale}`, 'giu'),
    key: (m) => `${currencyOf(m[1] ?? 'usd')}:${scaledAmountOf(m[2] ?? '', m[3])}`,
  },
  {
    kind: 'price',
    pattern: new RegExp(
      `\\b${amount}(?:\\s?(k|m|mn|bn|thousand|million|billion))?\\s?${currencyWords}\\b`,
      'gi',
    ),
    key: (m) => `${currencyOf(m[3] ?? 'usd')}:${scaledAmountOf(m[1] ?? '', m[2])}`,
  },
  {
    kind: 'price',
    pattern: new RegExp(`\\b${inWords}[\\s-]+${currencyWords}\\b`, 'gi'),
    key: (m) => `${currencyOf(m[2] ?? 'usd')}:${String(valueOfWords(m[1] ?? ''))}`,
  },
  {
    kind: 'percentage',
    pattern: new RegExp(`\\b${inWords}[\\s-]?(?:%|per[\\s-]?cent\\b)`, 'gi'),
    key: (m) => String(valueOfWords(m[1] ?? '')),
  },
  {
    // "Half price", "half off", "at half the price", "prices cut in half", "save half on": 50 %
    // (not "save half an hour", "pay half now", "your wait is cut in half");
    // "a third off", "one quarter off": 33.33 % and 25 %.
    kind: 'percentage',
    pattern:
      /\b(?:(half)[\s-]+(?:the[\s-]+)?(?:price|off)|(?:a|one)[\s-]+(third|quarter|fifth|tenth)[\s-]+(?:price|off)|(?:prices?|costs?)[\s-]+(?:are[\s-]+|is[\s-]+)?(?:cut|slashed)[\s-]+in[\s-]+(half)|(?:save|saving)[\s-]+(half)(?=[\s-]+(?:off|on)\b))\b/gi,
    key: (m) => (m[2] === undefined ? '50' : String(fractions[m[2].toLowerCase()] ?? 0)),
  },
  {
    // A fraction in figures ("½", read as 1⁄2, "1/3 off"): a share, in percent.
    kind: 'percentage',
    pattern: /(?<![\p{N}/⁄])(\d{1,2})\s?([⁄/])\s?(\d{1,2})(?![\p{N}/⁄])(?:[\s-]+(off|price)\b)?/giu,
    key: (m) => String(Math.round((Number(m[1]) / Number(m[3])) * 10_000) / 100),
    // "½" anywhere; "1/3" only before "off" or "price" (else a date or a rating: "9/10").
    accept: (m) =>
      Number(m[1]) > 0 && Number(m[1]) < Number(m[3]) && (m[2] === '⁄' || m[4] !== undefined),
  },
  {
    kind: 'percentage',
    // "pc" as written in lower case ("30pc off"): "30 PC games" are computers. Read after a
    // word too ("SAVE50%", "extra50% off"), and with a letter O for a zero after a digit
    // ("5O%" reads 50 %).
    pattern: /(?<![\p{N}.,])(\d[\dO]*(?:\.\d+)?)[\s-]?(?:%|per[\s-]?cent\b|pct\b|(pc)\b)/giu,
    key: (m) => amountOf((m[1] ?? '').replace(/o/gi, '0')),
    accept: (m) => m[2] === undefined || m[2] === 'pc',
  },
  {
    kind: 'date',
    pattern: /\b(\d{4})-(\d{2})-(\d{2})\b/g,
    key: (m) => `${Number(m[2])}-${Number(m[3])}/${m[1] ?? ''}`,
  },
  {
    // Numeric dates: "6/30", "30/6/2026", "2026/06/30", "30.06.2026", "06-30-2026" — every day
    // they can name (`numericDateReadings`), grounded when a source names one of them. Not a
    // fraction of digits inside a longer run, nor a dotted pair without its year (a price, a
    // version), nor a dashed one without a four-digit year (a range: "10-15").
    kind: 'date',
    pattern:
      /(?<![\p{N}./])(?:(\d{4})\/(\d{1,2})\/(\d{1,2})|(\d{1,2})([/.-])(\d{1,2})(?:\5(\d{4}|\d{2}))?)(?![\p{N}/]|\.\d)/gu,
    key: (m) => numericDateReadings(m).join('|'),
    accept: (m) =>
      numericDateReadings(m).length > 0 &&
      (m[5] !== '-' || (m[7]?.length === 4 && !dashedAround(m))) &&
      (m[4] === undefined || m[7] !== undefined || dateCueBefore(m)),
  },
  {
    kind: 'date',
    pattern: new RegExp(
      `\\b${monthPattern}\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b(?:,?\\s+(\\d{4})\\b)?`,
      'gi',
    ),
    key: (m) => `${monthOf(m[1] ?? '')}-${Number(m[2])}/${m[3] ?? ''}`,
    accept: (m) => monthAsWritten(m[1]),
  },
  {
    kind: 'date',
    pattern: new RegExp(
      `\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?${monthPattern}\\b${abbreviationDot}(?:,?\\s+(\\d{4})\\b)?`,
      'gi',
    ),
    key: (m) => `${monthOf(m[2] ?? '')}-${Number(m[1])}/${m[3] ?? ''}`,
    accept: (m) => monthAsWritten(m[2]),
  },
  {
    // A day in words: "the fifth of June", "the twenty-first of May, 2026"; without "of" after
    // a word a date follows ("starts sixth June", not "your first March order").
    kind: 'date',
    pattern: new RegExp(
      `(?:\\b[Tt]he\\s+)?\\b${ordinalPattern}\\s+(of\\s+)?${monthPattern}\\b${abbreviationDot}(?:,?\\s+(\\d{4})\\b)?`,
      'gi',
    ),
    key: (m) => `${monthOf(m[3] ?? '')}-${dayOfWords(m[1] ?? '')}/${m[4] ?? ''}`,
    accept: (m) =>
      monthAsWritten(m[3]) &&
      (m[2] !== undefined || DATE_CUE.test(textBefore(m, 28).replace(/\s*the\s+$/i, ''))),
  },
  {
    // "June fifth", "June the twenty-first, 2026".
    kind: 'date',
    pattern: new RegExp(
      `\\b${monthPattern}\\.?\\s+(?:the\\s+)?${ordinalPattern}\\b(?:,?\\s+(\\d{4})\\b)?`,
      'gi',
    ),
    key: (m) => `${monthOf(m[1] ?? '')}-${dayOfWords(m[2] ?? '')}/${m[3] ?? ''}`,
    accept: (m) => monthAsWritten(m[1]),
  },
  {
    // A day of the week ("ends Friday", "free delivery on Sundays") is a date the sources must
    // name: compared by the day, in any week.
    kind: 'date',
    pattern: /\b(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)days?\b/gi,
    key: (m) => `${(m[1] ?? '').toLowerCase()}day/`,
  },
  {
    // An abbreviated day after a word a date follows: "ends Sun.", "from Fri". Not the first
    // word of a name in title case ("the latest on Sun Care Essentials").
    kind: 'date',
    pattern: /\b(Mon|Tues?|Wed|Thu(?:rs?)?|Fri|Sat|Sun)\b(?![ \t]+\p{Lu})\.?/gu,
    key: (m) => `${weekdays.find((d) => d.startsWith((m[1] ?? '').toLowerCase())) ?? ''}/`,
    accept: (m) => periodCueBefore(m),
  },
  {
    // A day of the month alone after such a word: "ends on the 10th", "starts on the sixth"
    // (in words, where the clause ends or a time follows: not "to the first hundred buyers").
    kind: 'date',
    pattern: new RegExp(`(?<=\\bthe\\s+)(?:(\\d{1,2})(?:st|nd|rd|th)|${ordinalPattern})\\b`, 'gi'),
    key: (m) => `*-${m[1] === undefined ? dayOfWords(m[2] ?? '') : Number(m[1])}/`,
    accept: (m) =>
      DATE_CUE.test(textBefore(m, 28).replace(/\s*the\s+$/i, '')) &&
      (m[1] !== undefined || endsDayInWords(m)),
  },
  {
    // A month alone, with its year or after a word a period follows: "ends in July", "June
    // 2026" — grounded by a source naming any day of it (of that year, when given). Not the
    // first word of a name in title case ("more from June Picks").
    kind: 'date',
    // Case-sensitive (under `i`, \\p{Lu} takes any letter), so the months written in lower
    // case are their own choice: in full, and not "may" or "march" ("ends in july").
    pattern: new RegExp(
      `\\b(?:${monthPattern}|(january|february|april|june|july|august|september|october|november|december))\\b(?![ \\t]+\\p{Lu})${abbreviationDot}(?:,?\\s+(\\d{4})\\b)?`,
      'gu',
    ),
    key: (m) => `${monthOf(m[1] ?? m[2] ?? '')}-*/${m[3] ?? ''}`,
    accept: (m) => m[3] !== undefined || periodCueBefore(m),
  },
  {
    // So many for the price of fewer: "buy one, get one free", "BOGO", "3 for 2" — compared
    // as the pair, so "buy two, get one free" is "3 for 2".
    kind: 'number',
    pattern: new RegExp(
      `\\b(?:buy[\\s-]+${offerCount}[,\\s-]+get[\\s-]+${offerCount}[\\s-]+free\\b|(bogo)\\b|${offerCount}[\\s-]+for[\\s-]+(?:the[\\s-]+price[\\s-]+of[\\s-]+)?${offerCount}\\b)`,
      'gi',
    ),
    key: (m) => {
      const [total, paid] = offerOf(m);
      return `${total} for ${paid}`;
    },
    accept: (m) => {
      const [total, paid] = offerOf(m);
      return total > paid && paid > 0;
    },
  },
  {
    // A count or a span written in words ("only three left", "forty-eight hours"), from two up:
    // "one" alone is too often no number ("one day, you'll …", "no one left"), and "second"
    // alone an ordinal ("the twenty-second"). Not one written in title case, which is part of
    // a name ("the Seven Day Kit"), nor words that make no single number ("two-three days").
    kind: 'number',
    pattern: new RegExp(
      `\\b(?!one\\b(?![\\s-]+(?:hundred|thousand|million|billion)))${inWords}[\\s-]+(?:more[\\s-]+)?(?:left|remaining|to[\\s-]+go|seconds|(?:minute|hour|day|night|week|month|year|pound|cent|point|credit)s?|pence)\\b`,
      'gi',
    ),
    key: (m) => String(valueOfWords(m[1] ?? '')),
    accept: (m) => !/\p{Lu}/u.test(m[0].slice(1)) && isOneNumber(m[1] ?? ''),
  },
  {
    // Any other number in words from two up is a figure too ("fifty off", "ten thousand happy
    // customers", "two million shoppers", "five stars"): in digits it would be one. Not "one"
    // alone, nor a number starting at its scale ("thousand" of "200 thousand", read with its
    // digits below), nor one in title case that is part of a name ("the Ten Day Detox Kit",
    // "Top Ten Picks"), nor words that make no single number: nor their first word alone, so
    // "two-three days" and "twenty-four seven" claim nothing, as "twenty-second" (an ordinal).
    // "Two of a kind" is a likeness, not a count.
    kind: 'number',
    pattern: new RegExp(
      `(?<![\\p{L}\\p{N}'’-])(?!one\\b(?![\\s-]+(?:hundred|thousand|million|billion)))${inWords}(?![\\p{L}\\p{N}]|-\\p{L}|[\\s-]+${numberWord}\\b|[\\s-]+of[\\s-]+a[\\s-]+kind\\b)`,
      'giu',
    ),
    key: (m) => String(valueOfWords(m[1] ?? '')),
    accept: (m) => {
      const words = m[1] ?? '';
      const first = words.split(/[\s-]+/)[0]?.toLowerCase() ?? '';
      // A scale word after digits ("200 thousand") is read with them; alone ("the first
      // hundred buyers") it is a number of its own.
      const scale = first === 'hundred' || largeNumbers[first] !== undefined;
      return (
        !(scale && afterDigits(m)) &&
        valueOfWords(words) >= 2 &&
        isOneNumber(words) &&
        !inTitleCaseName(m)
      );
    },
  },
  {
    // A code after the word that offers it ("use code SAVE50", "promo: WELCOME10", "coupon
    // code x5f3a9c"): a claim only the incentive's code or a cited document grounds. Code-like:
    // with a digit, or in capitals (three or more); a run of such words in capitals is read
    // whole ("code SPRING SAVER15"), and a point inside one is part of it ("SAVE.20").
    kind: 'code',
    // Case-sensitive (under `i`, \\p{Lu} takes any letter): the words before a code in the
    // cases they are written in.
    pattern: new RegExp(
      `\\b${codeWord}(?:[\\s-]+${codeWord})?s?(?:[ \\t]+is\\b)?[ \\t]*[:=]?[ \\t]*["'“‘]?([\\p{L}\\p{N}][\\p{L}\\p{N}_-]*(?:\\.[\\p{L}\\p{N}_-]+)*(?:[ \\t]+(?=[\\p{Lu}_-]*\\p{N})[\\p{Lu}\\p{N}_-]+(?![\\p{L}\\p{N}_-]))*)`,
      'gu',
    ),
    key: (m) => normalise(m[1] ?? ''),
    accept: (m) => isCodeLike(m[1] ?? ''),
    text: (m) => m[1] ?? '',
  },
  {
    // A code the copy tells the reader to type, without the word "code": in capitals with a
    // digit ("use SAVE50", "apply WELCOME10"), or in capitals alone before where it is typed
    // ("use FREESHIP at checkout") — not a call to action in capitals ("APPLY TODAY").
    kind: 'code',
    pattern: new RegExp(
      `\\b${codeVerb}[ \\t]+["'“‘]?((?=[\\p{Lu}\\p{N}_-]*\\p{Lu})[\\p{Lu}\\p{N}][\\p{Lu}\\p{N}_-]{2,})(?![\\p{L}\\p{N}_-])`,
      'gu',
    ),
    key: (m) => normalise(m[1] ?? ''),
    accept: (m) =>
      /\p{N}/u.test(m[1] ?? '') ||
      (/^[\p{Lu}_-]{4,}$/u.test(m[1] ?? '') &&
        WHERE_TYPED.test(m.input.slice(m.index + m[0].length))),
    text: (m) => m[1] ?? '',
  },
  {
    // So many times as much: "double points", "triple the credits", "twice the rewards" —
    // compared with "2x", "3x" as written in digits.
    kind: 'number',
    pattern:
      /\b(double|triple|quadruple|twice|thrice)(?:[\s-]+(?:the|your))?[\s-]+(?:points?|credits?|rewards?|miles|cash[\s-]?back|savings?|discounts?|stamps|bonus(?:es)?|perks)\b/gi,
    key: (m) => `${String(multiples[(m[1] ?? '').toLowerCase()] ?? 0)}x`,
  },
  {
    kind: 'number',
    // Digits, and digits with a short unit or suffix ("48h", "5pm", "2nd", "3x", "4K"); not
    // those inside a word or a code ("B2B", "5f3a9c"). A multiple ("3x") is compared as one; a
    // scale ("200K", "50M", "2bn", "50 million") counts in the number, so "200K teams" is not
    // grounded by a source's "200" (a lower-case "m" is as often minutes or metres: not read).
    pattern:
      /(?<![\p{L}\p{N}_])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(×|\p{L}{0,3})(?![\p{L}\p{N}_])(?:\s+(thousand|million|billion)\b)?/giu,
    key: (m) => {
      const [digits = '', suffix = '', word] = [m[1], m[2], m[3]];
      if (/^[xX×]$/u.test(suffix)) return `${amountOf(digits)}x`;
      if (/^(?:k|K|M|B|mn|bn)$/u.test(suffix)) return scaledAmountOf(digits, suffix);
      return word !== undefined && suffix === '' ? scaledAmountOf(digits, word) : amountOf(digits);
    },
  },
];

const blank = (text: string, start: number, length: number): string =>
  text.slice(0, start) + ' '.repeat(length) + text.slice(start + length);

// A run of capitalised words (letters, digits, hyphens and apostrophes after a capital), or of
// words with a capital after their first lower-case letters ("iPhone", "eBook").
const nameWord = "(?:\\p{Lu}|\\p{Ll}+\\p{Lu})[\\p{L}\\p{N}'’-]*";
const capitalisedRun = new RegExp(`(?<![\\p{L}\\p{N}'’-])${nameWord}(?:[ \\t]+${nameWord})*`, 'gu');
// Such a word in a run: never capitalised by grammar, so always a name.
const startsLower = /^\p{Ll}/u;
// What ends a sentence, line or clause before a word (closing quotes and brackets after it,
// opening ones before the word), a list's mark and a Markdown heading's (at a line's start: a
// hashtag is no heading) included.
const breakBefore = String.raw`(?:^|[.!?:;—–•*\n]|\s-|(?:^|\n)[ \t]*#{1,6})["'”’)\]]*[\s"'“‘([]*`;
// Read backwards from a position (a lookbehind, sticky): testing `…$` against the text before
// each word scanned all of it every time, and a long document took time growing with the
// square of its length (205 KB: 8 s).
const sentenceBreak = new RegExp(`(?<=${breakBefore})`, 'uy');
/** Whether `pattern` (sticky, a lookbehind) matches just before `index` of `text`. */
const endsAt = (pattern: RegExp, text: string, index: number): boolean => {
  pattern.lastIndex = index;
  return pattern.test(text);
};
// Addresses name places, not products: left out before names are looked for — as
// `/\bhttps?:\/\/\S+|\S+@\S+\.\S+/giu` would blank them, one run of non-space at a time (the
// pattern tried every `@` of a run against the rest of it: a few thousand `@` took seconds,
// before 2026-12-07).
const WEB_ADDRESS = /\bhttps?:\/\/./iu;
const blankAddresses = (text: string): string =>
  text.replace(/\S+/gu, (run) => {
    // An email address: an `@` after the first character, a `.` at least two after it and
    // before the last.
    const at = run.indexOf('@', 1);
    if (at > 0 && run.lastIndexOf('.', run.length - 2) >= at + 2) return ' '.repeat(run.length);
    const web = run.search(WEB_ADDRESS);
    return web < 0 ? run : run.slice(0, web) + ' '.repeat(run.length - web);
  });

/**
 * Words capitalised mid-sentence that name no product: the pronoun, months and days (a date with
 * a day is a claim of its own), and the titles before a name.
 */
const notNames = new Set([
  'i',
  "i'm",
  "i've",
  "i'll",
  "i'd",
  ...months,
  ...['jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec'],
  ...weekdays,
  ...weekdays.map((day) => `${day}s`),
  ...['mon', 'tue', 'tues', 'wed', 'thu', 'thur', 'thurs', 'fri', 'sat', 'sun'],
  'ok',
  ...['mr', 'mrs', 'ms', 'mx', 'dr', 'prof'],
]);

/**
 * A single capitalised word mid-sentence names something ("the new Zephyr") when it has a
 * lower-case letter: one written all in capitals is an acronym or emphasis ("FREE", "PM"), and
 * one capital before a hyphen a shape ("T-shirt").
 */
const isSingleName = (word: string): boolean =>
  /\p{Ll}/u.test(word) &&
  !/^\p{Lu}-/u.test(word) &&
  !notNames.has(word.toLowerCase().replace(/’/g, "'"));

const greetings = new Set(['dear', 'hi', 'hello', 'hey']);
// A greeting and its comma at a sentence's start, before the words that follow.
const greetingBefore = new RegExp(
  `(?<=${breakBefore}(?:${[...greetings].join('|')})[ \\t]*,[ \\t]*)`,
  'iuy',
);
// Right after an allowed name, blanked to underscores ("Herald Store Team").
const afterAllowedName = /(?<=_[ \t]*)/y;
// Words for the reader a greeting may end in (a plural as its singular).
const readers = new Set(
  'customer shopper friend member subscriber reader client guest patron buyer insider user folks everyone everybody all team family community there'.split(
    ' ',
  ),
);
// What ends the clause after an addressee.
const clauseEnd = /^[ \t]*(?:[,!:.;—–\r\n]|$)/u;

/** A capitalised word that could be a name wherever it stands: no English word. */
const isRareName = (word: string): boolean => isSingleName(word) && !isEnglishWord(word);

/**
 * Product names:
 * - a run of two or more capitalised words ("Premium Widget", "Flash Sale Weekend Special");
 * - one capitalised word mid-sentence ("try the new Zephyr"), unless it is all capitals or one
 *   of `notNames`;
 * - a word with a capital inside after lower-case letters ("iPhone"), anywhere.
 * A run that opens a sentence, line or clause (after `. ! ? : ; — –`, a bullet or a heading's
 * `#`) loses its first word when that is an English word or all capitals, capitalised by
 * grammar or for emphasis ("Meet", "NEW"); one that is not names something ("Lumora is back").
 * Title case there is read the same way: after that first word, one word left is a name only
 * when it is no English word ("Meet Lumora", but not "Shop Now"). After a greeting, the words
 * addressing the reader are no name ("Dear Valued Customer,").
 */
const productNames = (text: string, unblanked: string, marked: string): Claim[] => {
  const claims: Claim[] = [];
  const rest = blankAddresses(text);
  for (const m of rest.matchAll(capitalisedRun)) {
    const written = m[0].split(/[ \t]+/);
    // Read where the text still has the claims and addresses blanked above (a date or an
    // address may end a sentence: "ends 5 March. Don't miss it"), and where it has not (one
    // may open it: "$20 Credit for you").
    const atStart =
      endsAt(sentenceBreak, unblanked, m.index) || endsAt(sentenceBreak, marked, m.index);
    const [first] = written;
    if (first === undefined) continue;
    // After a greeting that opens a sentence, up to the clause's end, English words or acronyms
    // that end in a word for the reader address the reader ("Dear Valued Customer,", "Hello,
    // Loyal Shoppers!"): they name nobody's product ("Hello Fall Collection" still does).
    const greeted =
      atStart && greetings.has(first.toLowerCase())
        ? written.slice(1)
        : endsAt(greetingBefore, rest, m.index)
          ? written
          : [];
    const reader = greeted.at(-1)?.toLowerCase() ?? '';
    const addressee =
      (readers.has(reader) || readers.has(reader.replace(/s$/u, ''))) &&
      greeted.every((w) => isEnglishWord(w) || !/\p{Ll}/u.test(w)) &&
      clauseEnd.test(rest.slice(m.index + m[0].length));
    if (addressee) continue;
    const grammatical = atStart && !startsLower.test(first) && !isRareName(first);
    const words = grammatical ? written.slice(1) : written;
    const [only] = words;
    // One word right after an allowed name ("Herald Store Team", "Herald Store Exclusive:") is
    // read as at a sentence's start: a name only when it is no English word.
    const afterKnown = written.length === 1 && endsAt(afterAllowedName, marked, m.index);
    const named =
      words.length >= 2 ||
      (only !== undefined &&
        (startsLower.test(only) ||
          (atStart || afterKnown ? isRareName(only) : isSingleName(only))));
    if (named) {
      const name = words.join(' ');
      // A possessive names the same thing ("Zephyr's").
      const key = normalise(name.replace(/['’]s$/u, ''));
      claims.push({ text: name, kind: 'product-name', key });
    }
  }
  return claims;
};

/**
 * Every concrete claim in `text` (Liquid tags ignored but for the literals they print, and
 * `allowed` strings, e.g. a code).
 */
export const extractClaims = (text: string, allowed: readonly string[] = []): Claim[] => {
  // As a reader sees it: `７０％` is 70 %, a non-breaking space a space.
  const masked = maskLiquidKeepingLiterals(foldedText(text));
  let rest = masked;
  // The same, with allowed phrases kept as marks: a word right after one ("Herald Store Vault
  // Pro") does not open a sentence.
  let marked = masked;
  // As whole words only: a code or a name built on an allowed one ("SPRING20X", "Lumorax") is a
  // claim of its own.
  for (const phrase of allowed) {
    if (phrase.trim() === '') continue;
    const whole = wholeWords(phrase, 'gu');
    rest = rest.replace(whole, (found) => ' '.repeat(found.length));
    marked = marked.replace(whole, (found) => '_'.repeat(found.length));
  }
  const claims: Claim[] = [];
  for (const { kind, pattern, key, accept, text: named } of extractors) {
    for (const m of [...rest.matchAll(new RegExp(pattern.source, pattern.flags))]) {
      if (accept?.(m) === false) continue;
      claims.push({ text: (named?.(m) ?? m[0]).trim(), kind, key: key(m) });
      rest = blank(rest, m.index, m[0].length);
      marked = blank(marked, m.index, m[0].length);
    }
  }
  // Blanking keeps every length, so positions in `rest` are positions in `masked`.
  return [...claims, ...productNames(rest, masked, marked)];
};

/** Two codes as a customer types them: alike but for case and the hyphen's form. */
const sameCode = (a: string, b: string): boolean =>
  a.replace(HYPHENS, '-').toLowerCase() === b.replace(HYPHENS, '-').toLowerCase();

interface Facts {
  keys: Record<Claim['kind'], Set<string>>;
  numbers: Set<string>;
  /**
   * The sources normalised piece by piece — a sentence, a list item, a keyword — the pieces
   * joined by ` | `, which no name's key holds: a name is grounded only by words one piece
   * puts together ("the Zephyr, Max or Lite plan" names no "Zephyr Max").
   */
  text: string;
  /** The sources as written, in lower case: where a code is looked for, character for character. */
  written: string;
}

// Where a source's pieces part: a sentence's or a clause's end (punctuation before a space or
// the end, not the point in "2.0"), a list's or a keyword's separator, brackets, dashes, and a
// line break — but one before a word in lower case, which only a wrapped sentence puts there.
// A name wrapped over two lines ("the Zephyr\nMax") is not read whole: a list, one item a
// line, writes the same ("Zephyr\nMax\nLite"), and a name no source states must not pass.
const PIECE_END = /[.,;:!?]+(?=\s|$)|[|/()[\]{}…–—•]|\r?\n(?!\s*\p{Ll})/u;
// The hyphens Unicode has besides the ASCII one (NFKC keeps U+2010, and turns U+2011 into it):
// a code a document writes "SAVE‑20" is the code "SAVE-20".
const HYPHENS = /[\u2010\u2011\u2012]/gu;

const factsOf = (sources: readonly string[]): Facts => {
  const keys: Facts['keys'] = {
    price: new Set(),
    percentage: new Set(),
    date: new Set(),
    number: new Set(),
    'product-name': new Set(),
    code: new Set(),
  };
  const numbers = new Set<string>();
  for (const source of sources) {
    for (const claim of extractClaims(source)) keys[claim.kind].add(claim.key);
    for (const digits of foldedText(source).match(/\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?/g) ??
      []) {
      numbers.add(amountOf(digits));
    }
  }
  const pieces = sources.flatMap((source) => foldedText(source).split(PIECE_END).map(normalise));
  return {
    keys,
    numbers,
    text: ` ${pieces.filter((p) => p !== '').join(' | ')} `,
    written: foldedText(sources.join('\n')).replace(HYPHENS, '-').toLowerCase(),
  };
};

const isGrounded = (claim: Claim, facts: Facts): boolean => {
  switch (claim.kind) {
    case 'price':
    case 'percentage':
      return facts.keys[claim.kind].has(claim.key);
    case 'date': {
      // A date without a year matches the same day in any year; one with a year must match it.
      // A numeric date names each day it can be read as (`|`): one reading in a source will do.
      // A month alone (`7-*`) is grounded by any day of it a source names, a day of the month
      // alone (`*-10`) by that day of any month; a source naming only a month grounds no day.
      const facts_ = [...facts.keys.date].flatMap((k) => k.split('|'));
      return claim.key.split('|').some((reading) => {
        const [day = '', year] = reading.split('/');
        const [month, date] = day.split('-');
        return facts_.some((k) => {
          const [factDay = '', factYear] = k.split('/');
          const [factMonth, factDate] = factDay.split('-');
          const sameDay =
            date === undefined // a day of the week
              ? factDay === day
              : (month === '*' || month === factMonth) && (date === '*' || date === factDate);
          return sameDay && (year === '' || factYear === year);
        });
      });
    }
    case 'number':
      // Written in digits in a source, or in words with a unit ("three days").
      return facts.numbers.has(claim.key) || facts.keys.number.has(claim.key);
    case 'product-name':
      return facts.text.includes(` ${claim.key} `);
    case 'code':
      // As written, whole: "SAVE-20" is no code of "Save 20% this spring".
      return new RegExp(
        `(?<![\\p{L}\\p{N}_-])${escapeRegExp(claim.text.replace(HYPHENS, '-').toLowerCase())}(?![\\p{L}\\p{N}_-])`,
        'u',
      ).test(facts.written);
  }
};

/**
 * Passes only if the variant cites at least one document, every cited id is in `citedDocs`, and
 * every percentage, price, date, bare number and product name in its subject, preheader, body
 * and CTA appears in a cited document (title, keywords, body) or in the incentive.
 */
export const checkGrounding = (
  variant: Pick<Variant, 'subject' | 'preheader' | 'body' | 'cta' | 'citations'>,
  citedDocs: readonly ContentDocument[],
  incentive: Incentive | null,
  options: GroundingOptions = {},
): GroundingResult => {
  const problems: GroundingProblem[] = [];
  if (variant.citations.length === 0) {
    problems.push({ claim: '', kind: 'citation', reason: 'the variant cites no document' });
  }
  const cited: ContentDocument[] = [];
  for (const id of variant.citations) {
    const doc = citedDocs.find((d) => d.id === id);
    if (doc === undefined) {
      problems.push({
        claim: id,
        kind: 'citation',
        reason: `cites ${id}, which is not a document retrieved for this copy (unknown, expired, not approved, or for another audience)`,
      });
    } else {
      cited.push(doc);
    }
  }
  const facts = factsOf([
    ...cited.flatMap((d) => [d.title, d.keywords.join(' | '), d.body]),
    ...(options.knownNames ?? []),
  ]);
  const incentiveKeys = incentive === null ? [] : [amountOf(String(incentive.percent))];
  const allowed = [...(incentive === null ? [] : [incentive.code]), ...(options.knownNames ?? [])];
  const fields = [variant.subject, variant.preheader, variant.body, variant.cta];
  const named = new Set<string>();
  for (const claim of fields.flatMap((field) => extractClaims(field, allowed))) {
    // A claim made twice (in the subject and the body) is named once.
    if (named.has(`${claim.kind} ${claim.text}`)) continue;
    named.add(`${claim.kind} ${claim.text}`);
    // The incentive grounds its own share only, not a count, a span or points of that size,
    // and its own code (written in another case, it is not blanked above).
    const fromIncentive =
      (claim.kind === 'percentage' && incentiveKeys.includes(claim.key)) ||
      (claim.kind === 'code' &&
        incentive !== null &&
        sameCode(claim.text, foldedText(incentive.code)));
    if (fromIncentive || isGrounded(claim, facts)) continue;
    problems.push({
      claim: claim.text,
      kind: claim.kind,
      reason: `${claim.text} (${claim.kind}) appears in no cited document${incentive === null ? '' : ' nor in the incentive'}`,
    });
  }
  return problems.length === 0 ? { ok: true } : { ok: false, problems };
};
