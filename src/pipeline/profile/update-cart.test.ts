import { describe, expect, it } from 'vitest';
import type { HeraldEvent, JsonObject } from '../../core/event.js';
import type { Cart, CartEntry, CartItem } from '../../core/profile.js';
import { cartFingerprint } from '../../core/cart-fingerprint.js';
import { seededRandom } from '../../ports/random.js';
import { aTrack, applyAll, daysMs, t0 } from './test-builders.js';
import { updateCart } from './update-cart.js';

const at = (minutes: number): number => t0 + daysMs(minutes / (24 * 60));
const added = (minute: number, props: JsonObject): HeraldEvent =>
  aTrack('Product Added', props, { timestampMs: at(minute) });

/** The ids of the three products of the highest margin (else price), as the cart agent picks them. */
const topByMargin = (items: readonly CartItem[] = []): string[] =>
  [...items]
    .sort((a, b) => (b.marginCents ?? b.priceCents) - (a.marginCents ?? a.priceCents))
    .slice(0, 3)
    .map((i) => i.productId);

/** Amounts kept in dollars; a euro is worth $1.08, the yen has no rate. */
const money = { currency: 'USD', exchangeRates: { EUR: 1.08 } };

/** The cart after each event in turn, as the live profile keeps it. */
const cartOf = (events: readonly HeraldEvent[]): Cart | null => {
  let cart: Cart | null = null;
  let log: readonly CartEntry[] | undefined;
  for (const event of events)
    ({ cart, cartLog: log } = updateCart(cart, log, undefined, event, money));
  return cart;
};

describe('updateCart: adding a product already in the cart', () => {
  const four = [
    added(0, { product_id: 'A', sku: 'SKU-A', name: 'Anorak', price: 100, margin: 10 }),
    added(1, { product_id: 'B', name: 'Boots', price: 60, margin: 50 }),
    added(2, { product_id: 'C', name: 'Cap', price: 40, margin: 30 }),
    added(3, { product_id: 'D', name: 'Dress', price: 20, margin: 15 }),
  ];

  it('keeps the margin, name and sku it knows when the new addition leaves them out', () => {
    const cart = cartOf([...four, added(4, { product_id: 'A', price: 100 })]);
    expect(cart?.items[0]).toEqual({
      productId: 'A',
      sku: 'SKU-A',
      name: 'Anorak',
      priceCents: 10000,
      quantity: 2,
      marginCents: 1000,
    });
    // The top three by margin stay B, C, D: A's known margin is the lowest.
    expect(topByMargin(cart?.items)).toEqual(['B', 'C', 'D']);
  });

  it('keeps the price it knows when the new addition gives none, and the cart its value', () => {
    const cart = cartOf([...four, added(4, { product_id: 'A', quantity: 1 })]);
    expect(cart?.items[0]).toMatchObject({ productId: 'A', priceCents: 10000, quantity: 2 });
    expect(cart?.valueCents).toBe(2 * 10000 + 6000 + 4000 + 2000);
    // A product first added without a price is worth nothing until one is given.
    const unpriced = cartOf([
      added(0, { product_id: 'Z' }),
      added(1, { product_id: 'Z', price: 5 }),
    ]);
    expect(unpriced?.items[0]).toMatchObject({ priceCents: 500, quantity: 2 });
    // … and is marked unpriced until then: the cart's value is not known.
    expect(unpriced?.items[0]?.unpriced).toBeUndefined();
    const sofa = cartOf([added(0, { product_id: 'S' }), added(1, { product_id: 'S' })]);
    expect(sofa?.items[0]).toMatchObject({ priceCents: 0, quantity: 2, unpriced: true });
    const viewed = cartOf([
      aTrack('Cart Viewed', { products: [{ product_id: 'S' }, { product_id: 'T', price: 3 }] }),
    ]);
    expect(viewed?.items.map((i) => i.unpriced === true)).toEqual([true, false]);
    // A cart kept before items carried the mark: its log's entry has it, and an item at no
    // price added again without one is taken as unpriced.
    const sofaItem = {
      productId: 'S',
      sku: null,
      name: null,
      priceCents: 0,
      quantity: 1,
      marginCents: null,
    };
    const { cart: kept } = updateCart(
      { items: [sofaItem], valueCents: 0, updatedAtMs: at(0) },
      [{ kind: 'add', atMs: at(0), item: sofaItem, unpriced: true }],
      undefined,
      added(5, { product_id: 'S' }),
      money,
    );
    expect(kept?.items[0]).toMatchObject({ quantity: 2, unpriced: true });
    // A price known before stays known through an addition that gives none.
    expect(cartOf([...four, added(4, { product_id: 'A' })])?.items[0]?.unpriced).toBeUndefined();
  });

  it('keeps prices in the profile’s currency: converted at their rate, unpriced with none', () => {
    const cart = cartOf([
      added(0, { product_id: 'E', price: 100, margin: 10, currency: 'eur' }),
      added(1, { product_id: 'Y', price: 25_000, margin: 5_000, currency: 'JPY' }),
      added(2, { product_id: 'U', price: 20, currency: 'USD' }),
      aTrack(
        'Cart Viewed',
        {
          currency: 'EUR',
          products: [
            { product_id: 'E', price: 100, quantity: 1 },
            { product_id: 'Y', price: 25_000, currency: 'JPY' },
            { product_id: 'U', price: 20, currency: 'USD' },
          ],
        },
        { timestampMs: at(3) },
      ),
    ]);
    expect(cart?.items).toEqual([
      expect.objectContaining({ productId: 'E', priceCents: 10_800, marginCents: 1_080 }),
      // No rate for the yen: ¥25,000 is not $25,000, and the cart's value does not count it.
      expect.objectContaining({ productId: 'Y', priceCents: 0, marginCents: null, unpriced: true }),
      expect.objectContaining({ productId: 'U', priceCents: 2_000 }),
    ]);
    expect(cart?.valueCents).toBe(12_800);
  });

  it('takes what the new addition does say', () => {
    const cart = cartOf([
      ...four,
      added(4, { product_id: 'A', name: 'Anorak (blue)', price: 100, margin: 70 }),
    ]);
    expect(cart?.items[0]).toMatchObject({
      name: 'Anorak (blue)',
      sku: 'SKU-A',
      marginCents: 7000,
    });
    expect(topByMargin(cart?.items)).toEqual(['A', 'B', 'C']);
  });

  it('comes to the same cart live and in a rebuild, whatever order the additions arrive in', () => {
    const random = seededRandom(7);
    for (let run = 0; run < 200; run += 1) {
      const events = Array.from({ length: 2 + Math.floor(random.next() * 8) }, (_, i) => {
        const props: JsonObject = { product_id: random.next() < 0.5 ? 'p1' : 'p2', price: 5 };
        if (random.next() < 0.5) props['margin'] = 1 + Math.floor(random.next() * 4);
        if (random.next() < 0.5) props['name'] = `name ${String(i)}`;
        if (random.next() < 0.3) props['sku'] = `sku ${String(i)}`;
        return added(i + 1, props);
      });
      const shuffled = [...events].sort(() => random.next() - 0.5);
      const label = JSON.stringify(shuffled.map((e) => [e.timestampMs, e.properties]));
      expect(applyAll(shuffled).cart, label).toEqual(applyAll(events).cart);
      expect(cartOf(shuffled), label).toEqual(cartOf(events));
    }
  });
});

describe('updateCart: a late order older than the changes folded into a snapshot', () => {
  const day = 24 * 60;
  const order = (minute: number, id = 'o1'): HeraldEvent =>
    aTrack('Order Completed', { order_id: id, total: 10 }, { timestampMs: at(minute) });
  const ids = (cart: Cart | null): string[] => cart?.items.map((i) => i.productId) ?? [];

  it('takes out what was added at or before it, as a rebuild in time order does', () => {
    const boots = added(0, { product_id: 'boots', price: 180 });
    const socks = added(10 * day, { product_id: 'socks', price: 7 });
    // The boots are folded into a snapshot (more than a week before the socks); their order,
    // placed a day after them, arrives last.
    const late = [boots, socks, order(day)];
    expect(ids(applyAll([boots, socks]).cart)).toEqual(['boots', 'socks']);
    expect(ids(applyAll(late).cart)).toEqual(['socks']);
    expect(applyAll(late).cart).toEqual(applyAll([boots, order(day), socks]).cart);
    // An addition of the same moment, which arrived before the order, is bought with it.
    const same = added(day, { product_id: 'hat', price: 20 });
    expect(ids(applyAll([boots, same, socks, order(day)]).cart)).toEqual(['socks']);
    // An order older than everything folded takes nothing out.
    expect(ids(applyAll([added(day, { product_id: 'hat' }), socks, order(0)]).cart)).toEqual([
      'hat',
      'socks',
    ]);
  });

  it('comes to the cart of a rebuild in time order, whenever its orders arrive', () => {
    const random = seededRandom(23);
    for (let run = 0; run < 300; run += 1) {
      // Changes over weeks, past the log's limits, each product added once (an item added
      // both before and after a late order keeps what was added before: see docs/profiles.md).
      let minute = 0;
      const events = Array.from({ length: 5 + Math.floor(random.next() * 70) }, (_, i) => {
        minute += Math.floor(random.next() * (random.next() < 0.2 ? 5 * day : 60));
        const kind = random.next();
        if (kind < 0.6)
          return added(minute, { product_id: `p${String(i)}`, price: 5, quantity: 1 + (i % 3) });
        if (kind < 0.75)
          return aTrack(
            'Product Removed',
            { product_id: `p${String(Math.floor(random.next() * i))}` },
            { timestampMs: at(minute) },
          );
        if (kind < 0.8)
          return aTrack(
            'Cart Viewed',
            { products: [{ product_id: `v${String(i)}`, price: 3 }] },
            { timestampMs: at(minute) },
          );
        return order(minute, `o${String(i)}`);
      });
      // Every change in time order, the orders each arriving at some later point.
      const arrival = events.filter((e) => e.name !== 'Order Completed');
      for (const e of events)
        if (e.name === 'Order Completed') {
          const from = arrival.findIndex((a) => a.timestampMs > e.timestampMs);
          const earliest = from === -1 ? arrival.length : from;
          arrival.splice(
            earliest + Math.floor(random.next() * (arrival.length - earliest + 1)),
            0,
            e,
          );
        }
      // A rebuild reads them in time order, those of one moment in the order they arrived.
      const inTime = [...arrival].sort((a, b) => a.timestampMs - b.timestampMs);
      const label = JSON.stringify(arrival.map((e) => [e.name, e.timestampMs]));
      expect(applyAll(arrival).cart, label).toEqual(applyAll(inTime).cart);
      expect(cartOf(arrival), label).toEqual(cartOf(inTime));
    }
  });
});

describe('updateCart: events stamped ahead of their arrival', () => {
  const hour = 60;
  /** Stamped `minute` on a clock running `fastMinutes` ahead: received that much earlier. */
  const ahead = (name: string, props: JsonObject, minute: number, fastMinutes: number) =>
    aTrack(name, props, { timestampMs: at(minute + fastMinutes), receivedAtMs: at(minute) });

  it('keeps what is added after an order from a clock running ahead, live and rebuilt', () => {
    // The shop's server runs 23 hours fast and sends its order without sentAt; a minute later
    // the customer adds a product (stamped correctly): a cart to recover.
    const order = ahead('Order Completed', { order_id: 'o1', total: 10 }, 0, 23 * hour);
    const boots = added(1, { product_id: 'boots', price: 80 });
    const live = applyAll([order, boots]);
    expect(live.cart).toEqual({
      items: [expect.objectContaining({ productId: 'boots', quantity: 1 })],
      valueCents: 8000,
      updatedAtMs: at(1),
    });
    // Closed when the order was received, not 23 hours on.
    expect(live.cartClosedAtMs).toBe(at(0));
    // A rebuild reads the events in stamp order: the order last.
    expect(applyAll([boots, order])).toEqual(live);
  });

  it('orders changes dated alike by their stamps, as a rebuild does', () => {
    // One batch from the fast clock, all received at minute 0: added, bought, added again.
    const batch = [
      ahead('Product Added', { product_id: 'hat', price: 20 }, 0, 23 * hour),
      ahead('Order Completed', { order_id: 'o1', total: 20 }, 0, 23 * hour + 1),
      ahead('Product Added', { product_id: 'scarf', price: 15 }, 0, 23 * hour + 2),
    ];
    const random = seededRandom(5);
    for (let run = 0; run < 20; run += 1) {
      const arrival = [...batch].sort(() => random.next() - 0.5);
      const label = JSON.stringify(arrival.map((e) => e.properties));
      expect(
        cartOf(arrival)?.items.map((i) => i.productId),
        label,
      ).toEqual(['scarf']);
      expect(applyAll(arrival).cart, label).toEqual(applyAll(batch).cart);
    }
  });
});

describe('updateCart: a look at the cart that names products without their prices', () => {
  const two = [
    added(0, { product_id: 'T', sku: 'SKU-T', name: 'Tee', price: 3, margin: 1 }),
    added(1, { product_id: 'S', name: 'Sofa', price: 2000, margin: 400 }),
  ];

  it('keeps what the cart knew of each product, so an offer made for it still fits', () => {
    const before = cartOf(two);
    const viewed = cartOf([
      ...two,
      aTrack(
        'Cart Viewed',
        { products: [{ product_id: 'T' }, { product_id: 'S' }] },
        { timestampMs: at(2) },
      ),
    ]);
    expect(viewed?.items).toEqual(before?.items);
    expect(viewed?.valueCents).toBe(2003_00);
    expect(cartFingerprint(viewed?.items ?? [])).toBe(cartFingerprint(before?.items ?? []));
  });

  it('comes to the same cart whatever order the events arrive in', () => {
    const sofa = added(0, { product_id: 'S', price: 2000 });
    const viewed = aTrack(
      'Cart Viewed',
      { products: [{ product_id: 'S' }] },
      { timestampMs: at(2) },
    );
    const tee = added(3, { product_id: 'T', price: 3 });
    const cap = added(4, { product_id: 'C', price: 5 });
    const inOrder = cartOf([sofa, viewed, tee, cap]);
    expect(inOrder?.valueCents).toBe(2008_00);
    for (const arrival of [
      [sofa, viewed, cap, tee],
      [sofa, tee, cap, viewed],
      [viewed, sofa, tee, cap],
      [viewed, cap, tee, sofa],
    ])
      expect(cartOf(arrival)?.items).toEqual(inOrder?.items);
  });

  it('takes a price the snapshot states, and leaves a new product without one unpriced', () => {
    const viewed = cartOf([
      ...two,
      aTrack(
        'Cart Viewed',
        { products: [{ product_id: 'T', price: 4 }, { product_id: 'L' }] },
        { timestampMs: at(2) },
      ),
    ]);
    expect(viewed?.items).toEqual([
      { productId: 'T', sku: 'SKU-T', name: 'Tee', priceCents: 400, quantity: 1, marginCents: 100 },
      {
        productId: 'L',
        sku: null,
        name: null,
        priceCents: 0,
        quantity: 1,
        marginCents: null,
        unpriced: true,
      },
    ]);
  });
});

describe('updateCart: what a cart is worth', () => {
  it('rounds each line to whole cents, not each unit: 101 at $0.994 is $100.39', () => {
    const cart = cartOf([added(0, { product_id: 'bolt', price: 0.994, quantity: 101 })]);
    expect(cart?.valueCents).toBe(10_039);
    expect(cart?.items[0]?.priceCents).toBeCloseTo(99.4, 10);
  });

  it('converts a unit price at its currency’s rate without rounding it first', () => {
    // 10 at €9.99 are €99.90, $107.892 at $1.08: 10,789 cents (a unit rounded to $10.79 gave 10,790).
    const cart = cartOf([
      added(0, { product_id: 'mug', price: 9.99, quantity: 10, currency: 'EUR' }),
    ]);
    expect(cart?.valueCents).toBe(10_789);
  });
});

describe('updateCart: a cart of many products', () => {
  it('holds the latest 200 distinct products, an addition past them dropping the oldest', () => {
    const events = Array.from({ length: 260 }, (_, i) =>
      added(i, { product_id: `p${String(i)}`, price: 1 }),
    );
    const cart = cartOf(events);
    expect(cart?.items).toHaveLength(200);
    expect(cart?.items[0]?.productId).toBe('p60');
    expect(cart?.items.at(-1)?.productId).toBe('p259');
    expect(cart?.valueCents).toBe(200 * 100);
  });
});
