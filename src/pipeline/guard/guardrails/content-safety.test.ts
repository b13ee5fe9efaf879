import { describe, expect, it } from 'vitest';
import type { GuardContext, GuardMessage, ModerationOutcome } from '../guard-types.js';
import {
  aContent,
  aContext,
  aMessage,
  aProfile,
  defaultGuardPolicy,
  notPassing,
} from '../test-builders.js';
import { contentSafetyGuardrail } from './content-safety.js';

const policy = defaultGuardPolicy();
const clean: ModerationOutcome = { ok: true, moderator: 'local-lexicon', findings: [] };

const generated = (body: string, subject = 'Ada, a note for you'): GuardMessage =>
  aMessage({ generated: true, content: aContent({ subject, body }) });

const check = (message: GuardMessage, context: Partial<GuardContext> = {}, p = policy) =>
  contentSafetyGuardrail.check(message, aContext({ moderation: clean, ...context }), p);

const codes = (...args: Parameters<typeof check>) => notPassing(check(...args));

describe('contentSafetyGuardrail', () => {
  it('passes clean, moderated generated copy with the moderator in the figures', () => {
    const [v] = check(generated('Hello Ada, new arrivals: https://shop.example.com/new'));
    expect(v).toMatchObject({ outcome: 'pass', figures: { moderator: 'local-lexicon' } });
  });

  it('blocks generated copy whose moderation failed or is missing (fail closed)', () => {
    const failed: ModerationOutcome = { ok: false, moderator: 'openai', error: 'status 500' };
    expect(codes(generated('Hello Ada'), { moderation: failed })).toEqual([
      'block:moderation_failed',
    ]);
    expect(codes(generated('Hello Ada'), { moderation: null })).toEqual([
      'block:moderation_failed',
    ]);
  });

  it('blocks findings from the configured severity and lets lower ones pass with figures', () => {
    const found = (severity: 'low' | 'medium' | 'high'): Partial<GuardContext> => ({
      moderation: {
        ok: true,
        moderator: 'openai',
        findings: [{ category: 'violence', severity, score: 0.6 }],
      },
    });
    expect(codes(generated('Hello Ada'), found('medium'))).toEqual(['block:unsafe_content']);
    expect(codes(generated('Hello Ada'), found('high'))).toEqual(['block:unsafe_content']);
    const [low] = check(generated('Hello Ada'), found('low'));
    expect(low).toMatchObject({
      outcome: 'pass',
      figures: { findings: [{ category: 'violence', severity: 'low' }] },
    });
    const lenient = {
      ...policy,
      contentSafety: { ...policy.contentSafety, blockFromSeverity: 'high' as const },
    };
    expect(codes(generated('Hello Ada'), found('medium'), lenient)).toEqual([]);
    const [unsafe] = check(generated('Hello Ada'), found('high'));
    expect(unsafe?.figures['categories']).toEqual(['violence']);
  });

  it('blocks a card number that passes the Luhn check and not one that fails it', () => {
    expect(codes(generated('Your card 4111 1111 1111 1111 is saved'))).toEqual(['block:pii_leak']);
    expect(codes(generated('Your voucher 4111 1111 1111 1112 is ready'))).toEqual([]);
  });

  it('blocks a phone number written in the digits of another script', () => {
    expect(codes(generated('Call Bob on ٥٥٥٨٦٧٥٣٠٩'))).toEqual(['block:pii_leak']);
  });

  it('blocks a card number written next to its expiry date or a quantity', () => {
    expect(codes(generated('Your card 4111 1111 1111 1111 12/28 is saved'))).toEqual([
      'block:pii_leak',
    ]);
    expect(codes(generated('Qty 2 4111-1111-1111-1111'))).toEqual(['block:pii_leak']);
  });

  it("does not read the sender's own postal address in the footer as personal data", () => {
    const footerAddress = '1600 Amphitheatre Pkwy,\nMountain View, CA 94043-1351';
    const shop = (body: string, html: string | null = null) =>
      aMessage({ generated: true, content: aContent({ body, html, footerAddress }) });
    const footer = 'Shop · 1600 Amphitheatre Pkwy, Mountain View, CA 94043-1351';
    const text = `Hello Ada, see what is new: https://shop.example.com/new\n\n--\n${footer}\nUnsubscribe: https://shop.example.com/u/abc`;
    const html =
      '<p>Hello Ada</p><p style="font-size:12px">Shop · 1600 Amphitheatre Pkwy,\n Mountain&nbsp;View, CA 94043&#x2d;1351<br><a href="https://shop.example.com/u/abc">Unsubscribe</a></p>';
    expect(codes(shop(text, html))).toEqual([]);
    // Only the address whole: the same ZIP+4 elsewhere, or run into a longer number, still
    // reads as a phone number, and so does the footer of another sender.
    expect(codes(shop(`${text}\nOr call 94043-1351 2`))).toEqual(['block:pii_leak']);
    expect(codes(shop(text.replace('1351', '13512')))).toEqual(['block:pii_leak']);
    expect(codes(generated(text))).toEqual(['block:pii_leak']);
  });

  it('finds personal data however it is spaced or written, in the HTML part too', () => {
    for (const body of [
      'Card 4111\u00A01111\u00A01111\u00A01111 saved',
      'Card 4111\u2009 1111  1111 1111 saved',
      'Card \uFF14\uFF11\uFF11\uFF11 1111 1111 1111 saved',
      'Call 555\u00A0867\u00A05309 now',
      'Call (555) 867 - 5309 now',
      'Write to bob\uFF20example.com',
    ])
      expect(codes(generated(body)), JSON.stringify(body)).toEqual(['block:pii_leak']);
    const withHtml = aMessage({
      generated: true,
      content: aContent({ html: '<p>Ask <b>bob</b>@other.example about it</p>' }),
    });
    expect(codes(withHtml)).toEqual(['block:pii_leak']);
  });

  it("allows the recipient's own e-mail address and blocks another one", () => {
    const profile = aProfile({ traits: { email: 'Ada@Example.com', firstName: 'Ada' } });
    expect(codes(generated('We will write to ada@example.com'), { profile })).toEqual([]);
    expect(codes(generated('Ask grace@example.com about it'), { profile })).toEqual([
      'block:pii_leak',
    ]);
  });

  it("allows the recipient's own phone number in another format, and the allowed list", () => {
    const profile = aProfile({ traits: { phone: '+1 555 555 0100' } });
    expect(codes(generated('We will text (555) 555-0100'), { profile })).toEqual([]);
    expect(codes(generated('Or call +1 555 555 0199'), { profile })).toEqual(['block:pii_leak']);
    const support = {
      ...policy,
      contentSafety: {
        ...policy.contentSafety,
        allowedPii: ['help@shop.example.com', '+1 800 555 0123'],
      },
    };
    expect(
      codes(generated('Questions? help@shop.example.com or +1-800-555-0123'), {}, support),
    ).toEqual([]);
  });

  it("allows the recipient's own number in a short national form and not a stranger's", () => {
    const profile = aProfile({ traits: { phone: '+43 1 2345678' } });
    expect(codes(generated('We will call you on 01 2345678'), { profile })).toEqual([]);
    expect(codes(generated('Or call 031 2345678'), { profile })).toEqual(['block:pii_leak']);
    expect(codes(generated('Or call +49 1 2345678'), { profile })).toEqual(['block:pii_leak']);
  });

  it('names the kind of personal data but never its value', () => {
    const [v] = check(generated('Grace (grace@example.com, +44 20 7946 0958) said hi', 'Hi'));
    expect(v).toMatchObject({ code: 'pii_leak', figures: { kinds: ['email', 'phone'], count: 2 } });
    const written = JSON.stringify(v);
    expect(written).not.toContain('grace@example.com');
    expect(written).not.toContain('7946');
  });

  it('does not screen copy a person wrote', () => {
    const human = aMessage({ content: aContent({ body: 'Ask grace@example.com' }) });
    expect(codes(human, { moderation: null })).toEqual([]);
  });
});
