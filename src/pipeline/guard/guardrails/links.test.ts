import { describe, expect, it } from 'vitest';
import { aContent, aContext, aMessage, defaultGuardPolicy, notPassing } from '../test-builders.js';
import type { GuardPolicy } from '../policy.js';
import type { MessageContent } from '../guard-types.js';
import { pushLinkOf } from '../../../core/push-payload.js';
import { linksGuardrail } from './links.js';

const policy = defaultGuardPolicy();

const judge = (content: Partial<MessageContent> | null, p: GuardPolicy = policy) =>
  linksGuardrail.check(
    aMessage({ content: content === null ? null : aContent(content) }),
    aContext({ linkHosts: new Set(['shop.example.com', 'h.example.com']) }),
    p,
  );

describe('linksGuardrail', () => {
  it('passes links to the template’s, the shop’s and Herald’s hosts', () => {
    const [v] = judge({
      body: 'Ada, see https://shop.example.com/new and https://h.example.com/t/c/abc',
      html: '<a href="https://shop.example.com/new">new</a>',
    });
    expect(v).toMatchObject({ outcome: 'pass', figures: { links: 3 } });
  });

  it('blocks a link a trait put in the copy, and names the part but never the host', () => {
    const verdicts = judge({ body: 'Hello Ana, verify: https://evil.example/x — see you' });
    expect(notPassing(verdicts)).toEqual(['block:foreign_link']);
    expect(verdicts[0]?.figures).toEqual({ links: 1, foreign: 1, parts: ['copy'] });
    expect(JSON.stringify(verdicts)).not.toContain('evil');
  });

  it('judges the page a push opens as FCM is given it, not as the folded copy reads', () => {
    const push = (body: string) =>
      linksGuardrail.check(
        aMessage({ channel: 'push', content: aContent({ body, html: null }) }),
        aContext({ linkHosts: new Set(['shop.example.com', 'h.example.com']) }),
        policy,
      );
    // A first name that makes Herald's own host a user name of evil.com's: folded, `／` is a
    // slash and the copy reads h.example.com; the URL parser reads evil.com. The push opens the
    // page before the `／`, and the copy as written is blocked.
    const name = 'https://h.example.com／@evil.com/login';
    expect(pushLinkOf(`Hi ${name}, new picks`)).toBe('https://h.example.com');
    const verdicts = push(`Hi ${name}, new picks are in: https://shop.example.com/new`);
    expect(notPassing(verdicts)).toEqual(['block:foreign_link']);
    expect(verdicts[0]?.figures).toMatchObject({ parts: ['copy'] });
    // CJK punctuation closes a link: the shop's page in brackets, or before a full stop.
    for (const body of [
      'セール中（https://shop.example.com/sale）です',
      '詳しくは https://shop.example.com/sale、または【https://shop.example.com】。',
    ]) {
      expect([body, notPassing(push(body))]).toEqual([body, []]);
      expect([body, notPassing(judge({ body }))]).toEqual([body, []]);
    }
    expect(pushLinkOf('セール中（https://shop.example.com/sale）です')).toBe(
      'https://shop.example.com/sale',
    );
    // A link that parses to no host is foreign, even beside a template link built by Liquid.
    const unparsed = linksGuardrail.check(
      aMessage({ content: aContent({ body: 'Ana, verify https://evil.com% now', html: null }) }),
      aContext({ linkHosts: new Set(['shop.example.com', '']) }),
      policy,
    );
    expect(notPassing(unparsed)).toEqual(['block:foreign_link']);
    // `` ` `` and `^` end a link for the guard and for the push alike: it opens Herald's page.
    for (const stop of ['`', '^', '{', '|'])
      expect(pushLinkOf(`Hi https://h.example.com${stop}@evil.example/login`)).toBe(
        'https://h.example.com',
      );
    expect(notPassing(push('Hi Ana, new picks: https://shop.example.com/new'))).toEqual([]);
    // By email, the text as written is read too: a mail client links it whole.
    const email = judge({ body: `Hi ${name}` });
    expect(notPassing(email)).toEqual(['block:foreign_link']);
    expect(email[0]?.figures).toMatchObject({ parts: ['copy'] });
  });

  it('reads the subject, the HTML part’s links and text, and WhatsApp’s variables', () => {
    expect(notPassing(judge({ subject: 'Ana www.evil.example' }))).toEqual(['block:foreign_link']);
    expect(judge({ html: '<a href="//evil.example/x">your order</a>' })[0]?.figures).toMatchObject({
      parts: ['HTML links'],
    });
    expect(notPassing(judge({ html: '<p>Ana evil.example/verify</p>' }))).toEqual([
      'block:foreign_link',
    ]);
    const whatsapp = { name: 'order_update', language: 'en_US', parameters: ['evil.example/x'] };
    expect(judge({ whatsapp })[0]?.figures).toMatchObject({ parts: ['WhatsApp variables'] });
  });

  it('reads an HTML link as a browser does, however it is spelled', () => {
    for (const href of [
      'h&#9;ttps://evil.example/x',
      '&#1;https://evil.example/x',
      '/\\evil.example/x',
    ])
      expect(notPassing(judge({ html: `<a href="${href}">your order</a>` }))).toEqual([
        'block:foreign_link',
      ]);
  });

  it('reads a bare host in an SMS as a phone links it', () => {
    expect(notPassing(judge({ body: 'Hi Ana evil.com' }))).toEqual(['block:foreign_link']);
    expect(notPassing(judge({ body: 'Hi Mr.Smith, your order shipped.' }))).toEqual([]);
  });

  it('reads the copy as a reader sees it: full-width letters are a link too', () => {
    expect(notPassing(judge({ body: 'Ana ｈｔｔｐｓ：／／evil.example/x' }))).toEqual([
      'block:foreign_link',
    ]);
  });

  it('lets hosts in links.allowedHosts through, and sends others to review when asked', () => {
    const allowing = {
      ...policy,
      links: { allowedHosts: ['cdn.example', '*.partner.example'], onForeignHost: 'block' },
    } satisfies GuardPolicy;
    expect(
      notPassing(judge({ body: 'https://cdn.example/a https://www.partner.example/b' }, allowing)),
    ).toEqual([]);
    expect(notPassing(judge({ body: 'https://partner.example/b' }, allowing))).toEqual([
      'block:foreign_link',
    ]);
    const reviewing = { ...policy, links: { ...policy.links, onForeignHost: 'review' } } as const;
    expect(notPassing(judge({ body: 'https://evil.example/x' }, reviewing))).toEqual([
      'review:foreign_link',
    ]);
  });

  it('passes a message with nothing rendered (other guardrails judge that)', () => {
    expect(notPassing(judge(null))).toEqual([]);
  });
});
