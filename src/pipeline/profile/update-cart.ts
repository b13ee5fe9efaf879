import type { HeraldEvent, JsonObject } from '../../core/event.js';
import type { Cart, CartItem } from '../../core/profile.js';
import {
  asNumber,
  asObject,
  asString,
  cartQuantityOf,
  pick,
  toCents,
} from '../../core/read-props.js';

/** Reads a product from Segment e-commerce properties; null without a product or sku id. */
/**
 * When the cart was last closed after an event: an order's time (the latest order closes
 * whatever it follows), or the time of the change that emptied the cart.
 */
export const cartClosedAfter = (
  before: Cart | null,
  after: Cart | null,
  event: HeraldEvent,
  closedAtMs: number | undefined,
): number | undefined => {
  if (event.type !== 'track') return closedAtMs;
  const at = event.timestampMs;
  if (event.name === 'Order Completed' || (before !== null && after === null))
    return closedAtMs === undefined ? at : Math.max(closedAtMs, at);
  return closedAtMs;
};

export const toCartItem = (props: JsonObject): CartItem | null => {
  const productId = asString(pick(props, 'product_id', 'productId', 'id', 'sku'));
  if (productId === null) return null;
  const price = asNumber(pick(props, 'price')) ?? 0;
  const margin = asNumber(pick(props, 'margin'));
  return {
    productId,
    sku: asString(pick(props, 'sku')),
    name: asString(pick(props, 'name')),
    priceCents: toCents(price),
    quantity: cartQuantityOf(pick(props, 'quantity')),
    marginCents: margin === null ? null : toCents(margin),
  };
};

const valueOf = (items: readonly CartItem[]): number =>
  items.reduce((sum, item) => sum + item.priceCents * item.quantity, 0);

const withItems = (items: CartItem[], atMs: number): Cart | null =>
  items.length === 0 ? null : { items, valueCents: valueOf(items), updatedAtMs: atMs };

const productsOf = (props: JsonObject): CartItem[] | null => {
  const products = props['products'];
  if (!Array.isArray(products)) return null;
  return products.flatMap((p) => {
    const item = asObject(p) === null ? null : toCartItem(p as JsonObject);
    return item === null ? [] : [item];
  });
};

/**
 * The open cart after an e-commerce event. A cart change older than the cart's last update, or
 * than the moment the cart was last closed (`closedAtMs`: an order, or its last item removed),
 * is ignored — events can arrive late, and a late `Product Added` must not reopen a cart an
 * order closed; a completed order empties the cart it followed.
 */
export const updateCart = (
  cart: Cart | null,
  event: HeraldEvent,
  closedAtMs: number | undefined,
): Cart | null => {
  const at = event.timestampMs;
  const stale = at < (cart === null ? (closedAtMs ?? -Infinity) : cart.updatedAtMs);
  switch (event.name) {
    case 'Product Added': {
      const item = toCartItem(event.properties);
      if (item === null || stale) return cart;
      const items = [...(cart?.items ?? [])];
      const index = items.findIndex((i) => i.productId === item.productId);
      const existing = items[index];
      if (existing === undefined) items.push(item);
      else items[index] = { ...existing, ...item, quantity: existing.quantity + item.quantity };
      return withItems(items, at);
    }
    case 'Product Removed': {
      const item = toCartItem(event.properties);
      if (item === null || stale || cart === null) return cart;
      const items = cart.items.flatMap((i) => {
        if (i.productId !== item.productId) return [i];
        const quantity = i.quantity - item.quantity;
        return quantity > 0 ? [{ ...i, quantity }] : [];
      });
      return withItems(items, at);
    }
    case 'Cart Viewed':
    case 'Checkout Started': {
      const items = productsOf(event.properties);
      if (items === null || stale) return cart;
      return withItems(items, at);
    }
    case 'Order Completed':
      return stale && cart !== null ? cart : null;
    default:
      return cart;
  }
};
