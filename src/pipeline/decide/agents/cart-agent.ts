import type { Decision, Trigger } from '../../../core/decision.js';
import type { CartItem, Channel } from '../../../core/profile.js';
import { HOUR_MS } from '../../../core/time.js';
import { cartRecoveryWindowMs, type DecidePolicy } from '../policy.js';
import type { CustomerView, DecideEnv, Proposal } from '../proposal.js';
import { proposeMessage, toIncentiveCode } from './propose-message.js';

type IncentiveBand = DecidePolicy['cart']['incentiveBands'][number];

/** Whether a cart value falls under a band's bound: `below` is exclusive, `atMost` inclusive. */
const withinBand = (value: number, band: IncentiveBand): boolean =>
  'below' in band ? value < band.below : 'atMost' in band ? value <= band.atMost : true;

/** The discount band for a cart value (major units): the first band whose bound takes it. */
export const cartIncentivePercent = (
  value: number,
  bands: DecidePolicy['cart']['incentiveBands'],
): number => {
  for (const band of bands) if (withinBand(value, band)) return band.percent;
  return bands.at(-1)?.percent ?? 0;
};

const byMarginThenPrice = (a: CartItem, b: CartItem): number => {
  if (a.marginCents !== null && b.marginCents !== null) return b.marginCents - a.marginCents;
  if (a.marginCents !== null) return -1;
  if (b.marginCents !== null) return 1;
  return b.priceCents - a.priceCents;
};

/**
 * The products to show: those with a known margin first, highest margin first, then the others
 * by unit price. A margin and a price are not comparable: a product whose margin the feed lacks
 * would otherwise outrank every product whose margin is below its price, that is nearly all.
 */
export const topCartProducts = (items: readonly CartItem[], n: number): CartItem[] =>
  [...items].sort(byMarginThenPrice).slice(0, n);

/**
 * Where a journey step sends the offer: its channels, in its order of preference, and
 * template; the step's own incentive in place of the cart bands', and its template variants.
 */
export interface CartOfferSend {
  wanted: readonly Channel[];
  template: string;
  incentive?: { percent: number; validHours: number };
  experiment?: Decision['experiment'];
}

const CART_CHANNELS: readonly Channel[] = ['email', 'push', 'sms'];

/**
 * Abandoned cart: the offer for a cart left unchanged for `idleMinutes`. The cart must still be
 * the one that armed the timer (a later change re-armed it; an order cancelled it). A journey
 * step running it says where it goes (`send`); otherwise email, push or SMS with the policy's
 * template.
 */
export const cartAgent = (
  view: CustomerView,
  trigger: Extract<Trigger, { kind: 'cart-abandoned' }>,
  env: DecideEnv,
  nowMs: number,
  journey: Decision['journey'] = null,
  send: CartOfferSend | null = null,
): Proposal | string => {
  const cart = view.state.cart;
  if (cart === null) return 'the cart is empty now';
  if (cart.updatedAtMs !== trigger.cartUpdatedAtMs)
    return 'the cart changed after the timer was set';
  const p = env.policy.cart;
  const value = cart.valueCents / 100;
  const own = send?.incentive;
  // A product whose events stated no price counts 0, so the cart's value is not known: a $2,000
  // sofa would take the under-$100 band. Such a cart gets the smallest discount any band gives.
  const unpriced = cart.items.filter((i) => i.unpriced === true).length;
  const percent =
    own?.percent ??
    (unpriced > 0
      ? Math.min(...p.incentiveBands.map((b) => b.percent))
      : cartIncentivePercent(value, p.incentiveBands));
  const validHours = own?.validHours ?? p.codeValidHours;
  const decisionSeed = env.nextId();
  const products = topCartProducts(cart.items, p.topProducts);
  const idleHours = Math.round(((nowMs - cart.updatedAtMs) / HOUR_MS) * 10) / 10;
  const proposal = proposeMessage(
    view,
    {
      agent: 'cart',
      trigger,
      action: 'cart-recovery',
      wanted: send?.wanted ?? CART_CHANNELS,
      template: send?.template ?? p.template,
      incentive: {
        kind: 'percent-off',
        percent,
        amount: null,
        code: toIncentiveCode(`CART${percent}`, decisionSeed),
        expiresAtMs: nowMs + validHours * HOUR_MS,
      },
      baseConfidence: 0.9,
      priority: env.policy.priorities.cart,
      valueAtStake: value,
      reasons: [
        `cart of $${value.toFixed(2)} idle for ${idleHours} h (threshold ${p.idleMinutes / 60} h)`,
        own !== undefined
          ? `${percent} % incentive set by the journey step`
          : unpriced > 0
            ? `${percent} % incentive, the smallest band's: ${unpriced} of the cart's products have no price, so its value is not known`
            : `${percent} % incentive for a cart value ${bandText(value, p.incentiveBands)}`,
        `code valid ${validHours} h`,
        `top ${products.length} of ${cart.items.length} products by margin`,
      ],
      atMs: nowMs,
      optimiseSendTime: false,
      journey,
      experiment: send?.experiment ?? null,
      details: {
        cartValue: value,
        products: products.map((i) => ({
          productId: i.productId,
          name: i.name,
          price: i.priceCents / 100,
        })),
      },
    },
    env,
  );
  // Tracked from when the message is to leave, as the KPIs count it (quiet hours may hold it).
  // Set on the details `proposeMessage` has just made for this proposal, not on a copy of both.
  proposal.details['recoveryWindowEndsAtMs'] =
    proposal.scheduledForMs + cartRecoveryWindowMs(env.policy);
  return proposal;
};

const bandText = (value: number, bands: DecidePolicy['cart']['incentiveBands']): string => {
  // Where the band before ended: a `below` band leaves its bound to the next band, an `atMost`
  // band keeps it.
  let lower: { at: number; kept: boolean } | null = null;
  for (const band of bands) {
    const upper = 'below' in band ? band.below : 'atMost' in band ? band.atMost : null;
    if (upper === null) break;
    if (withinBand(value, band)) {
      if (lower !== null) return `of $${lower.at}–${upper}`;
      return 'below' in band ? `under $${upper}` : `up to $${upper}`;
    }
    lower = { at: upper, kept: 'atMost' in band };
  }
  if (lower === null) return 'of any amount';
  return lower.kept ? `above $${lower.at}` : `of $${lower.at} or more`;
};
