import { describe, expect, it } from 'vitest';
import type { Consent, ProfileState } from '../../../core/profile.js';
import { APNS_FCM_KEYS_BYTES } from '../../../core/push-payload.js';
import { DAY_MS, HOUR_MS } from '../../../core/time.js';
import { runGuardrails } from '../run-guardrails.js';
import {
  aContent,
  aContext,
  aMessage,
  aProfile,
  defaultGuardPolicy,
  notPassing,
  now,
} from '../test-builders.js';
import { complianceGuardrail } from './compliance.js';

const policy = defaultGuardPolicy();

// Verdicts go to the audit log, which outlives an erasure: a consent source or a rendered
// template variable is text the customer or an integration wrote, and may name them.
const personal = ['jane roe', 'Jane Roe', '555 0100', '5550100', 'jane.roe@example.org'];
const written = 'jane roe +1 555 0100, jane.roe@example.org';
const expectNoneOf = (judged: unknown) => {
  const text = JSON.stringify(judged);
  for (const value of personal) expect(text).not.toContain(value);
};

const inParis = (consent: Consent) =>
  aContext({
    profile: aProfile({
      location: { country: 'FR', region: null, city: null, timezone: null },
      consent,
    }),
  });

describe('what the compliance verdicts record of text the customer wrote', () => {
  it('names the configured implied source, not the source as it was written', () => {
    const policyWith = { ...policy, gdpr: { ...policy.gdpr, impliedSources: ['Import:Implied'] } };
    const verdicts = complianceGuardrail.check(
      aMessage(),
      inParis({ email: { marketing: { granted: true, atMs: now, source: '  IMPORT:implied ' } } }),
      policyWith,
    );
    expect(JSON.stringify(verdicts)).not.toContain('IMPORT:implied');
    expect(verdicts).toEqual([
      expect.objectContaining({
        code: 'gdpr_consent_implied',
        reason: 'GDPR (FR): consent from "Import:Implied" is not explicit',
        figures: { source: 'Import:Implied' },
      }),
    ]);
  });

  it('does not copy a WhatsApp language rendered from a trait', () => {
    const judged = (language: string) =>
      complianceGuardrail
        .check(
          aMessage({
            channel: 'whatsapp',
            class: 'transactional',
            template: 'order-shipped',
            content: aContent({
              whatsapp: { name: 'order_shipped', language, parameters: ['Ada'] },
            }),
          }),
          aContext(),
          { ...policy, whatsappApprovedTemplates: ['order_shipped'] },
        )
        .filter((v) => v.outcome === 'block');
    const invalid = judged(written);
    expectNoneOf(invalid);
    expect(invalid).toEqual([
      expect.objectContaining({
        code: 'whatsapp_language_invalid',
        reason: 'WhatsApp: the language rendered is not a code like en_US',
        figures: { template: 'order_shipped', language: 'invalid' },
      }),
    ]);
    expect(judged(' ')[0]).toMatchObject({
      code: 'whatsapp_language_invalid',
      figures: { language: 'blank' },
    });
  });
});

describe('an SMS longer than Twilio takes', () => {
  const textOf = (body: string) =>
    complianceGuardrail.check(
      aMessage({ channel: 'sms', class: 'transactional', content: aContent({ body }) }),
      aContext(),
      policy,
    );

  it('is blocked when judged, with its length, segments and encoding', () => {
    expect(textOf('x'.repeat(1601))).toEqual([
      expect.objectContaining({
        outcome: 'block',
        code: 'sms_too_long',
        figures: { characters: 1601, limit: 1600, segments: 11, encoding: 'GSM-7' },
      }),
    ]);
  });

  it('goes at exactly 1,600 characters', () => {
    expect(textOf('x'.repeat(1600)).map((v) => v.outcome)).toEqual(['pass']);
  });

  it('counts an emoji as two characters, as Twilio counts it long', () => {
    // 1,600 code points, 1,601 UTF-16 units.
    expect(textOf(`${'x'.repeat(1599)}🙂`)).toEqual([
      expect.objectContaining({
        code: 'sms_too_long',
        figures: { characters: 1601, limit: 1600, segments: 24, encoding: 'UCS-2' },
      }),
    ]);
  });
});

describe('a push notification larger than FCM and APNs take', () => {
  const pushOf = (subject: string | null, body: string) =>
    complianceGuardrail.check(
      aMessage({ channel: 'push', class: 'transactional', content: aContent({ subject, body }) }),
      aContext(),
      policy,
    );
  // The payload around a title "T" and an empty body on the platform where it is largest:
  // APNs' {"aps":{"alert":{…},"sound":"default"}} with the data (the message id, d1) beside it
  // and room for FCM's own keys — larger than FCM's notification and data.
  const frame =
    Buffer.byteLength(
      JSON.stringify({
        aps: { alert: { title: 'T', body: '' }, sound: 'default' },
        herald_message_id: 'd1',
      }),
    ) + APNS_FCM_KEYS_BYTES;

  it('goes at exactly 4,096 bytes and is blocked, channel by channel, one byte over', () => {
    expect(pushOf('T', 'x'.repeat(4096 - frame)).map((v) => v.outcome)).toEqual(['pass']);
    expect(pushOf('T', 'x'.repeat(4097 - frame))).toEqual([
      expect.objectContaining({
        outcome: 'block',
        code: 'push_too_long',
        figures: { bytes: 4097, limit: 4096 },
      }),
    ]);
  });

  it('counts bytes, not characters: JSON escapes and UTF-8', () => {
    // "é" is two bytes; a quote is escaped as two characters.
    expect(pushOf('T', 'é'.repeat(Math.ceil((4097 - frame) / 2)))[0]?.code).toBe('push_too_long');
    expect(pushOf('T', '"'.repeat(Math.ceil((4097 - frame) / 2)))[0]?.code).toBe('push_too_long');
  });
});

describe('a link that runs something instead of leading somewhere', () => {
  const withHtml = (html: string) =>
    complianceGuardrail
      .check(
        aMessage({ channel: 'email', class: 'transactional', content: aContent({ html }) }),
        aContext(),
        policy,
      )
      .filter((v) => v.code === 'unsafe_link');

  it('blocks javascript: and data: hrefs, however they are spelled', () => {
    const html =
      '<a href="javascript:alert(1)">a</a><a href=\'data:text/html;base64,PHNjcmlwdD4=\'>b</a>' +
      '<a title="x>y" href=" java&#9;Script:void(0)">c</a><area href=VBScript:x>' +
      '<a/href="javascript:1">d</a><a class="btn"href="javascript:2">e</a>' +
      '<svg><a xlink:href="javascript:3">f</a></svg><a data-href="javascript:4">g</a>';
    expect(withHtml(html)).toEqual([
      expect.objectContaining({
        outcome: 'block',
        figures: { schemes: ['javascript', 'data', 'vbscript'] },
      }),
    ]);
  });

  it('passes web, mail, call, text, app and relative links', () => {
    const html =
      '<a href="myshop://product/42">app</a><a href="webcal://shop.example/sale.ics">cal</a>' +
      '<a href="https://shop.example/p?a=1&amp;b=2">a</a><a href="mailto:help@shop.example">b</a>' +
      '<a href="tel:+14155550100">c</a><a href="sms:+14155550100">d</a><a href="#top">e</a>' +
      '<a href="/account">f</a><img src="data:image/png;base64,AAAA">';
    expect(withHtml(html)).toEqual([]);
  });
});

describe('every guardrail, for a customer whose free text names them', () => {
  it('records none of it in any verdict', () => {
    const withdrawn = {
      granted: false,
      atMs: now - HOUR_MS,
      source: written,
      explicit: true as const,
    };
    const profile = aProfile({
      traits: { email: 'jane.roe@example.org', firstName: 'Jane', phone: '+1 555 0100' },
      location: { country: written, region: written, city: written, timezone: written },
      consent: {
        email: {
          marketing: { granted: true, atMs: now - HOUR_MS, source: written },
          promotions: withdrawn,
        },
        sms: { marketing: withdrawn },
        whatsapp: { marketing: { granted: true, atMs: now - HOUR_MS, source: written } },
      },
      preferences: { channels: [written], topics: [written], cadence: written, doNotSell: written },
    });
    const context = aContext({
      profile,
      history: {
        marketingInWindow: {},
        campaignsToday: 0,
        marketingTotal: 4,
        lastMarketingAtMs: now - HOUR_MS,
      },
    });
    const approved = { ...policy, whatsappApprovedTemplates: ['order_shipped'] };
    const whatsapp = { name: 'order_shipped', language: written, parameters: [written] };
    for (const message of [
      aMessage(),
      aMessage({ channel: 'sms', content: aContent({ subject: null }) }),
      aMessage({ channel: 'whatsapp', content: aContent({ subject: null, whatsapp }) }),
      aMessage({ channel: 'web' }),
      aMessage({ channel: 'sms', class: 'transactional', topic: null, content: aContent() }),
    ]) {
      const { verdicts } = runGuardrails(message, context, approved);
      expectNoneOf(verdicts);
      expect(verdicts.some((v) => v.outcome === 'block')).toBe(true);
    }
  });
});

describe('where GDPR consent is asked for', () => {
  const placed = (country: string | null, timezone: string | null) =>
    aContext({
      profile: aProfile({ location: { country, region: null, city: null, timezone }, consent: {} }),
    });

  it('asks it of the UK, Gibraltar and the Crown Dependencies, by country or by timezone', () => {
    for (const [country, timezone] of [
      ['GB', null],
      ['United Kingdom', null],
      ['Gibraltar', null],
      ['JE', null],
      [null, 'Europe/London'],
      [null, 'Europe/Isle_of_Man'],
    ] as const)
      expect(
        notPassing(complianceGuardrail.check(aMessage(), placed(country, timezone), policy)),
        `${String(country)} ${String(timezone)}`,
      ).toEqual(['block:gdpr_no_consent']);
    expect(notPassing(complianceGuardrail.check(aMessage(), placed('US', null), policy))).toEqual(
      [],
    );
  });

  it("takes the customer's own explicit grant over a later sync restating it from an implied source", () => {
    // A preference centre's Consent Updated, then a CRM sync's traits restating the grant as
    // implied a week later: the newer traits fact is the entry, the explicit one beside it.
    const explicit = { granted: true, atMs: now - 8 * DAY_MS, source: 'preference-centre' };
    const judged = (marketing: ProfileState['consent']['email']) =>
      notPassing(
        complianceGuardrail.check(
          aMessage(),
          aContext({
            profile: aProfile({
              location: { country: 'DE', region: null, city: null, timezone: null },
              consent: { email: marketing ?? {} },
            }),
          }),
          policy,
        ),
      );
    const synced = { granted: true, atMs: now - DAY_MS, source: 'import:implied' };
    expect(judged({ marketing: { ...synced, other: { ...explicit, explicit: true } } })).toEqual(
      [],
    );
    // Implied alone is no consent, nor is an explicit grant later withdrawn beside it.
    expect(judged({ marketing: synced })).toEqual(['block:gdpr_consent_implied']);
    expect(
      judged({
        marketing: { ...synced, other: { ...explicit, granted: false, explicit: true } },
      }),
    ).toEqual(['block:gdpr_consent_implied']);
  });
});

describe('a customer placed by nothing but an international phone number', () => {
  const withPhone = (phone: string) =>
    aContext({
      profile: aProfile({
        traits: { email: 'c1@example.com', phone, firstName: 'Ada' },
        location: { country: null, region: null, city: null, timezone: null },
        consent: {},
      }),
    });

  it('is asked GDPR consent when the number is of a listed country, or shares its calling code', () => {
    for (const phone of ['+49 151 12345678', '0033 6 12 34 56 78', '+44 7700 900123'])
      expect(
        notPassing(complianceGuardrail.check(aMessage(), withPhone(phone), policy)),
        phone,
      ).toEqual(['block:gdpr_no_consent']);
    const [verdict] = complianceGuardrail.check(aMessage(), withPhone('+4915112345678'), policy);
    expect(verdict?.reason).toBe('GDPR (DE by the phone number): no marketing consent for email');
    // A number of a country outside the list, or one written nationally, places no one there.
    for (const phone of ['+1 212 555 0123', '030 1234567'])
      expect(notPassing(complianceGuardrail.check(aMessage(), withPhone(phone), policy))).toEqual(
        [],
      );
  });
});
