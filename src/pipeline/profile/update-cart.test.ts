import { describe, expect, it } from 'vitest';
import type { HeraldEvent, JsonObject } from '../../core/event.js';
import type { Cart, CartEntry, CartItem } from '../../core/profile.js';
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

/** The cart after each event in turn, as the live profile keeps it. */
const cartOf = (events: readonly HeraldEvent[]): Cart | null => {
  let cart: Cart | null = null;
  let log: readonly CartEntry[] | undefined;
  for (const event of events) ({ cart, cartLog: log } = updateCart(cart, log, undefined, event));
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
