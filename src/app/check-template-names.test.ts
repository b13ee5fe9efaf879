import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { createRenderer, defaultTemplates } from '../pipeline/render/index.js';
import { checkTemplateNames } from './check-template-names.js';
import { loadConfig } from './load-config.js';
import { acmeSettings } from '../pipeline/render/test-builders.js';

const renderer = createRenderer(defaultTemplates, acmeSettings);
const problemsOf = (yaml: string | null) => {
  try {
    checkTemplateNames(loadConfig({}, yaml).decidePolicy, renderer);
    return [];
  } catch (error) {
    if (error instanceof AppError) return error.problems;
    throw error;
  }
};

describe('checkTemplateNames', () => {
  it('passes the default journeys and settings, which name built-in templates', () => {
    expect(problemsOf(null)).toEqual([]);
  });

  it('names every setting that names a template Herald does not have', () => {
    const yaml = `decide:
  cart: { template: cart-reminder-2 }
  customEvents:
    - { event: Trial Ended, template: trial-ended }
  journeys:
    - id: browse
      entry: { trigger: signed-up }
      steps:
        - { id: nudge, type: send, channels: [email], template: upsell }
        - { id: tests, type: send, channels: [email], template: upsell, variants: [upsell, upsel] }
        - { id: hello, type: web, slot: homepage-hero, content: welcome-banner, ttlHours: 24 }
        - { id: promo, type: web, slot: homepage-hero, content: spring-banner, ttlHours: 24 }
`;
    const message = (name: string) =>
      `names the template "${name}", which is neither built in nor in messages.templatesDir`;
    expect(problemsOf(yaml)).toEqual([
      { path: '/decide/cart/template', message: message('cart-reminder-2') },
      { path: '/decide/customEvents/0/template', message: message('trial-ended') },
      { path: '/decide/journeys/0/steps/1/variants/1', message: message('upsel') },
      { path: '/decide/journeys/0/steps/3/content', message: message('spring-banner') },
    ]);
  });
});

describe('checkTemplateNames: incentives', () => {
  it('names a step whose incentive goes through a template that never prints the code', () => {
    const yaml = `decide:
  journeys:
    - id: promo
      entry: { trigger: signed-up }
      steps:
        - { id: plain, type: send, channels: [email], template: upsell, incentive: { percent: 10, validHours: 48 } }
        - { id: coded, type: send, channels: [email, sms], template: win-back-offer, incentive: { percent: 10, validHours: 48 } }
        - { id: none, type: send, channels: [email], template: upsell }
`;
    expect(problemsOf(yaml)).toEqual([
      {
        path: '/decide/journeys/0/steps/0/template',
        message:
          'names the template "upsell", which does not print the step\'s code (incentive.code) on email: each customer would be given a discount no message names',
      },
    ]);
  });
});
