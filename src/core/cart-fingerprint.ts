import { createHash } from 'node:crypto';
import type { CartItem } from './profile.js';

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
