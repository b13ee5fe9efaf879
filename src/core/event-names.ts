import { toSourceId } from './ids.js';

/**
 * The source of the events Herald records itself: no write key may name its source so, and an
 * event from it about a message is recorded only while that message exists (see `recordEvents`).
 */
export const HERALD_SOURCE = toSourceId('herald');

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
