import { describe, expect, it } from 'vitest';
import type { Variant } from './compose.js';
import { checkGrounding, extractClaims } from './ground.js';
import { aDocument } from './test-builders.js';

const doc = aDocument({
  id: 'DOC1',
  title: 'Flash Sale Weekend Special',
  body: 'Get 25% off the Premium Widget and bonus credits worth $200. The sale starts June 5, 2026 and runs for 48 hours.',
});

const aVariant = (overrides: Partial<Variant> = {}): Variant => ({
  id: 'v1',
  strategy: 'control',
  tone: 'informational',
  subject: 'Flash Sale Weekend Special',
  preheader: 'Get 25% off the Premium Widget.',
  body: 'Hi {{ customer.firstName | default: "there" }}, credits worth $200 start June 5 and last 48 hours.',
  cta: 'Read the details',
  citations: ['DOC1'],
  generator: 'offline-composer',
  ...overrides,
});

const claimsOf = (result: ReturnType<typeof checkGrounding>) =>
  result.ok ? [] : result.problems.map((p) => [p.kind, p.claim]);
/** The problems of a variant whose body is `body`, citing `doc`. */
const claimsInBody = (body: string) => claimsOf(checkGrounding(aVariant({ body }), [doc], null));

describe('checkGrounding', () => {
  it('passes a variant whose claims all come from its cited document', () => {
    expect(checkGrounding(aVariant(), [doc], null)).toEqual({ ok: true });
  });

  it('rejects an invented percentage and names it', () => {
    const result = checkGrounding(aVariant({ subject: 'Now 50% off everything' }), [doc], null);
    expect(claimsOf(result)).toEqual([['percentage', '50%']]);
  });

  it('reads a percentage written right after a word, or with a letter O for a zero', () => {
    for (const [body, claim] of <const>[
      ['SAVE50% TODAY on everything', '50%'],
      ['Take an extra50% off', '50%'],
      ['GET50%OFF', '50%'],
      ['Save 5O% now', '5O%'],
    ])
      expect(claimsInBody(body)).toContainEqual(['percentage', claim]);
    expect(claimsInBody('Take an extra25% off the Premium Widget')).toEqual([]);
  });

  it('reads digits of other scripts as the figures they are', () => {
    expect(claimsInBody('٥٠% off everything')).toEqual([['percentage', '50%']]);
    expect(claimsInBody('५०% off everything')).toEqual([['percentage', '50%']]);
    expect(claimsInBody('Get a $٩٩ credit')).toEqual([['price', '$99']]);
    expect(claimsInBody('Get ٢٥% off the Premium Widget')).toEqual([]);
  });

  it('reads a code the copy tells the reader to type, without the word "code"', () => {
    for (const [cta, code] of <const>[
      ['Use SAVE50 at checkout', 'SAVE50'],
      ['Enter VIP2026 at checkout', 'VIP2026'],
      ['Apply WELCOME10', 'WELCOME10'],
      ['Use FREESHIP at checkout', 'FREESHIP'],
      ['Enter "VIPONLY" in your cart', 'VIPONLY'],
    ])
      expect(claimsOf(checkGrounding(aVariant({ cta }), [doc], null))).toEqual([['code', code]]);
    // Words, and the incentive's own code, are no such claim.
    expect(claimsOf(checkGrounding(aVariant({ cta: 'Use it today' }), [doc], null))).toEqual([]);
    for (const cta of ['Enter NOW', 'APPLY TODAY', 'SHOP NOW. APPLY TODAY', 'Apply ONLINE'])
      expect(claimsOf(checkGrounding(aVariant({ cta }), [doc], null))).toEqual([]);
    const incentive = {
      kind: 'percent-off' as const,
      percent: 25,
      amount: null,
      code: 'SAVE25-X1',
      expiresAtMs: 0,
    };
    expect(
      checkGrounding(aVariant({ cta: 'Apply SAVE25-X1 at checkout' }), [doc], incentive),
    ).toEqual({ ok: true });
  });

  it('reads percentages written as 25 %, 25 percent or 25 per cent', () => {
    for (const written of [
      '25 %',
      '25 percent',
      '25 per cent',
      '25 per-cent',
      'twenty-five per-cent',
    ]) {
      expect(checkGrounding(aVariant({ cta: `Save ${written}` }), [doc], null).ok).toBe(true);
    }
    expect(claimsOf(checkGrounding(aVariant({ cta: 'Save 30 percent' }), [doc], null))).toEqual([
      ['percentage', '30 percent'],
    ]); // Hyphenated, it was read as a bare 48, which the document's "48 hours" grounded.
    expect(claimsInBody('Save 48 per-cent on the Premium Widget.')).toEqual([
      ['percentage', '48 per-cent'],
    ]);
  });

  it('reads a claim written in full-width digits, odd spaces or as pct', () => {
    for (const written of ['\uFF17\uFF10%', '70\uFF05', '70\u00A0%', '70 pct', '70-percent'])
      expect(claimsInBody(`Save ${written} today.`), written).toEqual([
        ['percentage', expect.stringMatching(/70/) as unknown],
      ]);
    expect(claimsInBody('Save \uFF12\uFF15% today.')).toEqual([]);
  });

  it('accepts the incentive percent and code, and nothing else from outside', () => {
    const incentive = { percent: 15, code: 'SPRING SAVER15' };
    const body = 'Use code SPRING SAVER15 for 15% off.';
    expect(checkGrounding(aVariant({ body }), [doc], incentive)).toEqual({ ok: true });
    // Without it, the code is a claim of its own (its words in capitals read whole).
    expect(claimsOf(checkGrounding(aVariant({ body }), [doc], null))).toEqual([
      ['percentage', '15%'],
      ['code', 'SPRING SAVER15'],
    ]);
    // Its share only: not a count, a span or points that happen to be the same number.
    for (const [text, claim] of [
      ['Offer ends in 15 days.', '15'],
      ['Hurry: fifteen left.', 'fifteen left'],
      ['Get 15 points.', '15'],
    ] as const)
      expect(claimsOf(checkGrounding(aVariant({ body: text }), [doc], incentive)), text).toEqual([
        ['number', claim],
      ]);
  });

  it('reads the other ways an offer of half, or of so many for fewer, is written', () => {
    for (const [body, claim] of [
      ['Now at half the price.', 'half the price'],
      ['Prices cut in half.', 'Prices cut in half'],
      ['Save half on the Widget.', 'Save half'],
    ] as const)
      expect(claimsInBody(body), body).toEqual([['percentage', claim]]);
    for (const body of [
      'Save half an hour every week.',
      'Pay half now and half later.',
      'Your wait at checkout is cut in half.',
    ])
      expect(claimsInBody(body), body).toEqual([]);
    expect(claimsInBody('Two for the price of one!')).toEqual([
      ['number', 'Two for the price of one'],
    ]);
    const offer = { ...doc, body: `${doc.body} Two for one on every widget.` };
    expect(checkGrounding(aVariant({ body: 'Two for the price of one!' }), [offer], null).ok).toBe(
      true,
    );
  });

  it('compares prices by amount and currency', () => {
    expect(checkGrounding(aVariant({ body: 'Credits worth 200 USD.' }), [doc], null).ok).toBe(true);
    expect(claimsOf(checkGrounding(aVariant({ body: 'Only $19.99 today.' }), [doc], null))).toEqual(
      [['price', '$19.99']],
    );
    expect(
      claimsOf(checkGrounding(aVariant({ body: 'Credits worth €200.' }), [doc], null)),
    ).toEqual([['price', '€200']]);
  });

  it('reads counts and spans written in words, from two up', () => {
    expect(claimsInBody('Only three left!')).toEqual([['number', 'three left']]);
    expect(claimsInBody('Hurry: just twenty-two more days to go.')).toEqual([
      ['number', 'twenty-two more days'],
    ]);
    expect(claimsInBody('Two hundred and fifty remaining.')).toEqual([
      ['number', 'Two hundred and fifty remaining'],
    ]);
    // Grounded by the value: the document's "48 hours" grounds forty-eight hours.
    expect(claimsInBody('It runs for forty-eight hours.')).toEqual([]);
    // Words in a document ground digits, and words.
    const inWords = { ...doc, body: `${doc.body} Delivery takes three days.` };
    for (const body of ['Delivery in 3 days.', 'Delivery in three days.'])
      expect(checkGrounding(aVariant({ body }), [inWords], null)).toEqual({ ok: true });
    // Not "one" alone, nor a number without a count or a span after it, nor an ordinal, nor
    // words that make no single number.
    for (const body of [
      'One day, you will thank us. Someone left a review; no one left behind.',
      'One of our favourites, twice over: two of a kind.',
      'Ships in two-three days; enjoy two three-day weekends.',
    ])
      expect(claimsInBody(body)).toEqual([]);
    // Written in title case, it is part of a name, read whole.
    expect(claimsInBody('Try the Ten Day Detox Kit.')).toEqual([
      ['product-name', 'Ten Day Detox Kit'],
    ]);
  });

  it('reads amounts written in words, and half price as 50 %', () => {
    const words = aDocument({
      id: 'DOC2',
      title: 'Spring offer',
      body: 'Members save twenty-five percent, and orders over one hundred and fifty dollars ship free.',
    });
    const grounded = (body: string, docs = [doc]) =>
      checkGrounding(
        aVariant({ subject: '', preheader: '', body, citations: docs.map((d) => d.id) }),
        docs,
        null,
      ).ok;
    expect(grounded('Save twenty-five percent on credits worth two hundred dollars.')).toBe(true);
    expect(grounded('Save 25% on orders over $150.', [words])).toBe(true);
    expect(grounded('Save a hundred percent.', [doc])).toBe(false);
    expect(
      claimsOf(
        checkGrounding(
          aVariant({
            body: 'Save fifty percent, or half price, on a twenty dollar gift: ten bucks.',
          }),
          [doc],
          null,
        ),
      ),
    ).toEqual([
      ['price', 'twenty dollar'],
      ['price', 'ten bucks'],
      ['percentage', 'fifty percent'],
      ['percentage', 'half price'],
    ]);
    // "a" counts only as "a hundred", "and" only after hundred or thousand.
    expect(extractClaims('a twenty percent saving')).toEqual([
      { text: 'twenty percent', kind: 'percentage', key: '20' },
    ]);
    // The ten is a figure of its own, as every number in words from two up.
    expect(extractClaims('between ten and twenty-percent off a fifty-dollar bag')).toEqual([
      { text: 'fifty-dollar', kind: 'price', key: 'USD:50' },
      { text: 'twenty-percent', kind: 'percentage', key: '20' },
      { text: 'ten', kind: 'number', key: '10' },
    ]);
    // "Pounds" is as often a weight: a bare number, as before.
    expect(extractClaims('a 10 pounds bag')).toEqual([{ text: '10', kind: 'number', key: '10' }]);
  });

  it('tells currencies apart by symbol and ISO code', () => {
    const grounded = (body: string) => checkGrounding(aVariant({ body }), [doc], null).ok;
    for (const same of ['USD 200', 'usd 200', 'US$200', 'us$200', '200 usd', '$200'])
      expect(grounded(same)).toBe(true);
    // A dollar this file does not name is its own currency, never a bare number $200 grounds.
    expect(extractClaims('HK$200')).toEqual([{ text: 'HK$200', kind: 'price', key: 'HK$:200' }]);
    expect(
      claimsOf(
        checkGrounding(
          aVariant({ body: 'Worth C$200, A$200, CAD 200, 200 CHF or ¥200.' }),
          [doc],
          null,
        ),
      ),
    ).toEqual([
      ['price', 'C$200'],
      ['price', 'A$200'],
      ['price', '¥200'],
      ['price', 'CAD 200'],
      ['price', '200 CHF'],
    ]); // The mark after the amount, as much of Europe writes it, and a code after a bare `$`.
    for (const [body, claim] of <const>[
      ['Bonus credits worth 200€.', '200€'],
      ['Bonus credits worth 200 €.', '200 €'],
      ['Bonus credits worth 200 £.', '200 £'],
      ['Bonus credits worth $200 CAD.', '$200 CAD'],
    ])
      expect(claimsInBody(body)).toEqual([['price', claim]]);
    expect(grounded('Bonus credits worth $200 USD.')).toBe(true);
    const euros = { ...doc, body: `${doc.body} Or 180 € in store.` };
    expect(checkGrounding(aVariant({ body: 'Or €180 in store.' }), [euros], null).ok).toBe(true);
  });

  it('compares dates by day, and by year when the claim gives one', () => {
    for (const date of ['5 June 2026', '2026-06-05', 'June 5th', 'Jun 5']) {
      expect(checkGrounding(aVariant({ body: `It starts ${date}.` }), [doc], null).ok).toBe(true);
    }
    expect(claimsOf(checkGrounding(aVariant({ body: 'It starts June 6.' }), [doc], null))).toEqual([
      ['date', 'June 6'],
    ]);
    expect(
      claimsOf(checkGrounding(aVariant({ body: 'It starts 5 June 2027.' }), [doc], null)),
    ).toEqual([['date', '5 June 2027']]);
  });

  it('reads numeric dates every way the calendar allows', () => {
    // The source names the 5th of June 2026.
    for (const date of ['6/5', '5/6', '05/06/2026', '6/5/26', '2026/06/05', '05.06.2026'])
      expect(claimsInBody(`It starts ${date}.`), date).toEqual([]);
    // Read as a date, not as two bare numbers each found somewhere in the source.
    for (const date of ['6/30', '30/6', '2026/06/30', '5/6/2027', '30.06.2026'])
      expect(claimsInBody(`The sale ends ${date}.`), date).toEqual([['date', date]]);
    for (const before of ['until', 'by', 'on', 'from 6/5 to', 'valid through', 'Expires:'])
      expect(claimsInBody(`Offer ${before} 6/30.`), before).toEqual([['date', '6/30']]);
    // Without a word a date follows, a day and month are figures: "24/7", "9/10 customers".
    expect(extractClaims('Support 24/7, rated 9/10 and 4/5 stars').map((c) => c.kind)).toEqual([
      'number',
      'number',
      'number',
      'number',
      'number',
      'number',
    ]);
    // Not dates: a split, a price, a version.
    expect(claimsInBody('A 50/50 split.')).toEqual([['number', '50']]);
    expect(extractClaims('Only 4.99 today').map((c) => c.kind)).toEqual(['number']);
  });

  it('reads a price with its scale as the whole sum', () => {
    const prize = aDocument({
      id: 'DOC2',
      body: 'Orders over $20 enter a $1,000 prize draw; the fund holds $2,000,000.',
    });
    const problems = (body: string) =>
      claimsOf(
        checkGrounding(
          aVariant({ subject: 'A prize draw', preheader: '', body, citations: ['DOC2'] }),
          [prize],
          null,
        ),
      );
    for (const claim of ['$20K', '$20 million', '20 thousand dollars', '$1.5M', 'USD 20k'])
      expect(problems(`Win ${claim}.`), claim).toEqual([['price', claim]]);
    for (const claim of ['$1K', '$2M', '$2 million', '1 thousand dollars', '$1,000'])
      expect(problems(`Win ${claim}.`), claim).toEqual([]);
    expect(problems('Spend $20 more.')).toEqual([]);
  });

  it('reads lower-case months, a month alone, a day alone, abbreviated days and dashed dates', () => {
    // The source names the 5th of June 2026 and nothing else.
    for (const date of ['june 5', 'on the 5th', 'in June', 'June 2026', '06-05-2026'])
      expect(claimsInBody(`It starts ${date}.`), date).toEqual([]);
    for (const [body, claim] of [
      ['It ends june 10.', 'june 10'],
      ['It ends on the 10th.', '10th'],
      ['It ends in July.', 'July'],
      ['It ends in july.', 'july'],
      ['Back in september 2026.', 'september 2026'],
      ['It ends July 2026.', 'July 2026'],
      ['It runs through June 2027.', 'June 2027'],
      ['It ends Sun.', 'Sun.'],
      ['Valid until 06-30-2026.', '06-30-2026'],
    ] as const)
      expect(claimsInBody(body), body).toEqual([['date', claim]]);
    // Without a word a period follows, a month's name is a word ("May we"), and a dashed pair
    // without its year is a range.
    expect(claimsInBody('May we suggest something?')).toEqual([]);
    expect(claimsInBody('Ships in 7-48 hours.')).toEqual([['number', '7']]);
    // A source naming only the month grounds no day of it.
    const june = { ...doc, body: 'Get 25% off the Premium Widget: our sale runs in June.' };
    expect(checkGrounding(aVariant({ body: 'It ends in June.' }), [june], null).ok).toBe(true);
    expect(claimsOf(checkGrounding(aVariant({ body: 'It ends June 30.' }), [june], null))).toEqual(
      expect.arrayContaining([['date', 'June 30']]),
    );
  });

  it('reads no date into a title, a verb or a range, and still reads the range itself', () => {
    // Titles the composer writes after "on", "to", "from": names, not days or months.
    for (const title of ['Sun Care Essentials', 'June Picks', 'May Favourites']) {
      const titled = { ...doc, title, body: `${title}: get 25% off the Premium Widget.` };
      const variant = aVariant({
        subject: title,
        body: `Here is the latest on ${title}. Get more from ${title}.`,
      });
      expect(claimsOf(checkGrounding(variant, [titled], null)), title).toEqual([]);
    }
    // "may" and "march" in lower case are words.
    for (const body of [
      'You may first want to finish your profile.',
      'Only the first 48 may claim it.',
      'Ends in may, if stock lasts.',
      'It starts in march toward spring.',
    ])
      expect(claimsInBody(body), body).toEqual([]);
    // A range of days is two dates; a dashed date among other dashes is none.
    expect(claimsInBody('Valid 7/1-7/15.')).toEqual([
      ['date', '7/1'],
      ['date', '7/15'],
    ]);
    expect(claimsInBody('Call 555-06-30-2026.').map(([kind]) => kind)).not.toContain('date');
    // A lower-case month alone after "mid-", and the multiplication sign.
    expect(claimsInBody('It ends mid-July.')).toEqual([['date', 'July']]);
    expect(claimsInBody('Earn 5× points.')).toEqual([['number', '5×']]);
  });

  it('reads one English word after an allowed name as no name', () => {
    const allowed = { knownNames: ['Northwind Traders'] };
    for (const body of [
      'Thanks,\n\nNorthwind Traders Team',
      'Northwind Traders Exclusive: a Premium Widget.',
    ])
      expect(claimsOf(checkGrounding(aVariant({ body }), [doc], null, allowed)), body).toEqual([]);
    expect(
      claimsOf(
        checkGrounding(
          aVariant({ body: 'Northwind Traders Lumora is here.' }),
          [doc],
          null,
          allowed,
        ),
      ),
    ).toEqual([['product-name', 'Lumora']]);
  });

  it('reads scales after a count, fractions and multiples', () => {
    const tools = { ...doc, body: 'Connect over 200 tools; earn 2x points; save 1/3 off today.' };
    const problems = (body: string) =>
      claimsOf(checkGrounding(aVariant({ subject: 'Tools', preheader: '', body }), [tools], null));
    for (const [body, kind, claim] of [
      ['Trusted by 200K teams.', 'number', '200K'],
      ['Join 200 million members.', 'number', '200 million'],
      ['Take ½ off.', 'percentage', '1⁄2 off'],
      ['Take a quarter off.', 'percentage', 'a quarter off'],
      ['Earn triple points.', 'number', 'triple points'],
      ['Earn 3x points.', 'number', '3x'],
    ])
      expect(problems(body ?? ''), body).toEqual([[kind, claim]]);
    for (const body of [
      'Connect 200 tools.',
      'Earn double points.',
      'Take a third off.',
      'Take 1/3 off.',
    ])
      expect(problems(body), body).toEqual([]);
  });

  it('reads any number in words from two up as a figure, not only before a unit', () => {
    // Invented in words as they would be in digits: a discount, social proof, a rating.
    for (const [body, claim] of [
      ['Get fifty off your order.', 'fifty'],
      ['Join ten thousand happy customers.', 'ten thousand'],
      ['Loved by two million shoppers.', 'two million'],
      ['Rated four stars by our customers.', 'four'],
      ['Ten thousand shoppers agree.', 'Ten thousand'],
      // A scale word alone is a number too; after digits it is read with them.
      ['Limited to the first hundred buyers.', 'hundred'],
      ['The first thousand orders ship free.', 'thousand'],
    ])
      expect(claimsInBody(body ?? ''), body).toEqual([['number', claim]]);
    expect(extractClaims('two million five hundred thousand')).toEqual([
      { text: 'two million five hundred thousand', kind: 'number', key: '2500000' },
    ]);
    // Grounded by the same value in a cited document, in digits or in words.
    const counts = { ...doc, body: `${doc.body} Over 10,000 members and two million shoppers.` };
    for (const body of ['Join ten thousand members.', 'Loved by two million shoppers.'])
      expect(checkGrounding(aVariant({ body }), [counts], null).ok, body).toBe(true);
    // Not one alone, a name in title case, an ordinal, a word joined to another ("two-factor"),
    // words that make no single number, nor a likeness.
    for (const body of [
      'One more thing: pick the one you like.',
      'Try the Ten Day Detox Kit, or our Top Ten Picks.',
      'Turn on two-factor sign-in.',
      'Ships in two-three days; open twenty-four seven.',
      'One of our favourites, two of a kind.',
    ])
      expect(
        claimsInBody(body).filter(([kind]) => kind === 'number'),
        body,
      ).toEqual([]);
  });

  it('reads pc as per cent and quid as pounds sterling', () => {
    // "30 styles" and "60 days" ground a bare 30 or 60, not a share or a price.
    const styles = { ...doc, body: 'Over 30 styles, free returns for 60 days, gifts from £60.' };
    const problems = (body: string) =>
      claimsOf(
        checkGrounding(aVariant({ subject: 'Styles', preheader: '', body }), [styles], null),
      );
    expect(problems('Take 30pc off everything.')).toEqual([['percentage', '30pc']]);
    expect(problems('Save 50 quid, or twenty quid.')).toEqual([
      ['price', '50 quid'],
      ['price', 'twenty quid'],
    ]);
    expect(problems('Gifts from 60 quid.')).toEqual([]);
    // In capitals, PC is a computer: a bare number.
    expect(extractClaims('30 PC games')).toEqual([{ text: '30', kind: 'number', key: '30' }]);
  });

  it('reads a code after code, coupon or promo as a claim only the incentive or a source grounds', () => {
    for (const [body, claim] of [
      ['Use code SAVE50 at checkout.', 'SAVE50'],
      ['Promo: WELCOME10 for new members.', 'WELCOME10'],
      ['Your coupon code is GOLDVIP today.', 'GOLDVIP'],
      ['Enter discount code spring24 now.', 'spring24'],
    ])
      expect(claimsInBody(body ?? ''), body).toEqual([['code', claim]]);
    // A word after "code" is no code.
    expect(claimsInBody('Use the code below. No coupon needed.')).toEqual([]);
    // The incentive's code, in any case, and a code a cited document gives, are grounded.
    const incentive = { percent: 25, code: 'GOLD25' };
    expect(
      checkGrounding(aVariant({ body: 'Use code gold25 for 25% off.' }), [doc], incentive).ok,
    ).toBe(true);
    expect(
      claimsOf(checkGrounding(aVariant({ body: 'Use code SAVE50.' }), [doc], incentive)),
    ).toEqual([['code', 'SAVE50']]);
    const coded = { ...doc, body: `${doc.body} Enter SAVE50 at checkout.` };
    expect(checkGrounding(aVariant({ body: 'Use code SAVE50.' }), [coded], null).ok).toBe(true);
    // A code built on the incentive's, or on words a source writes apart, is another code.
    const spring = { percent: 20, code: 'SPRING20' };
    for (const code of ['SPRING20X', 'XSPRING20', 'SPRING200'])
      expect(
        claimsOf(checkGrounding(aVariant({ body: `Use code ${code} today.` }), [doc], spring)),
        code,
      ).toContainEqual(['code', code]);
    // The incentive's own code grounds only itself, whatever its case: not with a point, an
    // underscore or a space where it has a hyphen.
    const cart = { percent: 20, code: 'CART20-K7M2P9' };
    for (const code of ['CART20.K7M2P9', 'CART20_K7M2P9'])
      expect(
        claimsOf(checkGrounding(aVariant({ body: `Use code ${code} today.` }), [doc], cart)),
        code,
      ).toEqual([['code', code]]);
    expect(
      checkGrounding(aVariant({ body: 'Use code cart20-k7m2p9 today.' }), [doc], cart).ok,
    ).toBe(true);
    // A document's code written with a non-breaking hyphen is the same code.
    const nbsp = { ...doc, body: `${doc.body} Enter SAVE\u201120 at checkout.` };
    expect(checkGrounding(aVariant({ body: 'Use code SAVE-20.' }), [nbsp], null).ok).toBe(true);
    const saving = { ...doc, body: `${doc.body} Save 20% this spring.` };
    for (const code of ['SAVE-20', 'SAVE.20'])
      expect(
        claimsOf(checkGrounding(aVariant({ body: `Use code ${code} now.` }), [saving], null)),
        code,
      ).toEqual([['code', code]]);
  });

  it('rejects bare numbers the sources do not state', () => {
    expect(
      claimsOf(checkGrounding(aVariant({ body: 'It runs for 72 hours.' }), [doc], null)),
    ).toEqual([['number', '72']]);
  });

  it('reads days in words and days of the week as dates', () => {
    for (const date of ['the fifth of June', 'June fifth', 'June the fifth, 2026', '5 Jun. 2026'])
      expect(claimsInBody(`It starts ${date}.`)).toEqual([]);
    expect(claimsInBody('It starts the sixth of June.')).toEqual([['date', 'the sixth of June']]);
    // Without "of", and a day alone after a word a date follows, as the digits are read.
    expect(claimsInBody('The sale starts sixth June.')).toEqual([['date', 'sixth June']]);
    expect(claimsInBody('The sale starts on the sixth.')).toEqual([['date', 'sixth']]);
    expect(claimsInBody('The sale starts on the fifth.')).toEqual([]);
    // An ordinal is no count: "on the twenty-second" is a day of the month, as "the 22nd" is.
    expect(claimsInBody('It ends on the twenty-second.')).toEqual([['date', 'twenty-second']]);
    expect(claimsInBody('Limited to the first hundred buyers.')).toEqual([['number', 'hundred']]);
    // Ordinals that count things, not days.
    for (const body of [
      'Your first March order ships free.',
      'Open to the second or third buyer.',
      'Free shipping on the first and second purchase.',
    ])
      expect(claimsInBody(body), body).toEqual([]);
    expect(claimsInBody('It starts on the sixth and runs for 48 hours.')).toEqual([
      ['date', 'sixth'],
    ]);
    expect(claimsInBody('It starts June twenty-first.')).toEqual([['date', 'June twenty-first']]);
    // A full stop after a month's name is the sentence's, not the claim's.
    expect(claimsInBody('It starts 6 June.')).toEqual([['date', '6 June']]);
    // A day of the week is a date the sources must name, in any week.
    expect(claimsInBody('Hurry, it ends Sunday. Deals on Mondays.')).toEqual([
      ['date', 'Sunday'],
      ['date', 'Mondays'],
    ]);
    const friday = { ...doc, body: `${doc.body} It starts Friday at midnight.` };
    expect(checkGrounding(aVariant({ body: 'Starts friday.' }), [friday], null).ok).toBe(true);
  });

  it('reads digits with a short unit, counts of points and pounds, and offers', () => {
    expect(claimsInBody('Ships in 72h, earn 3x points, your 2nd order by 7pm on a 4K TV.')).toEqual(
      [
        ['number', '72h'],
        ['number', '3x'],
        ['number', '2nd'],
        ['number', '7pm'],
        ['number', '4K'],
      ],
    );
    // Digits inside a word or a code are no number; the 48 of "48h" is the source's 48. The
    // code itself is a claim of its own.
    expect(claimsInBody('Use code x5f3a9c: over in 48h.')).toEqual([['code', 'x5f3a9c']]);
    expect(claimsInBody('Ref. x5f3a9c: over in 48h.')).toEqual([]);
    expect(claimsInBody('Earn fifty points, or twenty pounds off.')).toEqual([
      ['number', 'fifty points'],
      ['number', 'twenty pounds'],
    ]);
    expect(claimsInBody('Buy one, get one free! Or BOGO, or 3 for 2.')).toEqual([
      ['number', 'Buy one, get one free'],
      ['number', 'BOGO'],
      ['number', '3 for 2'],
    ]);
    // An offer is compared as the pair it makes: "buy two, get one free" is "3 for 2".
    const offer = { ...doc, body: `${doc.body} Buy two, get one free on every widget.` };
    expect(checkGrounding(aVariant({ body: 'Three for two!' }), [offer], null).ok).toBe(true);
    expect(claimsOf(checkGrounding(aVariant({ body: 'Two for one!' }), [offer], null))).toEqual([
      ['number', 'Two for one'],
    ]);
  });

  it('rejects a product name the sources do not mention, but not a capitalised sentence start', () => {
    expect(
      claimsOf(checkGrounding(aVariant({ body: 'Try the Ultra Gadget Pro.' }), [doc], null)),
    ).toEqual([['product-name', 'Ultra Gadget Pro']]);
    expect(
      checkGrounding(aVariant({ body: 'Premium Widget owners: Take a look.' }), [doc], null).ok,
    ).toBe(true);
    expect(
      checkGrounding(aVariant({ body: 'Good news. Premium Widget owners save.' }), [doc], null).ok,
    ).toBe(true);
    // Grammar capitalises an English first word, so "Gadget Pro" is what is claimed; a first word
    // that is no English word is part of the name.
    expect(
      claimsOf(
        checkGrounding(aVariant({ body: 'Good news. New Gadget Pro is here.' }), [doc], null),
      ),
    ).toEqual([['product-name', 'Gadget Pro']]);
    expect(
      claimsOf(
        checkGrounding(aVariant({ body: 'Good news. Zentra Gadget Pro is here.' }), [doc], null),
      ),
    ).toEqual([['product-name', 'Zentra Gadget Pro']]);
  });

  it('rejects a one-word name that opens a sentence when it is no English word', () => {
    for (const [field, text, name] of [
      ['body', 'Lumora is back in stock.', 'Lumora'],
      ['body', 'Good news! Lumora’s back, and quieter.', 'Lumora’s'],
      ['body', 'Meet Lumora, our quietest blender.', 'Lumora'],
      ['body', '- Lumora\n- Blender', 'Lumora'],
      ['subject', 'Lumora is here', 'Lumora'],
      ['cta', 'Shop Lumora', 'Lumora'],
      // A hyphenated first word of English parts is grammar's, not the name's.
      ['body', 'Pre-order Gadget Pro now.', 'Gadget Pro'],
    ] as const)
      expect(claimsOf(checkGrounding(aVariant({ [field]: text }), [doc], null))).toEqual([
        ['product-name', name],
      ]);
    // English words, in any spelling, contracted, hyphenated or in title case, name nothing.
    for (const body of [
      'Don’t miss it. We’re open late. Can’t wait? Won’t last.',
      'Colour your weekend. Long-lasting comfort. Psst: it’s yours.',
      'Treat Yourself. Shop Now. Discover More.',
      'Online only. Skincare you will love. Congrats! Eco-friendly, too. Wi-Fi is free.',
      'Shoppers’ favourites are back. Unboxing day!',
    ])
      expect(checkGrounding(aVariant({ body }), [doc], null)).toEqual({ ok: true });
    // Named in the cited document, it is grounded.
    const cited = { ...doc, body: `${doc.body} Lumora, our quietest blender, is back.` };
    expect(checkGrounding(aVariant({ body: 'Lumora is back.' }), [cited], null).ok).toBe(true);
  });

  it('reads the words after a greeting that address the reader as no name', () => {
    for (const body of [
      'Dear Valued Customer, thanks for shopping.',
      'Hello Loyal Shopper!\r\nThanks.',
      'Thanks. Hey Loyal Members: see what is new.',
      'Hello, Valued Customers! Dear VIP Member.',
      // A greeting opens a sentence wherever a name's would: after a list's mark too.
      'Our news:\n- Hello, Valued Customer!',
    ])
      expect(checkGrounding(aVariant({ body }), [doc], null)).toEqual({ ok: true });
    // Not when they end in no word for the reader, hold no English word, or the sentence goes
    // on: then they may name a product.
    for (const [body, name] of [
      ['Hello Fall Collection!', 'Fall Collection'],
      ['Hi Lumora Customer, it is back.', 'Lumora Customer'],
      ['Hi Lumora fans, it is back.', 'Lumora'],
      ['Dear Gadget Pro owners, hello.', 'Gadget Pro'],
    ] as const)
      expect(claimsInBody(body)).toEqual([['product-name', name]]);
  });

  it('accepts known names such as the brand', () => {
    const variant = aVariant({ body: 'From all of us at Northwind Traders.' });
    expect(checkGrounding(variant, [doc], null).ok).toBe(false);
    expect(checkGrounding(variant, [doc], null, { knownNames: ['Northwind Traders'] }).ok).toBe(
      true,
    );
    // A name right after the brand's does not open a sentence: it claims itself.
    const launch = aVariant({ body: 'Northwind Traders Vault Pro is here.' });
    expect(
      claimsOf(checkGrounding(launch, [doc], null, { knownNames: ['Northwind Traders'] })),
    ).toEqual([['product-name', 'Vault Pro']]);
    // A name built on the brand's is not the brand's.
    const built = aVariant({ body: 'Meet Lumorax, and the new Lumoraglow serum.' });
    expect(claimsOf(checkGrounding(built, [doc], null, { knownNames: ['Lumora'] }))).toEqual([
      ['product-name', 'Lumorax'],
      ['product-name', 'Lumoraglow'],
    ]);
  });

  it('grounds a name only in words one sentence, list item or keyword puts together', () => {
    const plans = {
      ...doc,
      keywords: ['zephyr', 'ultra'],
      body: `${doc.body} Choose the Zephyr, Max or Lite plan. Meet our new Zephyr. Pro members save.`,
    };
    for (const name of ['Zephyr Max', 'Zephyr Pro', 'Zephyr Ultra'])
      expect(
        claimsOf(checkGrounding(aVariant({ body: `Upgrade to the ${name} plan.` }), [plans], null)),
        name,
      ).toEqual([['product-name', name]]);
    // A line break parts a name as a list item's end would: a list one item a line reads the
    // same as a name wrapped over two lines, and an unstated name must not pass.
    for (const lines of [
      `${doc.body}\nOur plans:\nZephyr\nMax\nLite`,
      `${doc.body}\n+ Zephyr\n+ Max`,
      `${doc.body}\n## Zephyr\nMax out your savings.`,
      `${doc.body} Our best plan, the Zephyr\r\nMax, is back.`,
    ])
      expect(
        claimsOf(
          checkGrounding(
            aVariant({ body: 'Upgrade to the Zephyr Max plan.' }),
            [{ ...doc, body: lines }],
            null,
          ),
        ),
        lines,
      ).toEqual([['product-name', 'Zephyr Max']]);
    // A wrapped sentence goes on in lower case: its words stay together.
    const wrapped = { ...doc, body: `${doc.body} Try the new Zephyr Max\nplan for teams.` };
    expect(
      checkGrounding(aVariant({ body: 'Upgrade to the Zephyr Max plan.' }), [wrapped], null).ok,
    ).toBe(true);
    // Written together, a name is grounded; a version's point does not part it.
    const together = { ...plans, body: `${plans.body} The Zephyr Max 2.0 plan is here.` };
    expect(
      checkGrounding(aVariant({ body: 'Upgrade to the Zephyr Max 2.0 plan.' }), [together], null)
        .ok,
    ).toBe(true);
  });

  it('judges what a Liquid tag prints, not the names it reads or the conditions it tests', () => {
    const body =
      'Hi {{ customer.firstName | default: "there" }}, {% if customer.vip == "Gold Club" %}welcome{% endif %}.';
    expect(checkGrounding(aVariant({ body }), [doc], null)).toEqual({ ok: true });
    // Nor the arguments of filters that print nothing of them, nor an index.
    const quiet = 'Hi {{ customer.firstName | truncate: 20 }}, see {{ items[0].title }}.';
    expect(checkGrounding(aVariant({ body: quiet }), [doc], null)).toEqual({ ok: true });
    // A claim written as a Liquid literal is printed all the same.
    for (const printed of [
      'Hi {{ customer.firstName | default: "Big Spender 99%" }}.',
      'Hi there, {{ "save 70% today" }}.',
      '{% assign deal = "70% off" %}Hi there, {{ deal }}.',
      'Hi there, save {{ 70 }}% today.',
      'Hi there, {{- "save " | append: 70 | append: "%" -}} today.',
      '{% liquid echo "save 70% today" %}',
    ])
      expect(claimsOf(checkGrounding(aVariant({ body: printed }), [doc], null))).toContainEqual([
        'percentage',
        expect.stringMatching(/^(99|70)%$/),
      ]);
  });

  it('rejects a variant citing nothing, or a document it was not given', () => {
    expect(claimsOf(checkGrounding(aVariant({ citations: [] }), [doc], null))).toContainEqual([
      'citation',
      '',
    ]);
    const result = checkGrounding(aVariant({ citations: ['DOC404'] }), [doc], null);
    expect(claimsOf(result)).toContainEqual(['citation', 'DOC404']);
  });

  it('grounds only in documents the variant cites', () => {
    const other = aDocument({ id: 'DOC2', body: 'Everything is 50% off.' });
    const variant = aVariant({ cta: 'Take 50% off' });
    expect(checkGrounding(variant, [doc, other], null).ok).toBe(false);
    expect(checkGrounding({ ...variant, citations: ['DOC1', 'DOC2'] }, [doc, other], null).ok).toBe(
      true,
    );
  });
});

describe('extractClaims', () => {
  it('reads copy of many @ or one long run of characters', () => {
    // Each `@` of a run was tried against the rest of it: a few thousand took seconds (not timed
    // here). Addresses are still left out of the names.
    expect(extractClaims('@'.repeat(20_000))).toEqual([]);
    expect(extractClaims(`Hi a@${'b@'.repeat(10_000)}`)).toEqual([]);
    expect(
      extractClaims('Write to Help@Lumora.example.com or see https://Lumora.example.com/Offers'),
    ).toEqual([]);
    // A scheme with nothing after it is no address: the name before it is still read.
    expect(extractClaims('Meet Zephyr Https:// now')).toEqual([
      { text: 'Zephyr Https', kind: 'product-name', key: 'zephyr https' },
    ]);
  });

  it('reads each fact once, in its own kind', () => {
    const claims = extractClaims('Save 25% and $19.99 on June 5 with 3 friends.');
    expect(claims.map((c) => [c.kind, c.text])).toEqual([
      ['price', '$19.99'],
      ['percentage', '25%'],
      ['date', 'June 5'],
      ['number', '3'],
    ]);
  });
});
