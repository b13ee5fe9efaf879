import { describe, expect, it } from 'vitest';
import type { ConsentEntry, ProfileState } from '../../core/profile.js';
import { DAY_MS, HOUR_MS } from '../../core/time.js';
import type { GuardContext, GuardMessage, Guardrail } from './guard-types.js';
import { hold, pass } from './guard-types.js';
import { runGuardrails } from './run-guardrails.js';
import {
  aContent,
  aContext,
  aMessage,
  aProfile,
  defaultGuardPolicy,
  notPassing,
  now,
} from './test-builders.js';

const policy = defaultGuardPolicy();

const codesOf = (message: GuardMessage, context: GuardContext = aContext(), p = policy) =>
  notPassing(runGuardrails(message, context, p).verdicts);

const percentOff = (percent: number) => ({
  kind: 'percent-off' as const,
  percent,
  amount: null,
  code: 'X',
  expiresAtMs: now + HOUR_MS,
});

describe('runGuardrails', () => {
  it('passes a compliant, consented, on-brand message', () => {
    const result = runGuardrails(aMessage(), aContext(), policy);
    expect(result.outcome).toBe('pass');
    expect(result.verdicts.map((v) => v.guardrail)).toEqual([
      'consent',
      'compliance',
      'links',
      'spam',
      'rate',
      'brand',
      'financial',
      'quiet-hours',
      'reputation',
      'budget',
      'content-safety',
    ]);
    expect(result.holdUntilMs).toBeNull();
  });

  it.each([
    [14.99, []],
    [15, ['review:discount_needs_review']],
    [25, ['review:discount_needs_review']],
    [25.01, ['block:discount_too_high']],
  ])('treats a %s %% discount by the bands', (percent, expected) => {
    expect(codesOf(aMessage({ incentive: percentOff(percent) }))).toEqual(expected);
  });

  it('sends generated copy scoring under 0.85 for brand or tone to review, and not at 0.85', () => {
    const generated = aMessage({ generated: true });
    const moderation = { ok: true as const, moderator: 'test', findings: [] };
    const scored = (brand: number, tone: number) =>
      codesOf(generated, aContext({ moderation, brandScores: { brand, tone } }));
    expect(scored(0.85, 0.85)).toEqual([]);
    expect(scored(0.849, 0.85)).toEqual(['review:brand_score_low']);
    expect(scored(0.85, 0.84)).toEqual(['review:tone_score_low']);
    // A person's copy is not scored.
    expect(codesOf(aMessage(), aContext({ brandScores: { brand: 0.1, tone: 0.1 } }))).toEqual([]);
  });

  it('lets the 3rd marketing email of the week go and caps the 4th', () => {
    const sent = (n: number) =>
      aContext({
        history: { marketingInWindow: { email: n }, campaignsToday: 0, marketingTotal: 9 },
      });
    expect(codesOf(aMessage(), sent(2))).toEqual([]);
    expect(codesOf(aMessage(), sent(3))).toEqual(['block:frequency_capped']);
  });

  it('accepts GDPR consent aged 3 years less a day and refuses it a day older', () => {
    const inBerlin = (marketing: ConsentEntry) =>
      aContext({
        profile: aProfile({
          location: { country: 'DE', region: null, city: 'Berlin', timezone: 'Europe/Berlin' },
          consent: { email: { marketing } },
        }),
      });
    const berlin = (ageDays: number) =>
      inBerlin({ granted: true, atMs: now - ageDays * DAY_MS, source: 'form' });
    expect(codesOf(aMessage(), berlin(1095 - 1))).toEqual([]);
    expect(codesOf(aMessage(), berlin(1095 + 1))).toEqual(['block:gdpr_consent_expired']);
    // Exactly three years of 1,095 days (no 29 February between): no longer under three years.
    expect(codesOf(aMessage(), berlin(1095))).toEqual(['block:gdpr_consent_expired']);
    // Restated by traits yesterday, first given four years ago: expired.
    const restated: ConsentEntry = {
      granted: true,
      atMs: now - DAY_MS,
      sinceMs: now - 4 * 365 * DAY_MS,
      source: 'identify',
    };
    expect(codesOf(aMessage(), inBerlin(restated))).toEqual(['block:gdpr_consent_expired']);
    // Renewed by the customer last month (an explicit grant kept beside the traits fact).
    const renewal: ConsentEntry = {
      granted: true,
      atMs: now - 30 * DAY_MS,
      source: 'preference-centre',
      explicit: true,
    };
    expect(codesOf(aMessage(), inBerlin({ ...restated, other: renewal }))).toEqual([]);
  });

  it('refuses GDPR marketing without consent or with implied consent, but not a transactional message', () => {
    const paris = (consent: ProfileState['consent']) =>
      aContext({
        profile: aProfile({
          location: { country: 'FR', region: null, city: null, timezone: null },
          consent,
        }),
      });
    expect(codesOf(aMessage(), paris({}))).toEqual(['block:gdpr_no_consent']);
    expect(
      codesOf(
        aMessage(),
        paris({ email: { marketing: { granted: true, atMs: now, source: 'implied' } } }),
      ),
    ).toEqual(['block:gdpr_consent_implied']);
    // However a source writes it.
    for (const source of ['Implied', 'IMPLIED', ' implied '])
      expect(
        codesOf(aMessage(), paris({ email: { marketing: { granted: true, atMs: now, source } } })),
      ).toEqual(['block:gdpr_consent_implied']);
    expect(codesOf(aMessage({ class: 'transactional', incentive: null }), paris({}))).toEqual([]);
  });

  it('reads the country as sources write it, and applies GDPR to one it cannot read', () => {
    const from = (country: string) =>
      aContext({
        profile: aProfile({
          location: { country, region: null, city: null, timezone: null },
          consent: {},
        }),
      });
    for (const country of ['Germany', 'deu', 'Réunion', 'Atlantis', 'EU'])
      expect([country, codesOf(aMessage(), from(country))]).toEqual([
        country,
        ['block:gdpr_no_consent'],
      ]);
    for (const country of ['Switzerland', 'Morocco', 'South Africa'])
      expect([country, codesOf(aMessage(), from(country))]).toEqual([country, []]);
    const [gdpr] = runGuardrails(aMessage(), from('Atlantis'), policy).verdicts.filter(
      (v) => v.outcome === 'block',
    );
    expect(gdpr?.reason).toBe('GDPR (country not recognised): no marketing consent for email');
  });

  it('applies GDPR to a customer of no stated country whose timezone is in a listed one', () => {
    const zoned = (timezone: string | null, consent: ProfileState['consent']) =>
      aContext({
        profile: aProfile({
          location: { country: null, region: null, city: null, timezone },
          consent,
        }),
      });
    const implied = { email: { marketing: { granted: true, atMs: now, source: 'implied' } } };
    const fiveYears = {
      email: { marketing: { granted: true, atMs: now - 5 * 365 * DAY_MS, source: 'form' } },
    };
    expect(codesOf(aMessage(), zoned('Europe/Berlin', implied))).toEqual([
      'block:gdpr_consent_implied',
    ]);
    expect(codesOf(aMessage(), zoned('Atlantic/Canary', fiveYears))).toEqual([
      'block:gdpr_consent_expired',
    ]);
    const [verdict] = runGuardrails(aMessage(), zoned('europe/paris', {}), policy).verdicts.filter(
      (v) => v.outcome === 'block',
    );
    expect(verdict?.reason).toBe('GDPR (FR by its timezone): no marketing consent for email');
    // Zones of no listed country, no zone, and a zone of a listed country beside a stated
    // country outside the list (the stated country decides).
    for (const timezone of ['America/Chicago', 'Europe/Zurich', 'UTC', null])
      expect([timezone, codesOf(aMessage(), zoned(timezone, implied))]).toEqual([timezone, []]);
    const statedUs = aContext({
      profile: aProfile({
        location: { country: 'US', region: null, city: null, timezone: 'Europe/Berlin' },
        consent: implied,
      }),
    });
    expect(codesOf(aMessage(), statedUs)).toEqual([]);
  });

  it('checks CAN-SPAM on US marketing email: address, unsubscribe and sender', () => {
    const bare = aMessage({
      content: {
        subject: 'Hi Ada',
        body: 'Ada https://x.example',
        from: 'not-an-address',
        replyTo: null,
        footerAddress: null,
        unsubscribeUrl: null,
      },
    });
    expect(codesOf(bare)).toEqual([
      'block:canspam_no_address',
      'block:canspam_no_unsubscribe',
      'block:canspam_bad_sender',
      'block:canspam_bad_sender',
    ]);
    expect(codesOf(aMessage({ content: null }))).toEqual(['block:not_rendered']);
    // Where the customer is not known, they may be in the United States: the same rules.
    const nowhere = aContext({
      profile: aProfile({
        location: { country: null, region: null, city: null, timezone: null },
      }),
    });
    expect(codesOf(bare, nowhere)).toContain('block:canspam_no_address');
    expect(codesOf(aMessage({ content: null }), nowhere)).toEqual(['block:not_rendered']);
    const gb = aContext({
      profile: aProfile({ location: { country: 'GB', region: null, city: null, timezone: null } }),
    });
    expect(codesOf(bare, gb)).not.toContain('block:canspam_no_address');
  });

  it('judges the HTML part too: its words, and the unsubscribe link in it', () => {
    const base = aMessage();
    const content = base.content ?? aContent();
    const url = content.unsubscribeUrl ?? '';
    const footer = `<p>${content.footerAddress ?? ''}<br><a href="${url}">Unsubscribe</a></p>`;
    const withHtml = (html: string) => aMessage({ content: { ...content, html } });
    expect(codesOf(withHtml(`<p>Hi</p>${footer}`))).toEqual([]);
    expect(codesOf(withHtml(`<p>So <b>cheap</b></p>${footer}`))).toEqual(['block:forbidden_words']);
    expect(codesOf(withHtml(`<p>Hi, no way out</p><p>${content.footerAddress ?? ''}</p>`))).toEqual(
      ['block:canspam_no_unsubscribe'],
    );
    // What a reader is never shown does not count: the footer left only in a comment.
    expect(codesOf(withHtml(`<p>Hi</p><!-- ${footer} -->`))).toEqual([
      'block:canspam_no_address',
      'block:canspam_no_unsubscribe',
    ]);
    expect(codesOf(withHtml(`<p>Hi</p><a href="${url}">Unsubscribe</a>`))).toEqual([
      'block:canspam_no_address',
    ]);
    // The address as text, an image's source or an attribute's value is no link to follow.
    const address = `<p>${content.footerAddress ?? ''}</p>`;
    for (const kept of [
      `<p>To stop: ${url}</p>`,
      `<img src="${url}" width="1" height="1">`,
      `<p data-href="${url}">Unsubscribe</p>`,
    ])
      expect(codesOf(withHtml(`<p>Hi</p>${address}${kept}`))).toEqual([
        'block:canspam_no_unsubscribe',
      ]);
  });

  it('holds marketing back from someone erased until an explicit opt-in after the erasure', () => {
    const erasedAtMs = now - 5 * DAY_MS;
    const grant = (atMs: number, explicit: boolean): ConsentEntry => ({
      granted: true,
      atMs,
      source: explicit ? 'preference-centre' : 'identify',
      ...(explicit ? { explicit: true as const } : {}),
    });
    const named = (marketing: ConsentEntry) =>
      aContext({ erasedAtMs, profile: aProfile({ consent: { email: { marketing } } }) });
    // Traits granting after the erasure may be a sync replaying what it held from before.
    expect(codesOf(aMessage(), named(grant(now, false)))).toEqual(['block:erased']);
    expect(codesOf(aMessage(), named(grant(erasedAtMs - DAY_MS, true)))).toEqual(['block:erased']);
    expect(codesOf(aMessage(), named(grant(erasedAtMs + 1, true)))).toEqual([]);
    // Kept beside a traits grant, the explicit one counts too.
    expect(
      codesOf(aMessage(), named({ ...grant(now, false), other: grant(erasedAtMs + 1, true) })),
    ).toEqual([]);
    // An opt-in on another channel opens only that one.
    expect(codesOf(aMessage({ channel: 'sms', template: 't' }), named(grant(now, true)))).toContain(
      'block:erased',
    );
    // A receipt for something the person did since is not marketing.
    expect(codesOf(aMessage({ class: 'transactional' }), named(grant(now, false)))).toEqual([]);
  });

  it('honours suppression, opt-ins, preferences and cadence', () => {
    const bounced = aContext({
      profile: aProfile({ email: { hardBounces: 3, complaints: 0, lastBounceAtMs: now } }),
    });
    expect(codesOf(aMessage(), bounced)).toEqual(['block:suppressed_bounced']);
    expect(codesOf(aMessage({ class: 'transactional' }), bounced)).toEqual([
      'block:suppressed_bounced',
    ]);
    const unsubscribed = aContext({
      profile: aProfile({
        consent: { email: { marketing: { granted: false, atMs: now, source: 'link' } } },
      }),
    });
    expect(codesOf(aMessage(), unsubscribed)).toEqual(['block:unsubscribed']);
    expect(codesOf(aMessage({ channel: 'sms', template: 't' }))).toEqual(['block:no_consent']);
    const emailOnly = aContext({
      profile: aProfile({ preferences: { channels: ['email'], topics: ['product-updates'] } }),
    });
    expect(codesOf(aMessage(), emailOnly)).toEqual(['block:topic_preference']);
    expect(codesOf(aMessage({ topic: 'product-updates' }), emailOnly)).toEqual([]);
    // One name where a list was expected, in its own case, is a list of one.
    const smsOnly = aContext({
      profile: aProfile({ preferences: { channels: 'SMS', topics: 'Product-Updates' } }),
    });
    expect(codesOf(aMessage({ topic: 'product-updates' }), smsOnly)).toEqual([
      'block:channel_preference',
    ]);
    // Unsubscribed from one topic on the channel: that topic is blocked, the others are not.
    const noPromotions = aContext({
      profile: aProfile({
        consent: {
          email: {
            marketing: { granted: true, atMs: now, source: 'form' },
            promotions: { granted: false, atMs: now, source: 'Unsubscribed', explicit: true },
          },
        },
      }),
    });
    expect(codesOf(aMessage({ topic: 'promotions' }), noPromotions)).toEqual([
      'block:unsubscribed_topic',
    ]);
    expect(codesOf(aMessage({ topic: 'product-updates' }), noPromotions)).toEqual([]);
    // Cadence: at most one marketing message a day, week or month, counted over its own period
    // whatever the caps' window; none for `never`.
    const cadence = (value: unknown, lastDaysAgo: number | null) =>
      codesOf(
        aMessage(),
        aContext({
          profile: aProfile({ preferences: { cadence: value } }),
          history: {
            marketingInWindow: {},
            campaignsToday: 0,
            marketingTotal: 4,
            lastMarketingAtMs: lastDaysAgo === null ? null : now - lastDaysAgo * DAY_MS,
          },
        }),
      );
    expect(cadence('weekly', 6.5)).toEqual(['block:cadence']);
    expect(cadence('Weekly', 7.5)).toEqual([]);
    expect(cadence('daily', 0.5)).toEqual(['block:cadence']);
    expect(cadence('daily', 1.5)).toEqual([]);
    expect(cadence('monthly', 20)).toEqual(['block:cadence']);
    expect(cadence('monthly', null)).toEqual([]);
    expect(cadence('never', null)).toEqual(['block:cadence']);
    // Unknown: held to weekly. Blank: no cadence.
    expect(cadence('fortnightly', null)).toEqual([]);
    expect(cadence('fortnightly', 3)).toEqual(['block:cadence']);
    expect(cadence('', 0.1)).toEqual([]);
    // Web content neither counts nor is held to a cadence.
    expect(
      codesOf(
        aMessage({ channel: 'web' }),
        aContext({ profile: aProfile({ preferences: { cadence: 'never' } }) }),
      ),
    ).not.toContain('block:cadence');
  });

  it('reads a phrase however its words are joined, and counts a subject as a reader does', () => {
    const content = aMessage().content;
    if (content === null) throw new Error('test message has content');
    const withSubject = (subject: string) =>
      codesOf(aMessage({ content: { ...content, subject } }));
    for (const subject of [
      'Limited-time offer for you, Ada',
      'Ada, act-now before it is gone',
      'Risk free trial for Ada',
      'Risk\u2011free trial for Ada',
      'Ada: 100 % free this week',
    ])
      expect(withSubject(subject), subject).toEqual(['review:spam_trigger_words']);
    expect(
      codesOf(
        aMessage({
          content: { ...content, body: `${content.body} A too-good-to-be-true deal.` },
        }),
      ),
    ).toEqual(['block:forbidden_words']);
    // Sixty characters: one an accent pasted decomposed, one a flag of two code points.
    const decomposed = `Ada, your cafe\u0301 order ${'x'.repeat(39)}`;
    const flagged = `Ada, bonjour \u{1F1EB}\u{1F1F7} ${'x'.repeat(45)}`;
    for (const subject of [decomposed, flagged]) expect(withSubject(subject), subject).toEqual([]);
    expect(withSubject(`${decomposed}x`)).toEqual(['block:subject_too_long']);
    // Reported as counted, not cut at the limit.
    expect(
      runGuardrails(
        aMessage({ content: { ...content, subject: `${decomposed}${'x'.repeat(40)}` } }),
        aContext(),
        policy,
      ).verdicts.find((v) => v.code === 'subject_too_long')?.figures,
    ).toEqual({ subjectLength: 100, max: 60 });
    // A subject far too long is counted by its code points: segmenting 60,000 characters took
    // gigabytes and ended the process (not timed here).
    const long = runGuardrails(
      aMessage({ content: { ...content, subject: `Ada ${'Free '.repeat(12_000)}` } }),
      aContext(),
      policy,
    ).verdicts.find((v) => v.code === 'subject_too_long');
    expect(long?.figures).toEqual({ subjectLength: 60_004, max: 60 });
  });

  it('blocks forbidden words and long subjects, reviews spam triggers and missing personalisation', () => {
    const content = aMessage().content;
    if (content === null) throw new Error('test message has content');
    expect(
      codesOf(aMessage({ content: { ...content, body: `${content.body} Cheap thrills!` } })),
    ).toEqual(['block:forbidden_words']);
    expect(
      codesOf(aMessage({ content: { ...content, subject: `Ada ${'x'.repeat(57)}` } })),
    ).toEqual(['block:subject_too_long']);
    expect(
      codesOf(aMessage({ content: { ...content, subject: 'Ada: Limited time only' } })),
    ).toEqual(['review:spam_trigger_words']);
    expect(
      codesOf(
        aMessage({ content: { ...content, subject: 'Hello', body: 'See https://x.example' } }),
      ),
    ).toEqual(['review:not_personalised']);
    // The name the renderer prints: a blank firstName from a sign-up form is passed over for
    // first_name, by both.
    for (const firstName of ['', '  '])
      expect(
        notPassing(
          runGuardrails(
            aMessage({ content: { ...content, subject: 'Hello', body: 'See https://x.example' } }),
            aContext({ profile: aProfile({ traits: { firstName, first_name: 'Ana' } }) }),
            policy,
          ).verdicts,
        ),
      ).toEqual(['review:not_personalised']);
  });

  it('names every forbidden word or phrase found on its own, in any case, and no word inside another', () => {
    const content = aMessage().content;
    if (content === null) throw new Error('test message has content');
    const brandVerdict = (body: string) =>
      runGuardrails(aMessage({ content: { ...content, body } }), aContext(), policy).verdicts.find(
        (v) => v.guardrail === 'brand' && v.code === 'forbidden_words',
      );
    expect(
      brandVerdict(`${content.body} Cheapest? DESPERATE times, too good to be true.`)?.figures,
    ).toEqual({ words: ['desperate', 'too good to be true'] });
    expect(brandVerdict(`${content.body} Cheapest, undesperate, cheap-ish`)?.figures).toEqual({
      words: ['cheap'],
    });
    expect(brandVerdict(`${content.body} Cheapest prices`)).toBeUndefined();
    // Another list is another pattern; its words are taken literally, punctuation and all.
    const other = { ...policy, forbiddenWords: ['50% off!', 'c++', '(free)'] };
    const named = (body: string) =>
      runGuardrails(aMessage({ content: { ...content, body } }), aContext(), other).verdicts.find(
        (v) => v.code === 'forbidden_words',
      )?.figures;
    expect(named(`${content.body} Get 50% OFF! today, C++ fans (free)`)).toEqual({
      words: ['50% off!', 'c++', '(free)'],
    });
    expect(named(`${content.body} cheap 50% offer, cxx, free`)).toBeUndefined();
  });

  it('reads the copy as a reader sees it: no forbidden word, trigger or discount slips past', () => {
    const content = aContent();
    const withBody = (body: string, html: string | null = null) =>
      codesOf(aMessage({ content: { ...content, body: `${content.body} ${body}`, html } }));
    for (const body of [
      'too good\nto be true',
      'too good to  be true',
      'ch\u00ADeap',
      'ch\u200Beap',
      '\uFF43\uFF48\uFF45\uFF41\uFF50',
    ])
      expect(withBody(body), JSON.stringify(body)).toContain('block:forbidden_words');
    for (const html of ['<p>too&nbsp;good&nbsp;to be true</p>', '<b>ch</b>eap', '&#99;heap'])
      expect(withBody('', html), html).toContain('block:forbidden_words');
    for (const subject of ['Ada: act\u00A0now', 'Ada: act\u200B now', 'Ada: limited  time'])
      expect(codesOf(aMessage({ content: { ...content, subject } })), subject).toEqual([
        'review:spam_trigger_words',
      ]);
    // A discount the copy states is held to the limits as an incentive is.
    expect(withBody('Take 60% off every winter boot')).toEqual(['block:discount_too_high']);
    expect(withBody('Save ２０ percent today')).toEqual(['review:discount_needs_review']);
    expect(withBody('', '<p>Take <b>40</b>% off</p>')).toContain('block:discount_too_high');
    expect(withBody('20% of our customers came back')).toEqual([]);
    expect(withBody('Everything is half price')).toEqual(['block:discount_too_high']);
    expect(withBody('$20 off your next order')).toEqual(['review:discount_needs_review']);
    // A transactional message that states a discount goes to a person: an offer would skip
    // marketing's rules, and a receipt may only report one applied.
    const receipt = (body: string) =>
      codesOf(
        aMessage({
          class: 'transactional',
          incentive: null,
          content: { ...content, body: `${content.body} ${body}` },
        }),
      );
    expect(receipt('Enjoy 10% off your next order')).toEqual(['review:offer_in_transactional']);
    expect(receipt('$5 off your next order')).toEqual(['review:offer_in_transactional']);
    expect(receipt('Scarf (half price) $10.00')).toEqual(['review:offer_in_transactional']);
    expect(receipt('Your order ships today')).toEqual([]);
    // A receipt reports the discount applied: that offers nothing.
    expect(receipt('Subtotal $50.00, Discount: 10%, Total $45.00')).toEqual([]);
    expect(receipt('Subtotal $50.00, Discount: 30%, Total $35.00')).toEqual([]);
    expect(
      codesOf(
        aMessage({
          incentive: percentOff(10),
          content: { ...content, body: 'Ada, 10% off: https://x.example' },
        }),
      ),
    ).toEqual([]);
    // The preheader is read too: inboxes show it beside the subject.
    expect(
      codesOf(aMessage({ content: { ...content, preheader: 'Too good to be true, Ada' } })),
    ).toEqual(['block:forbidden_words']);
    // The footer's unsubscribe link is no call to action.
    expect(
      codesOf(
        aMessage({
          content: {
            ...content,
            body: `Hello Ada, nothing to click here.\nUnsubscribe: ${content.unsubscribeUrl ?? ''}`,
          },
        }),
      ),
    ).toEqual(['block:no_cta']);
  });

  it('sends customers above the LTV threshold, and disengaged ones, the right way', () => {
    expect(codesOf(aMessage(), aContext({ ltv: 5000.01 }))).toEqual(['review:vip_review']);
    const cold = (total: number) =>
      aContext({
        engagementScore: 0.1,
        history: { marketingInWindow: {}, campaignsToday: 0, marketingTotal: total },
      });
    expect(codesOf(aMessage(), cold(2))).toEqual([]);
    expect(codesOf(aMessage(), cold(3))).toEqual(['block:low_engagement']);
  });

  it('blocks when a guardrail throws, and still reports the others', () => {
    const broken: Guardrail = {
      name: 'broken',
      check: () => {
        throw new Error('model unavailable');
      },
    };
    const silent: Guardrail = { name: 'silent', check: () => [] };
    const result = runGuardrails(aMessage({ incentive: percentOff(20) }), aContext(), policy, [
      broken,
      silent,
      ...[],
    ]);
    expect(result.outcome).toBe('block');
    expect(result.verdicts).toMatchObject([
      {
        guardrail: 'broken',
        outcome: 'block',
        code: 'guardrail_failed',
        reason: 'guardrail broken failed: model unavailable',
      },
      { guardrail: 'silent', outcome: 'block', code: 'guardrail_failed' },
    ]);
  });

  it('keeps WhatsApp to approved templates', () => {
    const optedIn = aContext({
      profile: aProfile({
        traits: { phone: '+15555550100' },
        consent: { whatsapp: { marketing: { granted: true, atMs: now, source: 'form' } } },
      }),
    });
    const message = aMessage({ channel: 'whatsapp', template: 'cart_reminder', content: null });
    expect(codesOf(message, optedIn)).toEqual(['block:whatsapp_template_not_approved']);
    expect(
      codesOf(message, optedIn, { ...policy, whatsappApprovedTemplates: ['cart_reminder'] }),
    ).toEqual([]);
  });

  it('judges a WhatsApp message by the template it sends at Meta, with every variable filled', () => {
    const optedIn = aContext({
      profile: aProfile({
        traits: { phone: '+15555550100' },
        consent: { whatsapp: { marketing: { granted: true, atMs: now, source: 'form' } } },
      }),
    });
    const approved = { ...policy, whatsappApprovedTemplates: ['order_shipped'] };
    const sending = (whatsapp: { name: string; language: string; parameters: string[] }) =>
      aMessage({
        channel: 'whatsapp',
        class: 'transactional',
        template: 'order-shipped',
        content: aContent({ whatsapp }),
      });
    const good = sending({ name: 'order_shipped', language: 'de', parameters: ['Ada', 'A-1'] });
    expect(codesOf(good, optedIn, approved)).toEqual([]);
    // The Herald name is not what Meta approved.
    expect(
      codesOf(good, optedIn, { ...policy, whatsappApprovedTemplates: ['order-shipped'] }),
    ).toEqual(['block:whatsapp_template_not_approved']);
    expect(
      codesOf(
        sending({ name: 'order_shipped', language: 'de-DE', parameters: ['', 'A-1', ''] }),
        optedIn,
        approved,
      ),
    ).toEqual(['block:whatsapp_language_invalid', 'block:whatsapp_parameter_missing']);
    const [missing] = runGuardrails(
      sending({ name: 'order_shipped', language: 'pt_BR', parameters: ['', 'A-1', ''] }),
      optedIn,
      approved,
    ).verdicts.filter((v) => v.outcome === 'block');
    expect(missing).toMatchObject({
      reason: 'WhatsApp: template order_shipped variable {{1}}, {{3}} rendered empty',
      figures: { template: 'order_shipped', empty: [1, 3] },
    });
  });

  it('ranks hold above pass and below review and block, holding until the latest moment', () => {
    const holding = (name: string, untilMs: number): Guardrail => ({
      name,
      check: () => [hold(name, 'wait', 'not now', untilMs)],
    });
    const passing: Guardrail = { name: 'ok', check: () => [pass('ok', 'fine')] };
    const reviewing: Guardrail = {
      name: 'person',
      check: () => [{ ...pass('person', 'look'), outcome: 'review', code: 'look' }],
    };
    const run = (guardrails: Guardrail[]) =>
      runGuardrails(aMessage(), aContext(), policy, guardrails);
    const held = run([passing, holding('a', now + HOUR_MS), holding('b', now + 3 * HOUR_MS)]);
    expect(held.outcome).toBe('hold');
    expect(held.holdUntilMs).toBe(now + 3 * HOUR_MS);
    expect(run([holding('a', now + HOUR_MS), reviewing]).outcome).toBe('review');
    expect(run([passing]).holdUntilMs).toBeNull();
  });

  it('blocks a hold that gives no moment to hold until', () => {
    const vague: Guardrail = {
      name: 'vague',
      check: () => [{ ...pass('vague', 'later'), outcome: 'hold', code: 'later' }],
    };
    const result = runGuardrails(aMessage(), aContext(), policy, [vague]);
    expect(result.outcome).toBe('block');
    expect(result.verdicts).toMatchObject([{ guardrail: 'vague', code: 'guardrail_failed' }]);
    expect(result.holdUntilMs).toBeNull();
  });

  it('holds a marketing email due in quiet hours as one result with its moment', () => {
    const result = runGuardrails(aMessage({ sendAtMs: now - 6 * HOUR_MS }), aContext(), policy);
    expect(result.outcome).toBe('hold');
    expect(result.holdUntilMs).toBe(now);
  });

  it('keeps personal data out of every reason and figure', () => {
    const content = aMessage().content;
    if (content === null) throw new Error('test message has content');
    const profile = aProfile({
      traits: { email: 'ada.l@example.com', phone: '+15555550100', firstName: 'Adelheid' },
      location: { country: 'US', region: 'NY', city: 'Albany', timezone: 'America/New_York' },
    });
    const result = runGuardrails(
      aMessage({ content: { ...content, subject: 'Hello', body: 'See https://x.example' } }),
      aContext({ profile }),
      policy,
    );
    expect(notPassing(result.verdicts)).toEqual(['review:not_personalised']);
    const written = JSON.stringify(result.verdicts);
    for (const personal of ['ada.l@example.com', '5555550100', 'Adelheid', 'Albany'])
      expect(written).not.toContain(personal);
  });
});
