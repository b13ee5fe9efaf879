import { createHash } from 'node:crypto';
import type { CartEntry, CartItem } from './profile.js';

// The changes a cart's log records, applied (the profile folds its cart from them), and what a
// cart holds in a few characters (a cart offer keeps it, and the hand-off compares).

/** An item without its `unpriced` mark (set again where it still holds). */
const withoutUnpriced = (item: CartItem): CartItem => {
  if (item.unpriced === undefined) return item;
  const copy = { ...item };
  delete copy.unpriced;
  return copy;
};

/** The items a cart holds after one change of its log. */
export const applyCartChange = (items: CartItem[], entry: CartEntry): CartItem[] => {
  switch (entry.kind) {
    case 'set':
      return [...entry.items];
    case 'order':
      return [];
    case 'add': {
      const next = [...items];
      const index = next.findIndex((i) => i.productId === entry.item.productId);
      const existing = next[index];
      // The entry's own mark counts too: one logged before items carried it has it alone.
      if (existing === undefined)
        next.push(entry.unpriced === true ? { ...entry.item, unpriced: true } : entry.item);
      else {
        // What the new addition does not say (a quantity stepper's event without a margin or a
        // price) stays as known: a missing margin must not drop the product from the top by
        // margin, nor a missing price make the cart worth less. Applied
        // in time order from the log, so a rebuild comes to the same item.
        next[index] = {
          ...withoutUnpriced(existing),
          ...withoutUnpriced(entry.item),
          sku: entry.item.sku ?? existing.sku,
          name: entry.item.name ?? existing.name,
          marginCents: entry.item.marginCents ?? existing.marginCents,
          priceCents: entry.unpriced === true ? existing.priceCents : entry.item.priceCents,
          quantity: existing.quantity + entry.item.quantity,
          // Its price is unknown until an event of it states one (an item kept before items
          // carried the mark, at no price, is taken as unpriced: the safer reading).
          ...(entry.unpriced === true && (existing.unpriced === true || existing.priceCents === 0)
            ? { unpriced: true }
            : {}),
        };
      }
      return next;
    }
    case 'remove':
      return items.flatMap((i) => {
        if (i.productId !== entry.item.productId) return [i];
        const quantity = i.quantity - entry.item.quantity;
        return quantity > 0 ? [{ ...i, quantity }] : [];
      });
  }
};

/**
 * What a cart holds, in a few characters: its products, how many of each and at what price, in
 * any order. Two carts with the same fingerprint hold the same; a look at the cart (`Cart
 * Viewed`) that changes nothing keeps it.
 */
export const cartFingerprint = (items: readonly CartItem[]): string =>
  createHash('sha256')
    .update(
      items
        .map((i) => `${i.productId}\u0000${String(i.quantity)}\u0000${String(i.priceCents)}`)
        .sort()
        .join('\u0001'),
    )
    .digest('base64url')
    .slice(0, 22);
