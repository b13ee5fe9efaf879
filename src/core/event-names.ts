import { toSourceId } from './ids.js';

/**
 * The source of the events Herald records itself: no write key may name its source so, and an
 * event from it about a message is recorded only while that message exists (see `recordEvents`).
 */
export const HERALD_SOURCE = toSourceId('herald');

/** What the source of `herald import KIND`'s events begins with: `import-events`, … */
export const IMPORT_SOURCE_PREFIX = 'import-';

/**
 * The track events Herald records itself about its messages (delivery results, tracking,
 * provider webhooks); the profile stage reads them back like any customer's events.
 */
export const HERALD_EVENTS = {
  emailOpened: 'Email Opened',
  emailClicked: 'Email Link Clicked',
  emailDelivered: 'Email Delivered',
  emailBounced: 'Email Bounced',
  emailComplained: 'Email Marked as Spam',
  unsubscribed: 'Unsubscribed',
  marketingStopped: 'Marketing Stopped',
  smsDelivered: 'SMS Delivered',
  smsUndelivered: 'SMS Undelivered',
  smsClicked: 'SMS Link Clicked',
  pushTokenUnregistered: 'Push Token Unregistered',
  webImpression: 'Web Content Viewed',
  webClicked: 'Web Content Clicked',
} as const;

/**
 * Event names a journey is likely to name: the Segment e-commerce spec's, the sign-up and
 * consent events Herald reads, and its own. A journey naming one of them in another case or
 * spacing (`order completed`) would wait for an event that never comes by that name.
 */
export const WELL_KNOWN_EVENTS: readonly string[] = [
  'Products Searched',
  'Product List Viewed',
  'Product List Filtered',
  'Product Clicked',
  'Product Viewed',
  'Product Added',
  'Product Removed',
  'Cart Viewed',
  'Checkout Started',
  'Checkout Step Viewed',
  'Checkout Step Completed',
  'Payment Info Entered',
  'Order Updated',
  'Order Completed',
  'Order Refunded',
  'Order Cancelled',
  'Coupon Entered',
  'Coupon Applied',
  'Coupon Denied',
  'Coupon Removed',
  'Product Added to Wishlist',
  'Product Removed from Wishlist',
  'Wishlist Product Added to Cart',
  'Product Shared',
  'Cart Shared',
  'Product Reviewed',
  'Signed Up',
  'Signed In',
  'Signed Out',
  'Consent Updated',
  ...Object.values(HERALD_EVENTS),
];
