import { COUNTRY_CALLING_CODE, emailKey } from '../../../core/recipient.js';

/** A kind of personal data found in a text; the value itself is never reported. */
export type PiiKind = 'email' | 'phone' | 'card';

export interface PiiMatch {
  kind: PiiKind;
  /** Normalised: an e-mail address in lower case; a phone or card number as its digits. */
  normalised: string;
}

// An address is found from each `@` outwards (linear in the text): a regular expression that
// starts anywhere would retry every position of a long token (a tracking link) and take
// quadratic time.
const LOCAL_CHAR = /[\p{L}\p{N}._%+-]/u;
const DOMAIN_CHAR = /[\p{L}\p{N}.-]/u;
const DOMAIN = /^[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/u;

const emailsIn = (text: string): { start: number; end: number; domainAt: number }[] => {
  const found: { start: number; end: number; domainAt: number }[] = [];
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && LOCAL_CHAR.test(text.charAt(start - 1))) start -= 1;
    // A space after the `@` of an address written whole before it (`bob.smith@ gmail.com`)
    // hides it from no reader.
    let after = at + 1;
    if (start < at) while (after < at + 3 && text.charAt(after) === ' ') after += 1;
    let end = after;
    while (end < text.length && DOMAIN_CHAR.test(text.charAt(end))) end += 1;
    const domain = DOMAIN.exec(text.slice(after, end));
    if (start < at && domain !== null)
      found.push({ start, end: after + domain[0].length, domainAt: after - start });
  }
  return found;
};
// Digits joined by spaces, hyphens (the ASCII one, the Unicode hyphen, the non-breaking
// hyphen, the figure dash, the em dash), dots or slashes (up to three together: `867 - 5309`),
// with area codes in parentheses, optionally led by `+`. Not the en dash: it marks ranges
// (`01.06.–15.06.`, `129.90–249.90`), which would join into one long number. Letters may follow
// (an extension: `555-867-5309x204`, `5309ext12`), not precede (`B2B`, `x5f3a9c`).
const NUMBER = /(?<![\p{L}\p{N}])\+?\(?\d(?:\)?[ .\-\u2010-\u2012\u2014/]{0,3}\(?\d)*(?!\p{N})/gu;
// A card number laid out as cards print it — four groups of four (a fifth of up to three),
// Amex's 4-6-5 or Diners' 4-6-4 — with one separator throughout, the en dash, an underscore or
// an asterisk among them (`4111–1111–1111–1111`), which the phone pattern does not join. A card
// only when its digits pass the Luhn check. Not the comma: a list of years ("2023, 2024, 2025,
// 2026") passes it one time in ten.
const CARD_GROUPS =
  /(?<![\p{L}\p{N}])\d{4}(?:([ .\-\u2010-\u2014_*])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|([ .\-\u2010-\u2014_*])\d{6}\2\d{4,5})(?![\p{L}\p{N}])/gu;
// Links carry ids and tracking tokens, not phone numbers; clock times ("10:00") would join a
// date before them into one long number.
const LINK = /https?:\/\/\S+/giu;
const TIME = /(?<!\d)\d{1,2}:\d{2}(?!\d)/gu;

/** Luhn (ISO/IEC 7812-1): the check digit payment card numbers carry. */
export const passesLuhn = (digits: string): boolean => {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
};

/** The digits of a phone or card number; `(0)`, the trunk prefix printed after a country code, is dropped. */
export const digitsOf = (value: string): string => value.replace(/\(0\)/g, '').replace(/\D/g, '');

/**
 * E-mail addresses, phone numbers and payment card numbers in a text. A number of 13–19
 * digits that passes the Luhn check is a card; otherwise a number of 9–15 digits (the E.164
 * maximum) is a phone number, written internationally or nationally. Generated copy has no
 * business carrying long numbers, so an order number of that length reads as a phone number
 * too: the check errs towards blocking.
 */
export const findPii = (text: string): PiiMatch[] => {
  const found: PiiMatch[] = [];
  let withoutEmails = '';
  let from = 0;
  for (const { start, end, domainAt } of emailsIn(text)) {
    const address = text.slice(start, end);
    const written = `${address.slice(0, domainAt).trimEnd()}${address.slice(domainAt)}`;
    found.push({ kind: 'email', normalised: emailKey(written) });
    withoutEmails += `${text.slice(from, start)} `;
    from = end;
  }
  withoutEmails += text.slice(from);
  const numbers = withoutEmails.replace(LINK, ' ').replace(TIME, ' ');
  for (const m of numbers.matchAll(NUMBER)) {
    const digits = digitsOf(m[0]);
    if (digits.length >= 13 && digits.length <= 19 && passesLuhn(digits))
      found.push({ kind: 'card', normalised: digits });
    else if (digits.length >= 9 && digits.length <= 15)
      found.push({ kind: 'phone', normalised: digits });
    else for (const card of cardsWithin(m[0])) found.push({ kind: 'card', normalised: card });
  }
  const cards = new Set(found.flatMap((f) => (f.kind === 'card' ? [f.normalised] : [])));
  for (const m of numbers.matchAll(CARD_GROUPS)) {
    const digits = digitsOf(m[0]);
    if (digits.length >= 13 && digits.length <= 19 && passesLuhn(digits) && !cards.has(digits)) {
      cards.add(digits);
      found.push({ kind: 'card', normalised: digits });
    }
  }
  return found;
};

/**
 * The card numbers inside a run of digits too long to be one number, or failing the Luhn check
 * as a whole: a card next to its expiry date (`4111 1111 1111 1111 12/28`) or after a quantity
 * (`2 4111-1111-1111-1111`) joins into one run that reads as neither a card nor a phone number.
 * The run is cut where it was written apart, and every stretch of whole groups of 13–19 digits
 * is Luhn-tested; from each group the shortest stretch that passes is a card. Stretches that
 * overlap are all tested — skipping past one that passed by chance could step over the card —
 * so one card may be counted twice. A number of 16–19 digits that fails (an order number)
 * stays unflagged. A run of 9–15 digits is not cut: it is a phone number, which blocks unless
 * it is the recipient's own or allowed, and then every stretch of it is theirs too.
 */
const cardsWithin = (run: string): string[] => {
  const groups = run
    .replace(/\(0\)/g, ' ')
    .split(/\D+/)
    .filter((g) => g !== '');
  const cards: string[] = [];
  for (let first = 0; first < groups.length; first += 1) {
    let digits = '';
    // At most 19 digits from each group: linear in the run however long it is.
    for (let last = first; last < groups.length && digits.length <= 19; last += 1) {
      digits += groups[last] ?? '';
      if (digits.length >= 13 && digits.length <= 19 && passesLuhn(digits)) {
        cards.push(digits);
        break;
      }
    }
  }
  return cards;
};

/**
 * The other ways the same number is written: an international one (`00` as its prefix, or
 * none) without its country code, with and without the trunk `0` (`+43 1 2345678` as
 * `01 2345678` or `1 2345678`, `+1 555 555 0100` as `(555) 555-0100`); a national one without
 * its trunk `0`. The country code is read from the table, not guessed from the length: with
 * any 1–3 leading digits taken as one, `+43 1 2345678` would also be `031 2345678`, another
 * line in another town.
 */
const otherForms = (digits: string): string[] => {
  if (digits.startsWith('00')) return otherForms(digits.slice(2)).concat(digits.slice(2));
  if (digits.startsWith('0')) return [digits.slice(1)];
  const national = digits.replace(COUNTRY_CALLING_CODE, '');
  return national === '' ? [] : [national, `0${national}`];
};

/**
 * Whether two phone numbers are the same line: equal digits, or one another form of the other
 * (+49 30 1234567 and 030 1234567). Only whole forms match: a stranger's number that ends with
 * the same digits is someone else's.
 */
export const isSamePhone = (a: string, b: string): boolean =>
  a === b || otherForms(a).includes(b) || otherForms(b).includes(a);
