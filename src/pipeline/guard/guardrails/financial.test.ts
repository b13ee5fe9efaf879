import { describe, expect, it } from 'vitest';
import { aContent, aContext, aMessage, defaultGuardPolicy } from '../test-builders.js';
import { visibleCopy } from './visible-copy.js';
import { discountInCopy, financialGuardrail, unmeasuredAmountOff } from './financial.js';

const stated = (body: string, html: string | null = null) =>
  discountInCopy(aContent({ subject: 'Hello', preheader: null, body, html }));

describe('discountInCopy', () => {
  it.each([
    ['Take 60% off every winter boot', 60],
    ['40 percent discount on boots', 40],
    ['a 12,5 per cent rebate', 12.5],
    ['save 30 pct today', 30],
    ['Save up to 45% this week', 45],
    ['take an extra 35% off', 35],
    ['get an additional 22 percent', 22],
    ['prices reduced by 40 per cent', 40],
    ['save 48 per-cent on the Premium Widget', 48],
    ['a discount of 33% for you', 33],
    ['up to 70-percent', null],
    ['20% of our customers came back', null],
    ['1234% off', null],
    ['10% off, then save 25%, and 30% of shoppers agree', 25],
    ['save\n50\u00A0%', 50],
    ['nothing here', null],
    // Written other ways a reader still takes for a discount.
    ['our 50%-off sale starts now', 50],
    ['Discount: 50% on everything', 50],
    ['everything -50% this week', 50],
    ['everything is half price this week', 50],
    ['half off everything', 50],
    ['buy one, get one free', 50],
    ['Buy 1, get 1 free on every jacket', 50],
    ['BOGOF on every jacket this weekend', 50],
    ['Buy two, get one free on every jacket', 33.3],
    ['Fifty percent off every jacket', 50],
    ['save twenty-five per cent today', 25],
    ['a hundred percent cotton, fifty percent of our range', null],
    ['£15 off £20 orders', 75],
    ['20 USD off 40 USD orders', 50],
    ['$20 off any $40 order', 50],
    ['€15 off orders over €60', 25],
    // A share a sale takes, and amounts with their currency after them or as a code.
    ['Sale: 40% on all jackets', 40],
    ['Summer sale — 40%!', 40],
    ['Clearance: 30%.', 30],
    ['Sale: up to 40%', 40],
    ['prices cut by 40%', 40],
    ['discounted 30% this week', 30],
    ['20€ off orders over 40€', 50],
    ['20 € off orders over 40 €', 50],
    ['GBP 20 off any GBP 40 order', 50],
    ['USD 10 discount on orders over USD 40', 25],
    ['20 dollars off any 80 dollar order', 25],
    // Thousands grouped, as large amounts are written.
    ['take $1,000 off any $1,250 order', 80],
    ['€1.000,50 off orders over €2.001,00', 50],
    ['US$ 1,500.00 discount on a purchase of US$ 3,000', 50],
    // A sale, a price or what is paid named by the share: a discount all the same.
    ['PS: our 40% sale starts now', 40],
    ['40% Sale!', 40],
    ['boots 40% cheaper this week', 40],
    ['pay 40% less for winter boots', 40],
    ['prices 40% lower until Sunday', 40],
    ['prices are now 35% lower', 35],
    ['get them for 30% less', 30],
    ['40% lower prices on boots', 40],
    ['a 30% price cut on boots', 30],
    ['save $50 on any $100 order', 50],
    ['Save up to €20 on orders over €80', 25],
    ['a $25 voucher for orders over $100', 25],
    ['Everything is 70% cheaper during the sale.', 70],
    ['Members pay 70% less every month.', 70],
    // What a thing costs to run is no price cut, whatever the share (nor, so, "your plan
    // costs 70% less this week", which reads the same).
    ['Your plan costs 70% less this week.', null],
    ['Running costs 40% lower every year with our boiler.', null],
    ['Heating costs 75% less a month with the new insulation.', null],
    ['This bulb costs 80% less each year to run.', null],
    ['Our LED bulbs are 80% cheaper a year to run.', null],
    ['70% cheaper per mile than petrol', null],
    ['60% cheaper every winter than gas', null],
    ['70% cheaper sitewide', 70],
    ['70% cheaper prices on boots', 70],
    ['Prices 70% lower across the store', 70],
    ['Now with 30% less sugar.', null],
    ['pay 40% upfront, the rest on delivery', null],
    ['Switch to oat milk for 30% less sugar', null],
    ['The same light for 80% less energy', null],
    ['The new boiler costs 40% less to run', null],
    ['LED bulbs mean 80% lower costs on your energy bill', null],
    ['Our heat pump is 30% cheaper to run', null],
    ['40% of our sale items are new', null],
    // Not discounts: a range, a dash between clauses, a price, an amount off with no order.
    ['98% on time, every time', null],
    ['Our sale is back and 95% of you loved it', null],
    ['Everything is on sale! 98% of our customers say so', null],
    ['Our biggest sale, 98% of shoppers rated it 5 stars', null],
    ['Summer Sale! 40% of our range is new this season.', null],
    ['Charity sale: 20% of proceeds go to the food bank.', null],
    ['Clearance: 100% cotton tees', null],
    ['Promo: 100% recycled packaging', null],
    ["We're 100% on your side.", null],
    ['Now with 30% reduced sugar.', null],
    ['Take 10 pounds off by summer', null],
    ['USD 20 off your next order', null],
    ['20-50% of shoppers', null],
    ['Our boots are back \u2013 90% of you asked for them', null],
    ['Rated 4.8 by our customers - 96% would buy again', null],
    ['New arrivals -- 35% more colours', null],
    ['boots from $40', null],
    ['$20 off your next order', null],
  ])('reads %j as %j', (body, expected) => {
    expect(stated(body)).toBe(expected);
  });

  it('finds an amount off whose order it cannot tell', () => {
    const content = (body: string) =>
      aContent({ subject: 'Hello', preheader: null, body, html: null });
    expect(unmeasuredAmountOff(content('$20 off your next order'))).toBe(20);
    expect(unmeasuredAmountOff(content('$20 off any $40 order'))).toBeNull();
    expect(unmeasuredAmountOff(content('boots from $40'))).toBeNull();
    expect(unmeasuredAmountOff(content('20 EUR off your next order'))).toBe(20);
    expect(unmeasuredAmountOff(content('take $1,000 off your next order'))).toBe(1000);
    expect(unmeasuredAmountOff(content('Save $50 today'))).toBe(50);
    expect(unmeasuredAmountOff(content('saving an extra $15 this week'))).toBe(15);
    expect(unmeasuredAmountOff(content('save time: order by $40'))).toBeNull();
    // Not an amount saved: a word ending in "saving".
    expect(unmeasuredAmountOff(content('A time-saving $30 kitchen gadget'))).toBeNull();
    expect(unmeasuredAmountOff(content('Energy-saving £15 bulbs'))).toBeNull();
    // A voucher or coupon with no order to take it from: a person looks (a gift one bought
    // reads the same).
    expect(unmeasuredAmountOff(content('Enjoy a $50 coupon on us!'))).toBe(50);
    expect(unmeasuredAmountOff(content('Thanks for your order: one $50 voucher for Sam'))).toBe(50);
  });

  it('sends an amount off with no order to review whatever percent the incentive carries', () => {
    const judged = financialGuardrail.check(
      aMessage({
        content: aContent({ body: 'Take $200 off your next order https://shop.example.com/x' }),
        incentive: { kind: 'percent-off', percent: 10, amount: null, code: 'TEN', expiresAtMs: 0 },
      }),
      aContext(),
      defaultGuardPolicy(),
    );
    expect(judged.map((v) => `${v.outcome}:${v.code}`)).toContain('review:discount_needs_review');
  });

  it('reads the HTML part as a reader sees it', () => {
    expect(stated('', '<p>Take <b>40</b>% off</p>')).toBe(40);
  });
});

describe('a transactional message that promotes', () => {
  const flagged = (body: string) =>
    financialGuardrail
      .check(
        aMessage({
          class: 'transactional',
          topic: null,
          content: aContent({ subject: 'Your order', body }),
        }),
        aContext(),
        defaultGuardPolicy(),
      )
      .filter((v) => v.outcome !== 'pass');
  const judged = (body: string) =>
    flagged(body).map((v) => `${v.outcome}:${v.code}:${String(v.figures['promotion'])}`);
  const reasons = (body: string) => flagged(body).map((v) => v.reason);

  it('goes to review when its copy says what only promotions say', () => {
    for (const [body, kind] of [
      [
        'Your order is on its way. Enjoy FREE SHIPPING on your next order with code SHIPFREE',
        'free goods or delivery',
      ],
      ['Thanks for your order! Use code GIFT10 on the next one.', 'a code to use'],
      ['Your order is on its way. Our summer sale starts today!', 'a sale'],
      ['Your order shipped. Get a free gift with your next order', 'free goods or delivery'],
      [
        'Your order shipped. Shop the new collection: https://shop.example.com/new',
        'something new to shop',
      ],
    ] as const)
      expect(judged(body), body).toEqual([`review:offer_in_transactional:${kind}`]);
  });

  it('quotes each promotional phrase, digits masked: one added or swapped reads differently', () => {
    const quoted = (body: string) =>
      reasons(body)[0]
        ?.replace(/^.* offers /u, '')
        .replace(/:.*$/u, '');
    expect(quoted('Your order shipped. Free shipping on your next order, use code SHIP4YOU.')).toBe(
      'a code to use and free goods or delivery ("use code ship#you", "free shipping")',
    );
    expect(quoted('Your order shipped. Free shipping on your next order. Free gifts too.')).toBe(
      'free goods or delivery ("free shipping", "free gifts")',
    );
    expect(quoted('Your order shipped. Free gifts with your next order.')).toBe(
      'free goods or delivery ("free gifts")',
    );
    // Codes of digits offer something after use, apply or redeem, and after enter at checkout.
    for (const body of [
      'Thanks for your order #1234. Use code 2024 on your next order.',
      'Redeem code 5000 for your next purchase.',
      'Enter code 101010 at checkout next time.',
      'Use code 2024-10 next time.',
    ])
      expect(judged(body), body).toEqual(['review:offer_in_transactional:a code to use']);
  });

  it('lets a receipt through', () => {
    for (const body of [
      'Thanks for your order #1234: 2 × Wool socks, $24.50. Shipping: $4.99. It ships tomorrow.',
      'Your order code is A1B2C3; track it at https://shop.example.com/orders/1234',
      'Your password was changed. If this was not you, reply to this email.',
      // A sign-in code is no code to use at checkout.
      'To sign in, enter code 482913 within 10 minutes.',
    ])
      expect(judged(body), body).toEqual([]);
  });
});

describe('visibleCopy', () => {
  it('follows a part of the copy that changed after it was read', () => {
    const content = aContent({ subject: 'Hi', body: 'Take 10% off' });
    expect(discountInCopy(content)).toBe(10);
    content.body = 'Take 60% off';
    expect(visibleCopy(content)).toContain('Take 60% off');
    expect(discountInCopy(content)).toBe(60);
    content.html = '<p>Take <b>70</b>% off</p>';
    expect(discountInCopy(content)).toBe(70);
  });
});
