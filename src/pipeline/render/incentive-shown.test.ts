import { describe, expect, it } from 'vitest';
import { defaultTemplates } from './default-templates.js';
import { channelsWithoutCode, refuseUnprintedCode } from './incentive-shown.js';
import type { Template } from './template.js';

const template = (overrides: Partial<Template>): Template => ({
  name: 'promo',
  class: 'marketing',
  topic: 'promotions',
  subject: 'Hello',
  preheader: '',
  text: 'Hi there',
  html: null,
  ...overrides,
});

describe('a template printing an incentive’s code', () => {
  it('is read per channel: the HTML for email, the text elsewhere, parameters on WhatsApp', () => {
    const inText = template({ text: 'Use {{ incentive.code }}', html: '<p>Hi</p>' });
    expect(channelsWithoutCode(inText, ['email', 'sms', 'push'])).toEqual(['email']);
    const inHtml = template({ html: '<b>{{incentive["code"]}}</b>' });
    expect(channelsWithoutCode(inHtml, ['email', 'sms'])).toEqual(['sms']);
    const inSubject = template({ subject: "Your code {{ incentive['code'] }}" });
    expect(channelsWithoutCode(inSubject, ['email', 'web'])).toEqual(['web']);
    const whatsapp = template({
      whatsapp: { language: 'en', parameters: ['{{ incentive.code }}'] },
    });
    expect(channelsWithoutCode(whatsapp, ['whatsapp', 'sms'])).toEqual(['sms']);
    // WhatsApp sends the approved template's variables, never Herald's text.
    const textOnly = template({
      text: 'Code {{ incentive.code }}',
      whatsapp: { language: 'en', parameters: ['{{ customer.firstName }}'] },
    });
    expect(channelsWithoutCode(textOnly, ['whatsapp', 'sms'])).toEqual(['whatsapp']);
    // A push's subject is its title.
    const titled = template({ subject: 'Your code: {{ incentive.code }}', text: '20% off today' });
    expect(channelsWithoutCode(titled, ['push', 'sms'])).toEqual(['sms']);
    // The percent alone names no code.
    expect(
      channelsWithoutCode(template({ text: '{{ incentive.percent }}% off' }), ['sms']),
    ).toEqual(['sms']);
  });

  it('is not a code named where nothing prints: a Liquid or HTML comment, a raw block', () => {
    for (const text of [
      '{% comment %}{{ incentive.code }}{% endcomment %}20% off',
      '{%- comment -%} {{ incentive.code }} {%- endcomment -%}20% off',
      '{% # {{ incentive.code }} %}20% off',
      '{% raw %}{{ incentive.code }}{% endraw %}20% off',
      '<!-- {{ incentive.code }} -->20% off',
    ])
      expect([text, channelsWithoutCode(template({ text }), ['sms'])]).toEqual([text, ['sms']]);
    expect(
      channelsWithoutCode(
        template({ text: '{% comment %}x{% endcomment %}Use {{ incentive.code }}' }),
        ['sms'],
      ),
    ).toEqual([]);
  });

  it('holds for the built-in offer templates, not for upsell', () => {
    const named = (name: string) => defaultTemplates.find((t) => t.name === name);
    for (const name of ['cart-recovery', 'win-back-offer', 'birthday'])
      expect(channelsWithoutCode(named(name) ?? template({}), ['email', 'sms'])).toEqual([]);
    expect(() => {
      refuseUnprintedCode(named('upsell') ?? template({}), ['email'], '/incentive');
    }).toThrow(/template "upsell" does not print the code \(incentive.code\) on email/);
  });
});
