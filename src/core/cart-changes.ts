import type { CartEntry, CartItem } from './profile.js';

// The changes a cart's log records, applied: the profile folds its cart from them, and the
// hand-off reads from them what the cart held when an offer for it was made.

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
      if (existing === undefined) next.push(entry.item);
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
          // Its price is unknown until an event of it states one.
          ...(entry.unpriced === true && existing.unpriced === true ? { unpriced: true } : {}),
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
 * The items a cart's log had come to by `atMs` (its changes dated at or before then, in the
 * log's time order); null when the log starts after then (what came before is folded away).
 */
export const cartItemsBy = (log: readonly CartEntry[], atMs: number): CartItem[] | null => {
  const first = log[0];
  if (first === undefined || first.atMs > atMs) return null;
  let items: CartItem[] = [];
  for (const entry of log) if (entry.atMs <= atMs) items = applyCartChange(items, entry);
  return items;
};

/** Whether two carts hold the same products, as many of each, at the same prices. */
export const sameCartItems = (a: readonly CartItem[], b: readonly CartItem[]): boolean => {
  const key = (i: CartItem) =>
    `${i.productId}\u0000${String(i.quantity)}\u0000${String(i.priceCents)}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.length === right.length && left.every((k, n) => k === right[n]);
};
