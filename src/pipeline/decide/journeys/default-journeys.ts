import type { JourneyDefinition } from './journey-schema.js';

/**
 * The two flows of the requirements. Welcome: day 1 email and web banner, day 3 and day 7
 * emails (day N is N − 1 days after signup), ended by a purchase. Cart recovery: the cart
 * agent's offer when a cart is abandoned, an SMS reminder a day later if the cart is still open and no order came, and
 * the 7-day recovery window, ended by an order.
 */
export const defaultJourneys: JourneyDefinition[] = [
  {
    id: 'welcome',
    name: 'Welcome',
    entry: { trigger: 'signed-up' },
    exitOn: ['Order Completed'],
    reEntry: 'never',
    steps: [
      { id: 'day-1-email', type: 'send', channels: ['email'], template: 'welcome-1' },
      {
        id: 'day-1-banner',
        type: 'web',
        slot: 'homepage-hero',
        content: 'welcome-banner',
        ttlHours: 72,
      },
      { id: 'wait-to-day-3', type: 'wait', days: 2 },
      { id: 'day-3-email', type: 'send', channels: ['email'], template: 'welcome-2' },
      { id: 'wait-to-day-7', type: 'wait', days: 4 },
      { id: 'day-7-email', type: 'send', channels: ['email'], template: 'welcome-3' },
    ],
  },
  {
    id: 'cart-recovery',
    name: 'Cart recovery',
    entry: { trigger: 'cart-abandoned' },
    exitOn: ['Order Completed'],
    reEntry: 'after-exit',
    steps: [
      {
        id: 'offer',
        type: 'send',
        channels: ['email', 'push', 'sms'],
        template: 'cart-recovery',
        offer: 'cart',
        sendTimeOptimised: false,
      },
      { id: 'wait-a-day', type: 'wait', hours: 24 },
      // A cart emptied without an order needs no reminder.
      {
        id: 'cart-still-open',
        type: 'branch',
        if: { field: 'cartValue', op: 'gt', value: 0 },
        then: 'reminder',
        else: 'recovery-window',
      },
      {
        id: 'reminder',
        type: 'send',
        channels: ['sms', 'push', 'email'],
        template: 'cart-reminder',
      },
      { id: 'recovery-window', type: 'wait', days: 6 },
    ],
  },
];
