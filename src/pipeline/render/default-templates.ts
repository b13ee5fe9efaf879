import type { Template } from './template.js';

const t = (
  name: string,
  subject: string,
  text: string,
  extra: Partial<Template> = {},
): Template => ({
  name,
  class: 'marketing',
  topic: 'promotions',
  subject,
  preheader: '',
  text,
  html: null,
  ...extra,
});

const offer =
  '{% if incentive %}Use code {{ incentive.code }} for {{ incentive.percent }}% off, valid until {{ incentive.expiresOn }}.{% endif %}';

/**
 * The templates every built-in agent and journey names, so a fresh install renders what it
 * decides. A configured template directory overrides them by name.
 */
export const defaultTemplates: readonly Template[] = [
  t(
    'welcome-1',
    'Welcome to {{ brand.name }}, {{ customer.firstName | default: "friend" }}',
    'Hi {{ customer.firstName | default: "there" }}, thanks for joining {{ brand.name }}. Start exploring: {{ links.shop }}',
    { topic: 'onboarding' },
  ),
  t(
    'welcome-2',
    '{{ customer.firstName | default: "Hi" }}, a few favourites picked for you',
    'Hi {{ customer.firstName | default: "there" }}, here are the pieces our customers love most: {{ links.shop }}',
    { topic: 'onboarding' },
  ),
  t(
    'welcome-3',
    'Still looking, {{ customer.firstName | default: "friend" }}?',
    'Hi {{ customer.firstName | default: "there" }}, if you have questions, just reply to this email. Browse: {{ links.shop }}',
    { topic: 'onboarding' },
  ),
  t(
    'welcome-banner',
    '',
    'Welcome to {{ brand.name }}{% if customer.firstName %}, {{ customer.firstName }}{% endif %}!',
    { topic: 'onboarding' },
  ),
  t(
    'cart-recovery',
    '{{ customer.firstName | default: "Hi" }}, your cart is waiting',
    'Hi {{ customer.firstName | default: "there" }}, you left {{ cart.itemCount }} item(s) worth {{ cart.total }} in your cart. ' +
      offer +
      ' Complete your order: {{ links.cart }}',
  ),
  t(
    'cart-reminder',
    '{{ customer.firstName | default: "Hi" }}, still thinking it over?',
    'Hi {{ customer.firstName | default: "there" }}, your cart is still saved. ' +
      offer +
      ' {{ links.cart }}',
  ),
  t(
    'win-back-generic',
    'We miss you, {{ customer.firstName | default: "friend" }}',
    'Hi {{ customer.firstName | default: "there" }}, it has been a while. ' +
      offer +
      ' See what is new: {{ links.shop }}',
    { topic: 'win-back' },
  ),
  t(
    'win-back-new-products',
    '{{ customer.firstName | default: "Hi" }}, new arrivals picked for you',
    'Hi {{ customer.firstName | default: "there" }}, we have added new products since your last visit. ' +
      offer +
      ' {{ links.shop }}',
    { topic: 'win-back' },
  ),
  t(
    'win-back-offer',
    '{{ customer.firstName | default: "Hi" }}, a thank-you offer',
    'Hi {{ customer.firstName | default: "there" }}, ' + offer + ' {{ links.shop }}',
    { topic: 'win-back' },
  ),
  t(
    'reactivation',
    '{{ customer.firstName | default: "Hi" }}, come back and see what changed',
    'Hi {{ customer.firstName | default: "there" }}, a lot has changed at {{ brand.name }}. ' +
      offer +
      ' {{ links.shop }}',
    { topic: 'win-back' },
  ),
  t(
    'onboarding',
    'Getting started with {{ brand.name }}',
    'Hi {{ customer.firstName | default: "there" }}, here is how to get the most out of {{ brand.name }}: {{ links.shop }}',
    { topic: 'onboarding' },
  ),
  t(
    'upsell',
    '{{ customer.firstName | default: "Hi" }}, picked to go with your last order',
    'Hi {{ customer.firstName | default: "there" }}, customers who bought what you did also liked these: {{ links.shop }}',
  ),
  t(
    'first-order',
    'Thank you for your first order, {{ customer.firstName | default: "friend" }}',
    'Hi {{ customer.firstName | default: "there" }}, thank you for your first order with {{ brand.name }}. Track it and find care tips: {{ links.shop }}',
    { topic: 'orders' },
  ),
  t(
    'order-milestone',
    '{{ customer.firstName | default: "Hi" }}, thank you for being a regular',
    'Hi {{ customer.firstName | default: "there" }}, that was order number {{ details.orderNumber | default: "another" }} - thank you. {{ links.shop }}',
    { topic: 'orders' },
  ),
  t(
    'birthday',
    'Happy birthday, {{ customer.firstName | default: "friend" }}',
    'Hi {{ customer.firstName | default: "there" }}, happy birthday from all of us at {{ brand.name }}. ' +
      offer +
      ' {{ links.shop }}',
    { topic: 'occasions' },
  ),
  t(
    'anniversary',
    '{{ customer.firstName | default: "Hi" }}, happy anniversary',
    'Hi {{ customer.firstName | default: "there" }}, you joined {{ brand.name }} a while ago - thank you for staying. ' +
      offer +
      ' {{ links.shop }}',
    { topic: 'occasions' },
  ),
];
