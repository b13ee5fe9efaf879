import type { Guardrail, Verdict } from '../guard-types.js';
import { pass, verdict, type GuardMessage } from '../guard-types.js';
import { visibleCopy } from './visible-copy.js';
import { inWords, isOneNumber, smallNumbers, valueOfWords } from '../../../core/number-words.js';

const NAME = 'financial';

// A percentage: "40%", "40 percent", "12,5 per cent", "40 per-cent", "40 pct".
const PERCENT = /(\d{1,3}(?:[.,]\d+)?)\s*(?:%|per[\s-]*cent\b|pct\b)/giu;
// What makes one a discount, after it: "40% off", "40%-off", "40 percent discount" … and a
// share taken on the whole of a sale: "40% on all jackets", "40% on everything" (not "98% on
// time", "100% on your side"); a sale or prices named by it: "40% sale", "40% lower prices",
// "a 40% price cut" (not "80% lower costs" of running something).
const DISCOUNT_AFTER =
  /^[\s\p{Pd}:]*(?:off\b|discount|reduction|savings?\b|rebate|markdown|on\s+(?:all|everything|sitewide|storewide|select(?:ed)?)\b|sale\b|(?:less|lower)\s+prices?\b|price\s+(?:cuts?|drops?|reductions?)\b)/iu;
// … or before it: "save 40%", "take an extra 40% off", "up to 40%", "prices cut by 40%",
// "discounted 30%".
const DISCOUNT_BEFORE =
  /\b(?:save|saving|savings|take|get|extra|discount(?:ed|s)?(?:\s+(?:of|by))?|(?:reduced|cut|slashed|lowered|marked\s+down|knocked\s+down)\s+by|up\s+to)\s+(?:an?\s+)?(?:extra\s+|additional\s+)?(?:up\s+to\s+)?$/iu;
// … or less of the price: after what is paid, "pay 40% less", "prices 40% lower", "get them
// for 40% less", the word ending its clause or followed by the prices it names or by when,
// where or how often the offer holds ("pay 70% less every month", "prices 40% lower until
// Sunday"); "40% cheaper" alone, only with when or where it holds ("70% cheaper during the
// sale", "70% cheaper sitewide"), not how often ("80% cheaper a year to run", "70% cheaper
// per mile"). Not what is saved of something else ("for 30% less sugar", "80% less energy",
// "running costs 40% lower": what a thing costs to run is no price cut).
const OFFER_HOLDS = String.raw`(?=\s*(?:[!.,;:)]|$)|\s+(?:prices?|on|for|than|this|these|today|tonight|until|till|now|at|in|with|when|while|during|across|sitewide|storewide|site-wide|store-wide|everywhere|off)\b`;
const LESS_PAID = new RegExp(
  String.raw`^\s*(?:less|lower|cheaper)\b${OFFER_HOLDS}|\s+(?:every|each|a|an|per)\b)`,
  'iu',
);
const CHEAPER_HOLDS = new RegExp(String.raw`^\s*cheaper\b${OFFER_HOLDS})`, 'iu');
const PRICE_BEFORE = /\b(?:pay(?:ing)?|prices?|for)(?:\s+(?:are|is|now|just|up\s+to))*\s+$/iu;
// … or a sale's own figure, standing alone at the end of its clause: "Summer sale — 40%!",
// "Clearance: 30%." (not "Summer Sale! 40% of our range", "Clearance: 100% cotton").
const SALE_BEFORE = /\b(?:sale|clearance|promo(?:tion)?|markdowns?)[\s\p{Pd}:!,]*$/iu;
const CLAUSE_END = /^\s*(?:[!.,;)]|$)/u;
// … or a label before it, as a receipt or a price tag writes it: "Discount: 40%".
const LABEL_BEFORE = /\bdiscount\s*:\s*$/iu;
// … or a minus sign attached to it, after a space or at the start (not a range, "20-50%", nor a
// dash between clauses, "back – 90% of you"): "everything -50%".
const MINUS_BEFORE = /(?:^|[\s(])[-\u2212]$/u;
// Discounts in words, with the share they give: "half price", "half off", "buy one, get one free"
// ("2 for 1" is left out: "pack for 2 for 1 week" is no offer).
// Each is tried only on copy holding its word (a search of the copy in lower case, much cheaper
// than a case-insensitive pattern run over all of it).
const WORDED: readonly (readonly [string, RegExp, number])[] = [
  ['half', /\bhalf[\s\p{Pd}]*(?:price|off)\b/u, 50],
  ['bogo', /\bbogof?\b/u, 50],
];
// "Buy one, get one free", "buy 1 get 1 free", "buy two, get one free": the share given is
// what is free of all that is taken (50 %, 50 %, 33.3 %).
const countOf = (word: string | undefined): number =>
  smallNumbers[word ?? ''] ?? Number(word ?? 'NaN');
const BUY_GET_FREE =
  /\bbuy\s+(one|two|three|four|five|[1-9])\b[\s,]*get\s+(one|two|three|[1-9])\s+free\b/gu;
const freeShareIn = (lower: string): number | null => {
  let most: number | null = null;
  if (!lower.includes('free')) return most;
  for (const m of lower.matchAll(BUY_GET_FREE)) {
    const bought = countOf(m[1]);
    const free = countOf(m[2]);
    const share = Math.round((1000 * free) / (bought + free)) / 10;
    if (Number.isFinite(share) && (most === null || share > most)) most = share;
  }
  return most;
};
// A percentage in words ("fifty percent off", "twenty-five per cent"), read as its figure so
// the checks of the figures apply to it (words that make no single number are left as written).
const PERCENT_IN_WORDS = new RegExp(String.raw`\b${inWords}(?=[\s\p{Pd}]*per[\s-]*cent\b)`, 'giu');
const figuresOfWords = (text: string): string =>
  text.replace(PERCENT_IN_WORDS, (words: string) =>
    isOneNumber(words) ? String(valueOfWords(words)) : words,
  );
// An amount off ("$20 off", "€15 discount"), and the order it is taken from, when stated just
// after it ("… any $40 order", "… orders over $40", "… a purchase of $40").
// An amount is written with its currency before it ("$20", "USD 20", "US$20") or after it
// ("20€", "20 EUR", "20 dollars"; not "pounds", as often a weight: "10 pounds off by summer").
// Thousands may be grouped ("$1,000", "€1.000,50"): read whole, not as "1" then stray digits,
// which let "$1,000 off any $1,200 order" through as no discount at all.
const FIGURE = String.raw`(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d{1,6}(?:[.,]\d{1,2})?)`;
const CODES = 'USD|EUR|GBP|CAD|AUD|CHF';
const MONEY = String.raw`(?:(?:[$€£]|\bUS\$|\b(?:${CODES}))\s?${FIGURE}|${FIGURE}\s?(?:[$€£]|(?:${CODES}|dollars?|euros?)\b))`;
// What lies between a discount and its order: no other figure or currency sign.
const GAP = String.raw`[^$€£\d]`;
// Found from the word ("off", "discount": rare in copy, a scan for them is cheap), then the
// amount read just before it — not an amount tried at every digit of the copy.
// A voucher or coupon is an amount off too ("a $25 voucher for orders over $100"; alone, one a
// person looks at: "a $50 coupon on us" — a receipt's "one $50 voucher for Sam" is one bought,
// which the person tells apart).
const OFF_WORD = /\b(?:off\b|discount|voucher|coupon)/gi; // without `u`: ten times faster a scan
const MONEY_BEFORE = new RegExp(String.raw`${MONEY}\s*$`, 'iu');
// … or an amount saved, after the word: "Save $50", "save up to €20 on orders over €100" (not
// "time-saving $30 gadget").
const SAVE_WORD = /(?<![a-z-])sav(?:e|ing)\b/gi;
const MONEY_AFTER = new RegExp(
  String.raw`^\s+(?:up\s+to\s+)?(?:an?\s+)?(?:extra\s+|additional\s+)?${MONEY}`,
  'iu',
);
// Room for the longest amount MONEY reads ("US$ 123456.78 ").
const MONEY_REACH = 24;
// … or the order's amount right before the word: "£15 off £20 orders".
const AMOUNT_BASE = new RegExp(
  String.raw`^${GAP}{0,40}?\b(?:orders?|purchases?|spend|basket|cart)\b${GAP}{0,12}?${MONEY}|^${GAP}{0,12}?\b(?:any|a|an|your)\s+${MONEY}|^\s*${MONEY}\s+(?:orders?|purchases?|spend|baskets?|carts?)\b`,
  'iu',
);
// The longest lead-in DISCOUNT_BEFORE can match in copy whose white space is folded, with room.
const LEAD_IN = 64;

/**
 * The largest discount the copy itself states (subject, text and HTML, as a reader sees them):
 * a template or generated copy may promise one the decision's incentive does not carry, and it
 * is held to the same limits. Null when it states none.
 */
export const discountInCopy = (content: GuardMessage['content']): number | null =>
  content === null ? null : statedIn(visibleCopy(content), true);

/**
 * The largest discount the copy offers: as `discountInCopy`, but not one it only labels
 * ("Discount: 10%" on a receipt reports what was applied; it offers nothing).
 */
export const offerInCopy = (content: GuardMessage['content']): number | null =>
  content === null ? null : statedIn(visibleCopy(content), false);

const statedIn = (copy: string, labels: boolean): number | null => {
  let most: number | null = null;
  const text = /cent/i.test(copy) ? figuresOfWords(copy) : copy;
  // Each percentage is found first (a scan for digits), then read in its context: much cheaper
  // than trying every lead-in word at every position of the copy.
  for (const match of text.matchAll(PERCENT)) {
    const percent = Number((match[1] ?? '').replace(',', '.'));
    if (!Number.isFinite(percent) || percent > 100 || (most !== null && percent <= most)) continue;
    const at = match.index;
    const end = at + match[0].length;
    const before = text.slice(Math.max(0, at - LEAD_IN), at);
    if (
      DISCOUNT_AFTER.test(text.slice(end, end + LEAD_IN)) ||
      DISCOUNT_BEFORE.test(before) ||
      (CLAUSE_END.test(text.slice(end, end + 2)) && SALE_BEFORE.test(before)) ||
      MINUS_BEFORE.test(before) ||
      (PRICE_BEFORE.test(before) && LESS_PAID.test(text.slice(end, end + LEAD_IN))) ||
      CHEAPER_HOLDS.test(text.slice(end, end + LEAD_IN)) ||
      (labels && LABEL_BEFORE.test(before))
    )
      most = percent;
  }
  const lower = text.toLowerCase();
  for (const [word, pattern, percent] of WORDED)
    if ((most === null || percent > most) && lower.includes(word) && pattern.test(lower))
      most = percent;
  const free = freeShareIn(lower);
  if (free !== null && (most === null || free > most)) most = free;
  for (const amount of amountsOff(text))
    if (amount.ofMajor !== null) {
      const percent = Math.min(100, (100 * amount.major) / amount.ofMajor);
      if (most === null || percent > most) most = percent;
    }
  return most;
};

const GROUPED_WITH_COMMAS = /^\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?$/;
const GROUPED_WITH_DOTS = /^\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?$/;

/** A figure FIGURE read: its thousands grouped with commas or dots, its decimals after either. */
const decimal = (text: string | undefined): number => {
  const figure = text ?? '';
  if (GROUPED_WITH_COMMAS.test(figure)) return Number(figure.replaceAll(',', ''));
  if (GROUPED_WITH_DOTS.test(figure)) return Number(figure.replaceAll('.', '').replace(',', '.'));
  return Number(figure.replace(',', '.'));
};

/** An amount `MONEY` read, and the order it is taken from when the copy after `end` says. */
const amountFrom = (
  text: string,
  amount: RegExpExecArray,
  end: number,
): { major: number; ofMajor: number | null } => {
  const base = AMOUNT_BASE.exec(text.slice(end, end + LEAD_IN));
  const of =
    base === null ? null : decimal(base[1] ?? base[2] ?? base[3] ?? base[4] ?? base[5] ?? base[6]);
  return { major: decimal(amount[1] ?? amount[2]), ofMajor: of !== null && of > 0 ? of : null };
};

/** The amounts off the copy states, each with the order it is taken from when it says. */
const amountsOff = (text: string): { major: number; ofMajor: number | null }[] => {
  const found: { major: number; ofMajor: number | null }[] = [];
  for (const word of text.matchAll(OFF_WORD)) {
    const amount = MONEY_BEFORE.exec(text.slice(Math.max(0, word.index - MONEY_REACH), word.index));
    if (amount !== null) found.push(amountFrom(text, amount, word.index + word[0].length));
  }
  for (const word of text.matchAll(SAVE_WORD)) {
    const from = word.index + word[0].length;
    const amount = MONEY_AFTER.exec(text.slice(from, from + 2 * MONEY_REACH));
    if (amount !== null) found.push(amountFrom(text, amount, from + amount[0].length));
  }
  return found;
};

/**
 * An amount off the copy states without the order it is taken from ("$20 off your next
 * order"): its share of the order cannot be told, so a person looks at it. Null when none.
 */
// What only promotions say (in English), by what each is: a code to use, a coupon, free goods
// or delivery, a sale or a collection to shop. A receipt reports what was bought and applied;
// it does not say these. Quoted with their digits masked (`promotionInCopy`): a sign-in code
// never reaches a verdict.
const CODE_WORDS = String.raw`(?:the\s+|our\s+)?(?:promo(?:tion(?:al)?)?\s+|discount\s+|coupon\s+|voucher\s+)?code\s+`;
const CODE = String.raw`[A-Z0-9][A-Z0-9-]{2,30}`;
const PROMOTIONS: readonly (readonly [string, RegExp])[] = [
  [
    'a code to use',
    // "Use code 2024" and "enter code SAVE10" offer something; "enter code 482913" alone is a
    // sign-in or verification code ("… at checkout" makes it an offer again).
    new RegExp(
      String.raw`\b(?:(?:use|apply|redeem)\s+${CODE_WORDS}${CODE}|enter\s+${CODE_WORDS}(?:(?=[A-Z0-9-]{0,30}[A-Z])${CODE}|${CODE}\s+at\s+checkout)|(?:promo(?:tion(?:al)?)?|coupon|voucher|discount)\s+code)\b`,
      'iu',
    ),
  ],
  ['free goods or delivery', /\bfree\s+(?:shipping|delivery|gifts?|samples?)\b/iu],
  [
    'a sale',
    /\b(?:(?:flash|summer|winter|spring|autumn|fall|holiday|seasonal|big|annual|clearance|black\s+friday|cyber\s+monday)\s+sale|sale\s+(?:starts|ends|is\s+on|now\s+on))\b/iu,
  ],
  [
    'something new to shop',
    /\b(?:shop\s+(?:now|the\s+(?:new|latest|sale)|our\s+new)|new\s+(?:collection|arrivals))\b/iu,
  ],
];

const PROMOTIONS_ANYWHERE = PROMOTIONS.map(
  ([kind, pattern]) => [kind, new RegExp(pattern.source, `${pattern.flags}g`)] as const,
);

/** At most this many phrases are quoted; the others are counted. */
const QUOTED_PHRASES = 5;

/**
 * What of a promotion `content` says: the kinds found, in the list's order (`a code to use`,
 * `a sale`), and its phrases in lower case, digits masked (`use code ship#you`, `free gifts`), or
 * null for none. A reviewer's edit adding a promotion to copy held for another, or swapping one
 * for another, changes them, and so says something no one has seen; masked, no code a customer
 * could sign in or pay with is kept in a verdict.
 */
export const promotionInCopy = (
  content: GuardMessage['content'],
): { kinds: string[]; said: string[] } | null => {
  if (content === null) return null;
  const copy = visibleCopy(content);
  const kinds: string[] = [];
  const said = new Set<string>();
  for (const [name, pattern] of PROMOTIONS_ANYWHERE)
    for (const m of copy.matchAll(pattern)) {
      if (kinds.at(-1) !== name) kinds.push(name);
      said.add(m[0].toLowerCase().replace(/\s+/gu, ' ').replace(/\d/gu, '#'));
    }
  return kinds.length === 0 ? null : { kinds, said: [...said] };
};

/** The phrases a promotion verdict quotes: the first few, and how many more. */
const quotedPhrases = (said: readonly string[]): string => {
  const shown = said.slice(0, QUOTED_PHRASES).map((w) => JSON.stringify(w));
  const more = said.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${String(more)} more` : shown.join(', ');
};

export const unmeasuredAmountOff = (content: GuardMessage['content']): number | null => {
  if (content === null) return null;
  const amounts = amountsOff(visibleCopy(content)).filter((a) => a.ofMajor === null);
  return amounts.length === 0 ? null : Math.max(...amounts.map((a) => a.major));
};

/**
 * Financial controls: a discount below `reviewFromPercent` goes automatically, from it up to
 * `blockAbovePercent` (inclusive) to review, above it is blocked; any message to a customer
 * whose LTV is above `reviewLtvAbove` goes to review (VIP escalation).
 */
export const financialGuardrail: Guardrail = {
  name: NAME,
  check(message, context, policy) {
    const found: Verdict[] = [];
    const offered = message.incentive?.percent ?? null;
    // A transactional message's copy may report a discount applied ("Discount: 10%" on a
    // receipt); only what it offers counts there.
    const transactional = message.class === 'transactional';
    const stated = transactional ? offerInCopy(message.content) : discountInCopy(message.content);
    // The larger of the incentive and what the copy promises.
    const percent = stated === null || (offered !== null && offered >= stated) ? offered : stated;
    const what =
      percent !== null && percent === stated && percent !== offered
        ? `the copy promises ${String(percent)} %, which`
        : `${String(percent)} %`;
    const d = policy.discount;
    // Whatever the percent: an incentive of 10 % says nothing of "$200 off your next order".
    const amountOff = unmeasuredAmountOff(message.content);
    // A message kept transactional (a template that says so, sent on a customer's action)
    // skips consent, caps and quiet hours: copy that offers a discount would make it marketing
    // through a side door. Stating one, it may also be a receipt reporting one applied ("10%
    // off applied", "(-10%)"): a person tells which; the bands are for offers.
    if (transactional && (stated !== null || amountOff !== null))
      found.push(
        verdict(
          NAME,
          'review',
          'offer_in_transactional',
          `the copy of a transactional message states ${stated === null ? `${String(amountOff)} off` : `${String(stated)} % off`}: a person checks it reports a discount applied, not an offer (an offer is marketing)`,
          { stated, amountOff },
        ),
      );
    else if (transactional) {
      // Nor may one say what only promotions say: free delivery, a code, a sale to shop.
      const promotion = promotionInCopy(message.content);
      if (promotion !== null)
        found.push(
          verdict(
            NAME,
            'review',
            'offer_in_transactional',
            `the copy of a transactional message offers ${promotion.kinds.join(' and ')} (${quotedPhrases(promotion.said)}): a person checks it is no promotion (a promotion is marketing)`,
            {
              promotion: promotion.kinds[0] ?? null,
              kinds: promotion.kinds,
              said: promotion.said,
            },
          ),
        );
    } else if (amountOff !== null)
      found.push(
        verdict(
          NAME,
          'review',
          'discount_needs_review',
          `the copy offers ${String(amountOff)} off an order whose amount it does not state: its share cannot be told`,
          { amountOff },
        ),
      );
    // The bands are for offers: a transactional message's stated discount is judged above.
    const banded = transactional ? null : percent;
    if (banded !== null && banded > d.blockAbovePercent)
      found.push(
        verdict(NAME, 'block', 'discount_too_high', `${what} is above ${d.blockAbovePercent} %`, {
          percent,
          offered,
          stated,
        }),
      );
    else if (banded !== null && banded >= d.reviewFromPercent)
      found.push(
        verdict(
          NAME,
          'review',
          'discount_needs_review',
          `${what} is from ${d.reviewFromPercent} % to ${d.blockAbovePercent} %`,
          { percent, offered, stated },
        ),
      );
    if (context.ltv > policy.reviewLtvAbove)
      found.push(
        verdict(
          NAME,
          'review',
          'vip_review',
          `LTV $${context.ltv.toFixed(2)} above $${policy.reviewLtvAbove}`,
          { ltv: context.ltv },
        ),
      );
    return found.length > 0
      ? found
      : [pass(NAME, percent === null ? 'no incentive' : `${percent} % goes automatically`)];
  },
};
