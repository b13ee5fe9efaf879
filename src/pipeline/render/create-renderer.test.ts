import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import { aDecision } from '../../../test/support/builders.js';
import { createRenderer, RUN_TIME_TEMPLATES_KEPT } from './create-renderer.js';
import type { Template } from './template.js';
import type { ProfileState } from '../../core/profile.js';

const T0 = Date.UTC(2026, 5, 3, 12);
const template: Template = {
  name: 'news',
  class: 'marketing',
  topic: 'promotions',
  subject: 'News for {{ customer.firstName | default: "you" }}',
  preheader: '',
  text: 'Hi {{ customer.firstName }}, see {{ links.shop }}',
  html: '<html><body><p>Hi {{ customer.firstName }}, <a href="{{ links.shop }}">see</a></p></body></html>',
};
const settings = {
  brandName: 'Herald Store',
  from: 'Herald <m@example.com>',
  replyTo: null,
  postalAddress: '1 Main St',
  publicUrl: 'https://h.example.com',
  shopUrl: 'https://shop.example.com',
  linkSecret: 'secret',
};
const renderer = createRenderer([template], settings);
const decision = aDecision({
  id: 'm-1',
  customerId: toCustomerId('c-1'),
  template: 'news',
  scheduledForMs: T0,
  createdAtMs: T0,
});
const rendered = renderer.render({
  messageClass: 'marketing',
  messageId: 'm-1',
  channel: 'email',
  template,
  profile: undefined,
  decision,
});
const message = {
  messageId: 'm-1',
  channel: 'email',
  templateName: 'news',
  marketing: true,
  decision,
} as const;
const count = (text: string | null, part: string) => (text ?? '').split(part).length - 1;

describe('withEdits', () => {
  it('gives edited HTML written anew its footer, its pixel and tracked links', () => {
    const edited = renderer.withEdits(message, rendered, {
      body: 'New copy: https://shop.example.com/new',
      html: '<p>New copy: <a href="https://shop.example.com/new">new</a></p>',
    });
    const unsubscribe = rendered.unsubscribeUrl ?? '';
    expect(unsubscribe).toMatch(/^https:\/\/h\.example\.com\/u\//);
    for (const part of [edited.body, edited.html]) {
      expect(count(part, unsubscribe)).toBe(1);
      expect(count(part, '1 Main St')).toBe(1);
      expect(part).not.toContain('"https://shop.example.com/new"');
      expect(part).toContain('https://h.example.com/t/c/');
    }
    expect(count(edited.html, 'https://h.example.com/t/o/')).toBe(1);
    expect(edited.subject).toBe(rendered.subject);
  });

  it('changes nothing else in copy that kept its footer and pixel', () => {
    const html = (rendered.html ?? '').replace('Hi', 'Hello');
    const body = rendered.body.replace('Hi', 'Hello');
    const edited = renderer.withEdits(message, rendered, { body, html, subject: 'Mended' });
    expect(edited).toEqual({ ...rendered, body, html, subject: 'Mended' });
  });

  it('puts the footer back when an edit kept the unsubscribe link but not the postal address', () => {
    const unsubscribe = rendered.unsubscribeUrl ?? '';
    const edited = renderer.withEdits(message, rendered, {
      body: `New copy\nUnsubscribe: ${unsubscribe}`,
      html: `<p>New copy <a href="${unsubscribe}">Unsubscribe</a></p>`,
    });
    for (const part of [edited.body, edited.html]) expect(count(part, '1 Main St')).toBe(1);
  });

  it('prints a brand or address with $ signs as written', () => {
    const dollars = createRenderer([template], {
      brandName: 'Shop $& Co',
      from: 'Shop <m@example.com>',
      replyTo: null,
      postalAddress: "1 Main St $'",
      publicUrl: 'https://h.example.com',
      shopUrl: 'https://shop.example.com',
      linkSecret: 'secret',
    });
    const html =
      dollars.render({
        messageClass: 'marketing',
        messageId: 'm-2',
        channel: 'email',
        template,
        profile: undefined,
        decision,
      }).html ?? '';
    expect(html).toContain('Shop $&#38; Co · 1 Main St $&#39;');
    expect(count(html, '</body>')).toBe(1);
  });

  it('adds no footer to an edited transactional email', () => {
    const edited = renderer.withEdits({ ...message, marketing: false }, rendered, {
      body: 'Your receipt',
    });
    expect(edited.body).toBe('Your receipt');
  });
});

describe('unsubscribe links', () => {
  it('gives marketing email an unsubscribe link for List-Unsubscribe, and a receipt none', () => {
    expect(rendered.unsubscribeUrl).toMatch(/^https:\/\/h\.example\.com\/u\//);
    const receipt = renderer.render({
      messageClass: 'transactional',
      messageId: 'm-2',
      channel: 'email',
      template,
      profile: undefined,
      decision,
    });
    expect(receipt.unsubscribeUrl).toBeNull();
    expect(receipt.body).not.toContain('/u/');
  });
});

describe('WhatsApp templates', () => {
  const shipped: Template = {
    name: 'order-shipped',
    class: 'transactional',
    topic: null,
    subject: '',
    preheader: '',
    text: 'Hi {{ customer.firstName }}, order {{ details.orderId }} is on its way',
    html: null,
    whatsapp: {
      language: '{{ customer.traits.whatsappLanguage | default: "en_US" }}',
      parameters: ['{{ customer.firstName }}', '{{ details.orderId }}'],
    },
  };
  const whatsApp = createRenderer([shipped, template], {
    brandName: 'Herald Store',
    from: 'Herald <m@example.com>',
    replyTo: null,
    postalAddress: '1 Main St',
    publicUrl: 'https://h.example.com',
    shopUrl: 'https://shop.example.com',
    linkSecret: 'secret',
  });
  const profileWith = (traits: Record<string, string>) =>
    ({ traits }) as unknown as Parameters<typeof whatsApp.render>[0]['profile'];
  const shippedDecision = aDecision({
    id: 'm-3',
    customerId: toCustomerId('c-1'),
    template: 'order-shipped',
    details: { orderId: 'A-1001' },
    scheduledForMs: T0,
    createdAtMs: T0,
  });

  it('renders the approved template’s name, language and variables in order', () => {
    const content = whatsApp.render({
      messageClass: 'marketing',
      messageId: 'm-3',
      channel: 'whatsapp',
      template: shipped,
      profile: profileWith({ firstName: 'Ada\n\tLovelace', whatsappLanguage: 'de' }),
      decision: shippedDecision,
    });
    expect(content.whatsapp).toEqual({
      name: 'order_shipped',
      language: 'de',
      parameters: ['Ada Lovelace', 'A-1001'],
    });
    expect(content.body).toBe('Hi Ada\n\tLovelace, order A-1001 is on its way');
  });

  it('names the template at Meta as configured, and leaves a missing value empty', () => {
    const named: Template = {
      ...shipped,
      name: 'shipped',
      whatsapp: {
        name: 'order_update_v2',
        language: 'en_US',
        parameters: ['{{ customer.firstName }}', '{{ details.orderId }}'],
      },
    };
    const r = createRenderer([named], {
      brandName: 'B',
      from: 'b@example.com',
      replyTo: null,
      postalAddress: null,
      publicUrl: 'https://h.example.com',
      shopUrl: 'https://shop.example.com',
      linkSecret: 'secret',
    });
    const content = r.render({
      messageClass: 'marketing',
      messageId: 'm-4',
      channel: 'whatsapp',
      template: named,
      profile: profileWith({}),
      decision: shippedDecision,
    });
    expect(content.whatsapp).toEqual({
      name: 'order_update_v2',
      language: 'en_US',
      parameters: ['', 'A-1001'],
    });
  });

  it('gives a template without a WhatsApp block its own name with underscores and no variables', () => {
    const content = whatsApp.render({
      messageClass: 'marketing',
      messageId: 'm-5',
      channel: 'whatsapp',
      template,
      profile: undefined,
      decision,
    });
    expect(content.whatsapp).toEqual({ name: 'news', language: 'en_US', parameters: [] });
    expect(
      whatsApp.render({
        messageClass: 'marketing',
        messageId: 'm-6',
        channel: 'sms',
        template: shipped,
        profile: undefined,
        decision: shippedDecision,
      }),
    ).not.toHaveProperty('whatsapp');
  });
});

describe('load', () => {
  it('keeps the run-time templates loaded most recently, never the configured ones', () => {
    const own = createRenderer([template], settings);
    const made = (i: number) => ({
      ...template,
      name: `run-${String(i)}`,
      subject: `S${String(i)}`,
    });
    own.load(made(0));
    own.load(made(1));
    for (let i = 2; i <= RUN_TIME_TEMPLATES_KEPT; i += 1) {
      own.load(made(i));
      own.load(made(1)); // in use all along
    }
    expect(own.templateOf('run-0')).toBeUndefined();
    expect(own.templateOf('run-1')?.subject).toBe('S1');
    expect(own.templateOf(`run-${String(RUN_TIME_TEMPLATES_KEPT)}`)).toBeDefined();
    expect(own.templateOf('news')).toBeDefined();
    // Loaded again, it renders as before.
    own.load(made(0));
    expect(
      own.render({
        messageClass: 'marketing',
        messageId: 'm-9',
        channel: 'email',
        template: made(0),
        profile: undefined,
        decision,
      }).subject,
    ).toBe('S0');
  });

  it('loads a template once, and refuses other copy under a name already taken', () => {
    const made = { ...template, name: 'made-at-run-time', subject: 'First' };
    renderer.load(made);
    renderer.load({ ...made });
    expect(renderer.templateOf('made-at-run-time')?.subject).toBe('First');
    expect(() => {
      renderer.load({ ...made, subject: 'Second' });
    }).toThrow(/made-at-run-time is already loaded with other copy/);
    expect(renderer.templateOf('made-at-run-time')?.subject).toBe('First');
  });
});

describe('what a template may do', () => {
  /** A profile with only the facts a template reads. */
  const aCustomer = (traits: ProfileState['traits'], cart: ProfileState['cart'] = null) =>
    ({
      customerId: toCustomerId('c-1'),
      userId: 'c-1',
      anonymousIds: [],
      aliases: [],
      traits,
      location: { country: null, region: null, city: null, timezone: null },
      consent: {},
      preferences: {},
      firstSeenAtMs: T0,
      lastSeenAtMs: T0,
      signedUpAtMs: null,
      lastActiveAtMs: null,
      orders: { count: 0, revenueCents: 0, refundedCents: 0, firstAtMs: null, lastAtMs: null },
      engagement: { points: 0, asOfMs: T0 },
      email: { hardBounces: 0, complaints: 0, lastBounceAtMs: null },
      cart,
      eventCount: 0,
    }) satisfies ProfileState;
  const renderWith = (
    part: Partial<Template>,
    profile: ProfileState,
    channel = 'email' as const,
  ) => {
    const t: Template = { ...template, name: 'probe', ...part };
    return createRenderer([t], settings).render({
      messageClass: 'marketing',
      messageId: 'm-2',
      channel,
      template: t,
      profile,
      decision: { ...decision, template: 'probe' },
    });
  };

  it('reads no file: an include, even one a trait names, fails instead of printing it', () => {
    for (const text of [
      "Hi {% include 'package.json' %}",
      'Hi {% include customer.traits.banner %}',
      "Hi {% render 'package.json' %}",
    ])
      expect(() => renderWith({ text }, aCustomer({ banner: 'package.json' }))).toThrow(
        /does not render/,
      );
  });

  it('stops a loop as long as a customer’s data makes it', () => {
    const text = '{% for i in (1..customer.traits.n) %}x{% endfor %}';
    expect(renderWith({ text }, aCustomer({ n: 3 })).body).toMatch(/^xxx/);
    expect(() => renderWith({ text }, aCustomer({ n: 5_000_000 }))).toThrow(/does not render/);
  });

  it('keeps a subject and preheader on one line whatever a trait holds', () => {
    const rendered = renderWith(
      { subject: 'Hi {{ customer.traits.name }}!', preheader: 'For {{ customer.traits.name }}' },
      aCustomer({ name: 'Ann\r\nBcc: x@example.com\n' }),
    );
    expect(rendered.subject).toBe('Hi Ann Bcc: x@example.com !');
    expect(rendered.preheader).toBe('For Ann Bcc: x@example.com');
  });
});
