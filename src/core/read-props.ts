import type { JsonObject } from './event.js';
import { isoTimeMs } from './time.js';

/** Tolerant readers for event properties, which arrive from many SDKs in many shapes. */
export const asObject = (value: unknown): JsonObject | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : null;

export const asString = (value: unknown): string | null => {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
};

export const asNumber = (value: unknown): number | null => {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
};

/**
 * A yes or no as sources write it: `true`/`false`, `1`/`0`, and the words `true`, `false`,
 * `yes`, `no`, `1`, `0` in any case and with blanks around (`"FALSE"`, `"Yes"` from a CRM or a
 * spreadsheet: an opt-out written so must not be dropped).
 */
export const asBoolean = (value: unknown): boolean | null => {
  if (typeof value === 'boolean') return value;
  if (value === 1) return true;
  if (value === 0) return false;
  if (typeof value !== 'string') return null;
  const word = value.trim().toLowerCase();
  if (word === 'true' || word === 'yes' || word === '1') return true;
  if (word === 'false' || word === 'no' || word === '0') return false;
  return null;
};

// The words consent tools write for a yes or a no — Google Consent Mode's `granted`/`denied`,
// a preference centre's `opted-in`/`unsubscribed`, a cookie banner's `accepted`/`rejected` —
// as read with case, blanks, `-` and `_` set aside.
const CONSENT_WORDS = new Map<string, boolean>([
  ['granted', true],
  ['denied', false],
  ['optin', true],
  ['optedin', true],
  ['optout', false],
  ['optedout', false],
  ['subscribed', true],
  ['unsubscribed', false],
  ['accepted', true],
  ['declined', false],
  ['rejected', false],
  ['revoked', false],
  ['withdrawn', false],
  ['allow', true],
  ['allowed', true],
  ['deny', false],
  ['on', true],
  ['off', false],
  ['y', true],
  ['n', false],
]);

/** A word as written with case, blanks, `-` and `_` set aside: `Opted Out` and `opted-out` alike. */
export const looseWord = (text: string): string => text.toLowerCase().replace(/[\s_-]+/gu, '');

/**
 * A consent answer: a yes or no as `asBoolean` reads it, or one of the words consent tools write
 * (`"denied"`, `"Opted Out"`, `"unsubscribed"` …); null for anything else.
 */
export const asConsentAnswer = (value: unknown): boolean | null => {
  const plain = asBoolean(value);
  if (plain !== null || typeof value !== 'string') return plain;
  return CONSENT_WORDS.get(looseWord(value)) ?? null;
};

// Words that say no answer was given yet (a double opt-in not confirmed, a field never set):
// read as saying nothing, not refused.
const NO_ANSWER_WORDS: ReadonlySet<string> = new Set([
  'pending',
  'unknown',
  'unset',
  'notset',
  'none',
  'na',
  'n/a',
  '',
]);

/** Whether a consent value says no answer was given yet (`"pending"`, `"unknown"`, `""`). */
export const isNoConsentAnswer = (value: unknown): boolean =>
  typeof value === 'string' && NO_ANSWER_WORDS.has(looseWord(value));

/** The words `asConsentAnswer` reads, as an error names them. */
export const CONSENT_ANSWERS =
  'true/false, "yes"/"no", 1/0, "granted"/"denied", "opted-in"/"opted-out", "subscribed"/"unsubscribed", "accepted"/"rejected", "on"/"off"';

// The years a date read from an event may name, as for a date a person types
// (`parseDateInput`). A number beyond them is a time in other units — nanoseconds from a Go
// backend (1.7e18) lie outside the years JavaScript can represent, microseconds some 50,000
// years ahead — and one before them a placeholder: the zero time of Go and .NET (0001-01-01).
const EARLIEST_TIME_MS = Date.UTC(1900, 0, 1);
const LATEST_TIME_MS = Date.UTC(10000, 0, 1);
// Epoch milliseconds written as text: thirteen digits alone, as every time from September 2001
// to the year 2286 is written. Fewer or more may be a compact date and time (`202606031200`,
// `20260603120000`), which is no epoch time: read as ISO text, or not at all.
const EPOCH_DIGITS = /^\s*\d{13}\s*$/;

/**
 * Parses an ISO-8601 date (`isoTimeMs`) or epoch milliseconds (a number, or digits as text, as
 * CRM exports write them) in the years 1900 to 9999; null when absent, not a date, or outside
 * those years.
 */
export const asTimeMs = (value: unknown): number | null => {
  const ms =
    typeof value === 'number'
      ? value
      : typeof value === 'string'
        ? EPOCH_DIGITS.test(value)
          ? Number(value)
          : isoTimeMs(value)
        : Number.NaN;
  // NaN fails both comparisons, and each infinity one of them.
  return ms >= EARLIEST_TIME_MS && ms < LATEST_TIME_MS ? ms : null;
};

/** First present property among snake_case and camelCase spellings. */
export const pick = (props: JsonObject, ...keys: string[]): unknown => {
  for (const key of keys) {
    const value = props[key];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
};

/**
 * An amount in whole cents, half a cent rounded up as it is written: `1.005` × 100 is
 * 100.49999999999999 in binary, so the product is first read to 15 significant digits.
 */
export const toCents = (amount: number): number =>
  Math.round(Number((amount * 100).toPrecision(15)));

/** How many of a product a cart holds for an event's `quantity`: a whole number, at least 1. */
export const cartQuantityOf = (value: unknown): number =>
  Math.max(1, Math.round(asNumber(value) ?? 1));

/**
 * What a list of products adds to a cart, in cents: each one's price times its cart quantity
 * (`cartQuantityOf`), each line rounded to whole cents, as the open cart counts them; items that
 * are not objects count nothing.
 */
export const cartValueCents = (products: readonly unknown[]): number =>
  products.reduce<number>((sum, p) => {
    const product = asObject(p);
    if (product === null) return sum;
    return sum + toCents((asNumber(product['price']) ?? 0) * cartQuantityOf(product['quantity']));
  }, 0);

/** The properties an order event's id may be in, in the order they are read. */
export const ORDER_ID_KEYS = ['order_id', 'orderId', 'checkout_id'];
/** The properties a product's id may be in (a cart event's, or an order's `products`). */
export const PRODUCT_ID_KEYS = ['product_id', 'productId', 'id', 'sku'];

/** The order id of an order event's properties: `order_id`, `orderId` or `checkout_id`. */
export const orderIdIn = (props: JsonObject): string | null =>
  asString(pick(props, ...ORDER_ID_KEYS));

/**
 * The currency Herald keeps amounts in (`profile.currency`, an ISO 4217 code) and what one unit
 * of each other currency is worth in it (`profile.exchangeRates`), for order events that state
 * a `currency` of their own.
 */
export interface Money {
  currency: string;
  exchangeRates: Readonly<Record<string, number>>;
}

/**
 * The ISO 4217 code an event's `currency` names, in upper case; null when it names none (absent,
 * null or blank). One that is no text (`true`, an object) is `?`: a currency with no rate, not
 * the one amounts are kept in.
 */
export const currencyIn = (props: JsonObject): string | null => {
  const value = props['currency'];
  if (value === undefined || value === null) return null;
  const named = asString(value)?.trim().toUpperCase() ?? '';
  return named !== '' ? named : typeof value === 'string' ? null : '?';
};

/**
 * What one unit of `currency` is worth in `money.currency`: 1 for that currency itself or none
 * stated, the configured rate for another, null for one with no rate (its amounts cannot be
 * counted).
 */
export const rateOf = (currency: string | null, money: Money): number | null =>
  currency === null || currency === money.currency
    ? 1
    : Object.hasOwn(money.exchangeRates, currency)
      ? (money.exchangeRates[currency] ?? null)
      : null;

/**
 * An order event's value (`orderValueCents`) in cents of `money.currency`, converted at the
 * configured rate when the event states another currency; 0 — not counted — when that
 * currency has no rate, or the converted value is past what cents hold exactly
 * (docs/profiles.md, "Currencies").
 */
export const orderValueIn = (props: JsonObject, money: Money): number => {
  const rate = rateOf(currencyIn(props), money);
  return rate === null ? 0 : (centsAt(orderValueCents(props), rate) ?? 0);
};

/**
 * Cents of another currency in cents of the kept one, at `rate`; null past what cents hold
 * exactly. Ingest bounds an amount as sent: converted, it may pass that (a huge order in a
 * strong currency), and is then counted as one with no rate.
 */
export const centsAt = (cents: number, rate: number): number | null => {
  if (rate === 1) return cents;
  const converted = Math.round(cents * rate);
  return Number.isSafeInteger(converted) ? converted : null;
};

/**
 * Order value per the Segment e-commerce spec: total, else revenue, else value, else products.
 * Ingest refuses amounts that are not numbers of 0 or more; an event stored before that rule
 * may hold one, and it counts 0 — the amount it names, not the products instead (a negative
 * refund would otherwise raise the customer's spend).
 */
export const orderValueCents = (props: JsonObject): number => {
  const given = pick(props, 'total', 'revenue', 'value');
  if (given !== undefined && !(typeof given === 'string' && given.trim() === '')) {
    const amount = asNumber(given);
    return amount !== null && amount >= 0 ? toCents(amount) : 0;
  }
  const products = props['products'];
  if (!Array.isArray(products)) return 0;
  return products.reduce<number>((sum, p) => {
    const product = asObject(p);
    if (product === null) return sum;
    const price = asNumber(product['price']) ?? 0;
    // Whole cents for each line, not each unit: 500 at $0.015 is $7.50, and a quantity sold by
    // weight (1.5 kg) is a fraction.
    const line = price * (asNumber(product['quantity']) ?? 1);
    return line > 0 && Number.isFinite(line) ? sum + toCents(line) : sum;
  }, 0);
};
