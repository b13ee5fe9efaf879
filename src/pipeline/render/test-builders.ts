import type { RenderSettings } from './create-renderer.js';

/** A sender configured as CAN-SPAM asks (a postal address, https links), for tests that render. */
export const acmeSettings: RenderSettings = {
  brandName: 'Acme',
  from: 'shop@acme.test',
  replyTo: null,
  postalAddress: '1 Main St, Springfield',
  publicUrl: 'https://herald.acme.test',
  shopUrl: 'https://acme.test',
  linkSecret: 'secret',
};
