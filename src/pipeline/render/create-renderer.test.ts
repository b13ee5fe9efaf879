import { describe, expect, it } from 'vitest';
import { toCustomerId } from '../../core/ids.js';
import { verifyToken } from '../../core/signed-token.js';
import { shownHtml, visibleHtmlText } from '../../core/visible-text.js';
import { aDecision } from '../../../test/support/builders.js';
import { createRenderer, RUN_TIME_TEMPLATES_KEPT } from './create-renderer.js';
import { defaultTemplates } from './default-templates.js';
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

  it('keeps an edited subject and preheader on one line, and clears a preheader edited away', () => {
    const edited = renderer.withEdits(message, rendered, {
      subject: 'Mended\r\nBcc: x@example.com',
      preheader: 'A line\nand another',
    });
    expect([edited.subject, edited.preheader]).toEqual([
      'Mended Bcc: x@example.com',
      'A line and another',
    ]);
    expect(renderer.withEdits(message, rendered, { preheader: null }).preheader).toBeNull();
  });

  it('puts the footer back when an edit ran the unsubscribe link on into another, dead one', () => {
    const unsubscribe = rendered.unsubscribeUrl ?? '';
    for (const body of [
      `Shop now -- 1 Main St (to stop these: ${unsubscribe}0000)`,
      `Shop now -- 1 Main St. Stop: ${unsubscribe}.x`,
      `Shop now -- 1 Main St. Stop: x${unsubscribe}`,
    ]) {
      const edited = renderer.withEdits({ ...message, templateName: 'news' }, rendered, {
        body,
        html: null,
      });
      expect(count(edited.body, unsubscribe), body).toBe(2);
    }
    // A full stop ending the sentence is no part of the link: the footer is kept as written.
    const kept = `Shop now -- 1 Main St. To stop these: ${unsubscribe}.`;
    expect(renderer.withEdits(message, rendered, { body: kept, html: null }).body).toBe(kept);
  });

  it('puts the footer back when an edit kept the unsubscribe link but not the postal address', () => {
    const unsubscribe = rendered.unsubscribeUrl ?? '';
    const edited = renderer.withEdits(message, rendered, {
      body: `New copy\nUnsubscribe: ${unsubscribe}`,
      html: `<p>New copy <a href="${unsubscribe}">Unsubscribe</a></p>`,
    });
    for (const part of [edited.body, edited.html]) expect(count(part, '1 Main St')).toBe(1);
  });

  it('puts the footer back when an edit left it only where a reader never sees it', () => {
    const unsubscribe = rendered.unsubscribeUrl ?? '';
    const hidden = `1 Main St <a href="${unsubscribe}">Unsubscribe</a>`;
    for (const html of [
      `<p>Hi Ann, new arrivals</p><!-- ${hidden} -->`,
      `<html><head><title>${hidden}</title></head><body><p>Hi Ann</p></body></html>`,
    ]) {
      const edited = renderer.withEdits(message, rendered, { html });
      expect(visibleHtmlText(edited.html ?? '')).toContain('1 Main St');
      expect(shownHtml(edited.html ?? '')).toContain(`href="${unsubscribe}"`);
    }
  });

  it('puts the footer back when an edit left the unsubscribe address where it is no link', () => {
    const unsubscribe = rendered.unsubscribeUrl ?? '';
    for (const html of [
      `<p>New copy. 1 Main St</p><img src="${unsubscribe}" width="1" height="1">`,
      `<p>New copy. 1 Main St. To stop: ${unsubscribe}</p>`,
      `<p data-u="${unsubscribe}">New copy. 1 Main St</p>`,
    ]) {
      const edited = renderer.withEdits(message, rendered, { html });
      expect(shownHtml(edited.html ?? '')).toContain(`<a href="${unsubscribe}">Unsubscribe</a>`);
    }
  });

  it('greets a customer whose name is blank as one with no name', () => {
    const greeting = createRenderer([...defaultTemplates], settings);
    const renderWith = (firstName: string, name: string, channel: 'email' | 'web') => {
      const chosen = defaultTemplates.find((t) => t.name === name);
      if (chosen === undefined) throw new Error(`no template ${name}`);
      return greeting.render({
        messageClass: 'marketing',
        messageId: 'm-3',
        channel,
        template: chosen,
        profile: { traits: { firstName } } as unknown as ProfileState,
        decision,
      });
    };
    expect(renderWith('', 'welcome-banner', 'web').body).toBe('Welcome to Herald Store!');
    expect(renderWith('  ', 'welcome-1', 'email').body).toMatch(/^Hi there,/);
    expect(renderWith(' Ann ', 'welcome-1', 'email').body).toMatch(/^Hi Ann,/);
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

  it('says why a template did not render without quoting the value it was given', () => {
    for (const banner of [
      'ann@example.com',
      'ann"smith@example.com',
      '<img src="https://cdn.example.com/b.png" alt="Ann Smith, ann@example.com">',
    ]) {
      const render = () =>
        renderWith({ text: 'Hi\n{% include customer.traits.banner %}' }, aCustomer({ banner }));
      expect(render).toThrow(/^template probe: text does not render: .*line:2, col:1$/);
      expect(render).toThrow(/Failed to lookup "…"/);
      expect(render).not.toThrow(/example\.com/);
    }
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
    // Spaces and tabs around a break go with it; others stay, a long run of them too.
    const padded = renderWith(
      { subject: '{{ customer.traits.name }}' },
      aCustomer({ name: ` a \t\n\n\t b  \r c${' '.repeat(50_000)}d` }),
    );
    expect(padded.subject).toBe(`a b c${' '.repeat(50_000)}d`);
    // Every break a client may honour, and no direction override to show other text.
    const odd = renderWith(
      { subject: 'Hi {{ customer.traits.name }}', preheader: '{{ customer.traits.name }}' },
      aCustomer({ name: 'Ana\u2028Bcc\u0085x\u000by\u000cz \u202Egnp.exe' }),
    );
    expect(odd.subject).toBe('Hi Ana Bcc x y z gnp.exe');
    expect(odd.preheader).toBe('Ana Bcc x y z gnp.exe');
  });
});

describe('the HTML part', () => {
  const markup = '<img src=x onerror=alert(1)><a href="https://evil.example/">Claim</a>';
  const escaped =
    '&lt;img src=x onerror=alert(1)&gt;&lt;a href=&#34;https://evil.example/&#34;&gt;Claim&lt;/a&gt;';
  const probe: Template = {
    ...template,
    name: 'probe',
    subject: 'For {{ customer.firstName }}',
    preheader: 'Hi {{ customer.firstName }}',
    text: 'Hi {{ customer.firstName | default: "there" }}',
  };
  const renderHtml = (
    html: string,
    traits: Record<string, unknown>,
    channel: 'email' | 'sms' = 'email',
    extra: Partial<typeof settings> = {},
  ) => {
    const t: Template = { ...probe, html };
    return createRenderer([t], { ...settings, ...extra }).render({
      messageClass: 'marketing',
      messageId: 'm-3',
      channel,
      template: t,
      profile: { traits, cart: null } as unknown as ProfileState,
      decision: { ...decision, template: 'probe' },
    });
  };

  it('escapes a customer’s name with markup in the HTML part, and in no other part', () => {
    for (const html of [
      // In the subset, and with liquidjs (a filter the subset does not take).
      '<p>Hi {{ customer.firstName | default: "there" }}</p>',
      '<p>Hi {{ customer.firstName | strip }}</p>',
      '<p>Hi {% for i in (1..1) %}{{ customer.firstName }}{% endfor %}</p>',
    ]) {
      const email = renderHtml(html, { firstName: markup });
      expect(email.html, html).toContain(`<p>Hi ${escaped}</p>`);
      expect(email.html, html).not.toContain('<img src=x');
      expect(email.body).toMatch(new RegExp(`^Hi ${markup.replace(/[.?()]/g, '\\$&')}`));
      expect(email.subject).toBe(`For ${markup}`);
      expect(email.preheader).toBe(`Hi ${markup}`);
      expect(renderHtml(html, { firstName: markup }, 'sms').body).toMatch(/^Hi <img src=x/);
    }
  });

  it('keeps a value from closing the attribute it is printed in', () => {
    const html = renderHtml('<a href="{{ customer.traits.site }}">site</a>', {
      site: 'https://x.example/" onmouseover="alert(1)',
    }).html;
    expect(html).toContain('<a href="https://x.example/&#34; onmouseover=&#34;alert(1)">site</a>');
  });

  it('does not escape twice what `escape` or the value itself already escaped', () => {
    const name = 'Bo & <Co> "1" \'2\'';
    const once = 'Bo &amp; &lt;Co&gt; &#34;1&#34; &#39;2&#39;';
    expect(
      renderHtml('<p>{{ customer.firstName | escape }}</p>', { firstName: name }).html,
    ).toContain(`<p>${once}</p>`);
    expect(
      renderHtml('<p>{{ customer.firstName | escape_once }}</p>', { firstName: name }).html,
    ).toContain(`<p>${once}</p>`);
    expect(renderHtml('<p>{{ customer.firstName }}</p>', { firstName: name }).html).toContain(
      `<p>${once}</p>`,
    );
    const entities = 'Tom &amp; Jerry &nbsp;&#39;&#x27; & co';
    expect(renderHtml('<p>{{ customer.firstName }}</p>', { firstName: entities }).html).toContain(
      '<p>Tom &amp; Jerry &nbsp;&#39;&#x27; &amp; co</p>',
    );
  });

  it('prints a value through `raw` as it is', () => {
    const traits = { firstName: 'Ann', banner: '<b>Sale</b> & more' };
    const email = renderHtml(
      '<div>{{ customer.traits.banner | raw }}</div><div>{{ customer.traits.banner }}</div>',
      traits,
    );
    expect(email.html).toContain(
      '<div><b>Sale</b> & more</div><div>&lt;b&gt;Sale&lt;/b&gt; &amp; more</div>',
    );
    const t: Template = { ...probe, text: '{{ customer.traits.banner | raw }}', html: null };
    const sms = createRenderer([t], settings).render({
      messageClass: 'marketing',
      messageId: 'm-3',
      channel: 'sms',
      template: t,
      profile: { traits, cart: null } as unknown as ProfileState,
      decision: { ...decision, template: 'probe' },
    });
    expect(sms.body).toMatch(/^<b>Sale<\/b> & more/);
  });

  it('puts the footer and the pixel at the end of the body a reader sees, whatever a comment says and in any case', () => {
    const commented = renderHtml(
      '<html><body><!-- the footer goes before </body> --><p>Hi</p></body></html>',
      {},
    ).html;
    expect(commented).toMatch(
      /<p>Hi<\/p><p style="font-size:12px[^]*\/t\/o\/[^]*<\/body><\/html>$/,
    );
    expect(commented).toContain('<!-- the footer goes before </body> -->');
    const upper = renderHtml('<HTML><BODY><p>Hi</p></BODY></HTML>', {}).html ?? '';
    expect(upper).toMatch(/<p>Hi<\/p><p style="font-size:12px[^]*<\/BODY><\/HTML>$/);
    // Without </body>, before </html>; a fragment, at its end.
    const noBody = renderHtml('<html><p>Hi</p></html>', {}).html ?? '';
    expect(noBody).toMatch(/<p>Hi<\/p><p style="font-size:12px[^]*<\/html>$/);
    const fragment = renderHtml('<p>Hi</p>', {}).html ?? '';
    expect(fragment.indexOf('<p style="font-size:12px')).toBe('<p>Hi</p>'.length);
  });

  it('escapes the brand once and still tracks a link variable in an href', () => {
    const shopUrl = 'https://shop.example.com/?a=1&b=2';
    const email = renderHtml(
      '<h1>{{ brand.name }}</h1><a href="{{ links.shop }}">Shop</a> <a href="{{ links.cart }}">Cart</a>',
      { firstName: 'Ann' },
      'email',
      { shopUrl, brandName: 'Bo & Co' },
    );
    const html = email.html ?? '';
    expect(html).toContain('<h1>Bo &amp; Co</h1>');
    // The footer escapes the brand itself, once.
    expect(html).toContain('>Bo &#38; Co · 1 Main St<br>');
    expect(html).not.toMatch(/&(amp|#38);(amp|#38);/);
    const hrefs = [...html.matchAll(/<a href="([^"]*)">(Shop|Cart)<\/a>/g)];
    expect(hrefs).toHaveLength(2);
    for (const [, href = ''] of hrefs) expect(href).toMatch(/^https:\/\/h\.example\.com\/t\/c\//);
    // The destination signed in the link is the shop's URL as configured, `&` and all.
    const token = (hrefs[0]?.[1] ?? '').split('/t/c/')[1] ?? '';
    const payload = JSON.parse(verifyToken(settings.linkSecret, token) ?? '{}') as { u?: string };
    expect(payload.u).toMatch(/^https:\/\/shop\.example\.com\/\?a=1&b=2&utm_source=herald&/);
  });
});

describe('values escaping cannot keep in place', () => {
  const withHtml = (html: string): Template => ({ ...template, name: 'unsafe', html });

  it('refuses a template printing a value outside quotes or in CSS, naming it, the part and the place', () => {
    expect(() =>
      createRenderer(
        [withHtml('<p>\n<img alt={{ customer.firstName }} src="x.png"></p>')],
        settings,
      ),
    ).toThrow(
      'template unsafe: html: line 2: {{ customer.firstName }} is printed in the unquoted value of attribute alt of <img>',
    );
    expect(() =>
      createRenderer(
        [withHtml(`<td style="background:url('{{ customer.traits.a }}')">`)],
        settings,
      ),
    ).toThrow('{{ customer.traits.a }} is printed in the style attribute of <td>');
    expect(() =>
      createRenderer([withHtml('<style>p{color:{{ customer.traits.c }}}</style>')], settings),
    ).toThrow('{{ customer.traits.c }} is printed in a <style> element');
  });

  it('refuses one added at run time, and takes one whose author marks the value raw', () => {
    const renderer = createRenderer([template], settings);
    expect(() => {
      renderer.load(withHtml('<img alt={{ customer.firstName }}>'));
    }).toThrow('template unsafe: html: line 1: {{ customer.firstName }}');
    expect(renderer.templateOf('unsafe')).toBeUndefined();
    renderer.load(withHtml('<td style="{{ details.css | raw }}">{{ customer.firstName }}</td>'));
    expect(renderer.templateOf('unsafe')).toBeDefined();
  });
});

describe('links that are not web links', () => {
  it('leaves mailto: and tel: links as written and tracks the shop’s', () => {
    const html =
      '<p><a href="mailto:help@shop.example.com?subject=Order%20question">Email us</a>' +
      ' <a href="tel:+15551234567">Call us</a> <a href="https://shop.example.com/sale">Sale</a></p>';
    for (const part of [html, '<p><a href="tel:+15551234567">Call us</a></p>']) {
      const t: Template = { ...template, name: 'contact', html: part };
      const email = createRenderer([t], settings).render({
        messageClass: 'marketing',
        messageId: 'm-4',
        channel: 'email',
        template: t,
        profile: undefined,
        decision: { ...decision, template: 'contact' },
      });
      const hrefs = [...(email.html ?? '').matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)];
      const byText = Object.fromEntries(hrefs.map(([, href, text]) => [text, href]));
      expect(byText['Call us']).toBe('tel:+15551234567');
      if (part === html) {
        expect(byText['Email us']).toBe('mailto:help@shop.example.com?subject=Order%20question');
        expect(byText['Sale']).toMatch(/^https:\/\/h\.example\.com\/t\/c\//);
      }
    }
  });
});

describe('amounts in the configured currency', () => {
  const cart = {
    valueCents: 12_990,
    updatedAtMs: T0,
    items: [
      {
        productId: 'p1',
        sku: null,
        name: 'Boots',
        priceCents: 12_990,
        quantity: 1,
        marginCents: null,
      },
    ],
  };
  const textIn = (currency?: string) => {
    const recovery = defaultTemplates.find((t) => t.name === 'cart-recovery');
    if (recovery === undefined) throw new Error('no built-in cart-recovery template');
    return createRenderer([recovery], {
      ...settings,
      ...(currency === undefined ? {} : { currency }),
    }).render({
      messageClass: 'marketing',
      messageId: 'm-3',
      channel: 'sms',
      template: recovery,
      profile: {
        traits: {},
        cart,
        location: { country: null, region: null, city: null, timezone: null },
      } as unknown as ProfileState,
      decision: { ...decision, template: 'cart-recovery' },
    }).body;
  };

  it("writes the cart's worth with the currency's sign", () => {
    expect(textIn()).toContain('1 item(s) worth $129.90 in your cart');
    expect(textIn('EUR')).toContain('1 item(s) worth €129.90 in your cart');
    expect(textIn('JPY')).toContain('worth ¥130 in your cart');
    // A code without a sign of its own is written before the figure.
    expect(textIn('XBT')).toMatch(/worth XBT\s129\.90 in your cart/u);
  });
});

describe('templates with ordinary data', () => {
  const typical: Template = {
    ...template,
    name: 'typical',
    html:
      '<!doctype html><html><head><title>Your cart at {{ brand.name }}</title></head><body>' +
      '<h1>{{ brand.name }}</h1><p>Hi {{ customer.firstName | default: "there" }}, you left ' +
      '{{ cart.itemCount }} item(s) worth ${{ cart.value }}.</p><table>{% for item in cart.items %}' +
      '<tr><td>{{ item.name | default: item.productId | escape }}</td><td>× {{ item.quantity }}</td></tr>' +
      '{% endfor %}</table>{% if incentive %}<p>Use code <strong>{{ incentive.code }}</strong> for ' +
      '{{ incentive.percent }}% off, valid until {{ incentive.expiresOn }}.</p>{% endif %}' +
      '<a href="{{ links.cart }}">Complete your order</a> <a href="{{ links.shop }}">Shop</a></body></html>',
  };
  // The same HTML with every output printed through `raw`: as it was before it was escaped.
  const unescaped = (html: string) =>
    html.replace(/\{\{(-?)([\s\S]*?)(-?)\}\}/g, (_, l: string, e: string, r: string) => {
      return `{{${l}${e.trimEnd()} | raw ${r}}}`;
    });
  const cart = {
    valueCents: 2450,
    updatedAtMs: T0,
    items: [{ productId: 'p1', sku: null, name: 'Wool socks', priceCents: 1225, quantity: 2 }],
  };
  const incentive = {
    kind: 'percent',
    percent: 15,
    amount: null,
    code: 'SAVE15',
    expiresAtMs: T0 + 172_800_000,
  } as unknown as NonNullable<typeof decision.incentive>;

  it('render the HTML part as before: nothing in a plain name, brand, link or code is escaped', () => {
    const withHtml = [
      typical,
      ...defaultTemplates.map((t) => ({
        ...t,
        html: `<html><body><p>${t.text}</p></body></html>`,
      })),
    ];
    for (const t of withHtml)
      for (const [profile, offer] of [
        [{ traits: { firstName: 'Ann' }, cart }, incentive],
        [{ traits: {}, cart: null }, null],
      ] as const) {
        const old = { ...t, html: unescaped(t.html ?? '') };
        const input = {
          messageClass: 'marketing',
          messageId: 'm-4',
          channel: 'email',
          profile: profile as unknown as ProfileState,
          decision: { ...decision, template: t.name, incentive: offer },
        } as const;
        const now = createRenderer([t], settings).render({ ...input, template: t });
        expect(now.html).not.toMatch(/\{\{|\{%|&amp;|&lt;/);
        expect(now).toEqual(createRenderer([old], settings).render({ ...input, template: old }));
      }
  });
});

describe('dates the customer reads', () => {
  // A code that ends at 01:00 UTC on June 5: 18:00 on June 4 in Los Angeles, 10:00 on June 5 in
  // Tokyo.
  const expiresAtMs = Date.UTC(2026, 5, 5, 1);
  const dated: Template = {
    ...template,
    name: 'dated',
    text:
      'Valid until {{ incentive.expiresOn }}. Ends {{ incentive.expiresAt | date: "%B %-d %H:%M" }} UTC, ' +
      '{{ incentive.expiresAt | date: "%B %-d %H:%M", customer.timezone }} your time ({{ customer.timezone }}).',
  };
  const zoned = createRenderer([dated], { ...settings, defaultTimezone: 'Europe/Berlin' });
  const textFor = (location: Partial<ProfileState['location']> | null) =>
    zoned.render({
      messageClass: 'marketing',
      messageId: 'm-d',
      channel: 'email',
      template: dated,
      profile:
        location === null
          ? undefined
          : ({
              traits: {},
              cart: null,
              location: { country: null, region: null, city: null, timezone: null, ...location },
            } as unknown as ProfileState),
      decision: aDecision({
        id: 'm-d',
        customerId: toCustomerId('c-1'),
        template: 'dated',
        scheduledForMs: T0,
        createdAtMs: T0,
        incentive: { kind: 'percent-off', percent: 20, amount: null, code: 'SAVE20', expiresAtMs },
      }),
    }).body;

  it("prints the code's last day in the customer's zone, and `date` in UTC unless told the zone", () => {
    // Before, every customer read "June 5", and Los Angeles tried the code the day after it ended.
    expect(textFor({ timezone: 'America/Los_Angeles' })).toContain(
      'Valid until June 4, 18:00. Ends June 5 01:00 UTC, June 4 18:00 your time (America/Los_Angeles).',
    );
    expect(textFor({ timezone: 'Asia/Tokyo' })).toContain(
      'Valid until June 5, 10:00. Ends June 5 01:00 UTC, June 5 10:00 your time (Asia/Tokyo).',
    );
    // One that ends as a day begins holds all of the day before.
    expect(
      createRenderer([dated], settings).render({
        messageClass: 'marketing',
        messageId: 'm-m',
        channel: 'email',
        template: dated,
        profile: undefined,
        decision: aDecision({
          id: 'm-m',
          customerId: toCustomerId('c-1'),
          template: 'dated',
          incentive: {
            kind: 'percent-off',
            percent: 20,
            amount: null,
            code: 'SAVE20',
            expiresAtMs: Date.UTC(2026, 5, 6),
          },
        }),
      }).body,
    ).toContain('Valid until June 5. ');
    // No zone of their own: their country's, then the configured default.
    expect(textFor({ country: 'JP' })).toContain('June 5 10:00 your time (Asia/Tokyo)');
    expect(textFor({})).toContain('June 5 03:00 your time (Europe/Berlin)');
    expect(textFor(null)).toContain('(Europe/Berlin)');
  });
});

describe('linkHostsOf', () => {
  // The shop's host and every host under it, and Herald's.
  const own = ['shop.example.com', '*.shop.example.com', 'h.example.com'];
  it('gives a configured template the hosts it names, in links or in copy, and the shop’s and Herald’s', () => {
    const linking: Template = {
      ...template,
      name: 'linking',
      text: 'Follow us: www.social.example — {{ links.shop }}',
      html: '<a href="https://cdn.example/a">a</a> <p>Help: help.example/faq</p>',
    };
    const r = createRenderer([linking], settings);
    expect([...r.linkHostsOf('linking')].sort()).toEqual(
      [...own, 'www.social.example', 'cdn.example', 'help.example'].sort(),
    );
  });

  it('gives written copy loaded at run time, and no template, the shop’s and Herald’s alone', () => {
    const r = createRenderer([template], settings);
    const written: Template = {
      ...template,
      name: 'creative-1',
      text: 'See https://model.example/x, then {{ links.shop }}',
      html: null,
    };
    r.load(written);
    expect([...r.linkHostsOf('creative-1')].sort()).toEqual([...own].sort());
    // Its link to another host stays as written, for the guardrail to read; the shop's is tracked.
    const { body } = r.render({
      messageClass: 'marketing',
      messageId: 'm-2',
      channel: 'email',
      template: written,
      profile: undefined,
      decision,
    });
    expect(body).toContain('See https://model.example/x, then https://h.example.com/t/c/');
    expect([...r.linkHostsOf(null)].sort()).toEqual([...own].sort());
  });
});
