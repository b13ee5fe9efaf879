import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { decidePolicySchema } from '../policy.js';
import type { Proposal } from '../proposal.js';
import {
  aCart,
  aCartItem,
  aState,
  aView,
  anEnv,
  defaultDecidePolicy,
  hoursMs,
  t0,
  withPolicy,
} from '../test-builders.js';
import { cartAgent, cartIncentivePercent, topCartProducts } from './cart-agent.js';

const bands = defaultDecidePolicy().cart.incentiveBands;
const cartUpdatedAtMs = t0 - hoursMs(2);
const trigger = { kind: 'cart-abandoned', cartUpdatedAtMs } as const;

/** A customer whose one-item cart is worth `dollars`, unchanged for two hours. */
const viewWithCart = (dollars: number) =>
  aView({
    state: aState({
      cart: aCart([aCartItem({ priceCents: Math.round(dollars * 100) })], cartUpdatedAtMs),
    }),
  });

const propose = (dollars: number): Proposal => {
  const result = cartAgent(viewWithCart(dollars), trigger, anEnv(), t0);
  if (typeof result === 'string') throw new Error(`expected a proposal, got: ${result}`);
  return result;
};

describe('cartIncentivePercent', () => {
  it.each([
    [0.01, 25],
    [99.99, 25],
    [100, 20],
    [250, 20],
    [499.99, 20],
    [500, 20],
    [500.01, 15],
    [12_000, 15],
  ])('gives a $%d cart %d %', (value, percent) => {
    expect(cartIncentivePercent(value, bands)).toBe(percent);
  });

  it('takes a `below` bound as exclusive and an `atMost` bound as inclusive', () => {
    const own = [{ atMost: 50, percent: 30 }, { below: 200, percent: 10 }, { percent: 5 }];
    expect([50, 50.01, 199.99, 200].map((v) => cartIncentivePercent(v, own))).toEqual([
      30, 10, 10, 5,
    ]);
  });
});

describe('the incentive bands in the policy', () => {
  const withBands = (incentiveBands: unknown[]) => ({
    ...defaultDecidePolicy(),
    cart: { ...defaultDecidePolicy().cart, incentiveBands },
  });
  // A band is a union: what each of its branches refused is under the union's error.
  const errorPaths = (incentiveBands: unknown[]) =>
    [...Value.Errors(decidePolicySchema, withBands(incentiveBands))].flatMap((e) => [
      e.path,
      ...e.errors.flatMap((branch) => [...branch].map((b) => b.path)),
    ]);

  it('has `below`, `atMost` or no bound in each band', () => {
    expect(Value.Check(decidePolicySchema, defaultDecidePolicy())).toBe(true);
    expect(
      errorPaths([{ atMost: 50, percent: 30 }, { below: 200, percent: 10 }, { percent: 5 }]),
    ).toEqual([]);
  });

  it('refuses a band with both bounds, or a key it does not know, at that key', () => {
    expect(errorPaths([{ below: 100, atMost: 500, percent: 20 }, { percent: 15 }])).toContain(
      '/cart/incentiveBands/0/atMost',
    );
    expect(errorPaths([{ atmost: 500, percent: 20 }, { percent: 15 }])).toContain(
      '/cart/incentiveBands/0/atmost',
    );
  });
});

describe('topCartProducts', () => {
  const a = aCartItem({ productId: 'a', priceCents: 5000, marginCents: 500 });
  const b = aCartItem({ productId: 'b', priceCents: 1000, marginCents: 800 });
  const c = aCartItem({ productId: 'c', priceCents: 700, marginCents: null });
  const d = aCartItem({ productId: 'd', priceCents: 300, marginCents: 100 });

  it('orders by margin and keeps the top n', () => {
    expect(topCartProducts([d, a, c, b], 3).map((i) => i.productId)).toEqual(['b', 'a', 'd']);
  });

  it('puts the products without a known margin after the others, by unit price', () => {
    // A price is no margin: the $150 cable would otherwise outrank the $90-margin rug.
    const rug = aCartItem({ productId: 'rug', priceCents: 20_000, marginCents: 9_000 });
    const lamp = aCartItem({ productId: 'lamp', priceCents: 30_000, marginCents: 12_000 });
    const cable = aCartItem({ productId: 'cable', priceCents: 15_000, marginCents: null });
    const plug = aCartItem({ productId: 'plug', priceCents: 900, marginCents: null });
    expect(topCartProducts([plug, cable, rug, lamp], 3).map((i) => i.productId)).toEqual([
      'lamp',
      'rug',
      'cable',
    ]);
    expect(topCartProducts([plug, cable], 2).map((i) => i.productId)).toEqual(['cable', 'plug']);
  });

  it('keeps every product of a cart smaller than n', () => {
    expect(topCartProducts([d, a], 3).map((i) => i.productId)).toEqual(['a', 'd']);
  });

  it('leaves the cart it was given in its order', () => {
    const items = [d, a, c, b];
    topCartProducts(items, 3);
    expect(items.map((i) => i.productId)).toEqual(['d', 'a', 'c', 'b']);
  });
});

describe('cartAgent', () => {
  it.each([
    [99.99, 25],
    [100, 20],
    [250, 20],
    [499.99, 20],
    [500, 20],
    [500.01, 15],
    [800, 15],
  ])('offers a $%d cart %d % off', (dollars, percent) => {
    const proposal = propose(dollars);
    expect(proposal.incentive?.percent).toBe(percent);
    expect(proposal.incentive?.code).toMatch(new RegExp(`^CART${percent}-[A-Z2-9]{12}$`));
  });

  it('proposes the cart-recovery message, valid for 48 hours', () => {
    const proposal = propose(250);
    expect(proposal).toMatchObject({
      agent: 'cart',
      kind: 'send',
      action: 'cart-recovery',
      template: 'cart-recovery',
      trigger,
      priority: 90,
      channels: ['email'],
      scheduledForMs: t0,
      journey: null,
    });
    expect(proposal.incentive).toMatchObject({ kind: 'percent-off', amount: null });
    expect(proposal.incentive?.expiresAtMs).toBe(t0 + hoursMs(48));
  });

  it('gives the code its 48 hours, and the recovery its 7 days, from when the message leaves', () => {
    // Idle at 22:00 UTC (quiet hours 21:00–08:00 UTC): held until 08:00.
    const late = t0 + hoursMs(10);
    const idleSince = late - hoursMs(2);
    const view = aView({
      state: aState({ cart: aCart([aCartItem({ priceCents: 25_000 })], idleSince) }),
    });
    const result = cartAgent(
      view,
      { kind: 'cart-abandoned', cartUpdatedAtMs: idleSince },
      anEnv(),
      late,
    );
    if (typeof result === 'string') throw new Error(result);
    const eight = Date.parse('2026-01-16T08:00:00.000Z');
    expect(result.scheduledForMs).toBe(eight);
    expect(result.incentive?.expiresAtMs).toBe(eight + hoursMs(48));
    // The recovery is tracked for 7 days from then too, as the KPIs count it.
    expect(result.details['recoveryWindowEndsAtMs']).toBe(eight + hoursMs(7 * 24));
  });

  it('weighs the cart value by confidence as the expected value', () => {
    const proposal = propose(250);
    expect(proposal.confidence).toBeGreaterThan(0.5);
    expect(proposal.expectedValue).toBeCloseTo(proposal.confidence * 250, 2);
  });

  it('explains the band, the idle time and the products in its reasons', () => {
    const reasons = propose(250).reasons;
    expect(reasons).toContain('cart of $250.00 idle for 2 h (threshold 2 h)');
    expect(reasons).toContain('20 % incentive for a cart value of $100–500');
    expect(propose(50).reasons).toContain('25 % incentive for a cart value under $100');
    expect(propose(500).reasons).toContain('20 % incentive for a cart value of $100–500');
    expect(propose(900).reasons).toContain('15 % incentive for a cart value above $500');
    const env = anEnv({
      policy: withPolicy({
        cart: {
          ...defaultDecidePolicy().cart,
          incentiveBands: [
            { atMost: 50, percent: 30 },
            { below: 200, percent: 10 },
            { percent: 5 },
          ],
        },
      }),
    });
    const reasonFor = (dollars: number) =>
      (cartAgent(viewWithCart(dollars), trigger, env, t0) as Proposal).reasons[1];
    expect(reasonFor(50)).toBe('30 % incentive for a cart value up to $50');
    expect(reasonFor(200)).toBe('5 % incentive for a cart value of $200 or more');
  });

  it('offers the smallest band to a cart holding a product with no price: its value is unknown', () => {
    // A $2,000 sofa whose feed left out the price counted $0: the under-$100 band's 25 %.
    const sofa = aCartItem({ productId: 'sofa', priceCents: 0, unpriced: true });
    const view = aView({ state: aState({ cart: aCart([sofa], cartUpdatedAtMs) }) });
    const result = cartAgent(view, trigger, anEnv(), t0);
    if (typeof result === 'string') throw new Error(result);
    expect(result.incentive?.percent).toBe(15);
    expect(result.reasons).toContain(
      "15 % incentive, the smallest band's: 1 of the cart's products have no price, so its value is not known",
    );
  });

  it('shows the top three products by margin, prices in major units', () => {
    const items = [
      aCartItem({ productId: 'a', name: 'A', priceCents: 5000, marginCents: 500 }),
      aCartItem({ productId: 'b', name: 'B', priceCents: 1000, marginCents: 800 }),
      aCartItem({ productId: 'c', name: 'C', priceCents: 700, marginCents: null }),
      aCartItem({ productId: 'd', name: 'D', priceCents: 300, marginCents: 100 }),
    ];
    const view = aView({ state: aState({ cart: aCart(items, cartUpdatedAtMs) }) });
    const proposal = cartAgent(view, trigger, anEnv(), t0);
    if (typeof proposal === 'string') throw new Error(proposal);
    expect(proposal.details['cartValue']).toBe(70);
    expect(proposal.details['products']).toEqual([
      { productId: 'b', name: 'B', price: 10 },
      { productId: 'a', name: 'A', price: 50 },
      { productId: 'd', name: 'D', price: 3 },
    ]);
    expect(proposal.reasons).toContain('top 3 of 4 products by margin');
  });

  it('gives distinct decisions distinct codes', () => {
    const env = anEnv();
    const first = cartAgent(viewWithCart(250), trigger, env, t0);
    const second = cartAgent(viewWithCart(250), trigger, env, t0);
    if (typeof first === 'string' || typeof second === 'string') throw new Error('no proposal');
    expect(first.incentive?.code).not.toBe(second.incentive?.code);
  });

  it('is not moved to a best send hour', () => {
    const byHourOfWeek = { [String(3 * 24 + 18)]: 50 }; // Thursday 18:00 UTC, six hours after t0
    const view = aView({
      state: aState({
        responses: { byChannel: { email: 50 }, byHourOfWeek },
        cart: aCart([aCartItem({ priceCents: 25_000 })], cartUpdatedAtMs),
      }),
    });
    const proposal = cartAgent(view, trigger, anEnv(), t0);
    if (typeof proposal === 'string') throw new Error(proposal);
    expect(proposal.scheduledForMs).toBe(t0);
  });

  it('carries the journey step it runs for', () => {
    const ref = { id: 'cart-recovery', version: 2, stepId: 'offer' };
    const proposal = cartAgent(viewWithCart(250), trigger, anEnv(), t0, ref);
    if (typeof proposal === 'string') throw new Error(proposal);
    expect(proposal.journey).toEqual(ref);
  });

  it('does nothing when the cart is empty now', () => {
    const view = aView({ state: aState({ cart: null }) });
    expect(cartAgent(view, trigger, anEnv(), t0)).toBe('the cart is empty now');
  });

  it('does nothing when the cart changed after the timer was set', () => {
    const view = aView({
      state: aState({ cart: aCart([aCartItem()], cartUpdatedAtMs + hoursMs(1)) }),
    });
    expect(cartAgent(view, trigger, anEnv(), t0)).toBe('the cart changed after the timer was set');
  });
});
