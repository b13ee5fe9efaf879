import { describe, expect, it } from 'vitest';
import type { Channel, Consent, ConsentEntry, ProfileState } from '../../../core/profile.js';
import { DAY_MS, HOUR_MS } from '../../../core/time.js';
import { checkAtHandOff } from '../hand-off.js';
import {
  aContext,
  aMessage,
  aProfile,
  defaultGuardPolicy,
  notPassing,
  now,
} from '../test-builders.js';
import { consentGuardrail } from './consent.js';

const policy = defaultGuardPolicy();
const given = (granted: boolean) => ({
  granted,
  atMs: now - HOUR_MS,
  source: 'Consent Updated',
  explicit: true as const,
});

/** The consent guardrail's blocks for a receipt on the channel, to a customer with this consent. */
const receiptTo = (channel: Channel, consent: Consent) =>
  notPassing(
    consentGuardrail.check(
      aMessage({ channel, class: 'transactional', topic: null }),
      aContext({ profile: aProfile({ consent }) }),
      policy,
    ),
  );

describe('the consent guardrail on marketing texts', () => {
  const marketingTo = (channel: Channel, consent: Consent) =>
    notPassing(
      consentGuardrail.check(
        aMessage({ channel }),
        aContext({ profile: aProfile({ consent }) }),
        policy,
      ),
    );

  it('takes no grant from an implied source as an opt-in to SMS or WhatsApp, in the US too', () => {
    for (const channel of ['sms', 'whatsapp'] as const) {
      for (const source of ['implied', ' Import:Implied '])
        expect(
          marketingTo(channel, { [channel]: { marketing: { granted: true, atMs: now, source } } }),
        ).toEqual(['block:no_consent']);
      expect(marketingTo(channel, { [channel]: { marketing: given(true) } })).toEqual([]);
    }
    const [verdict] = consentGuardrail.check(
      aMessage({ channel: 'sms' }),
      aContext({
        profile: aProfile({
          consent: { sms: { marketing: { granted: true, atMs: now, source: 'IMPLIED' } } },
        }),
      }),
      policy,
    );
    expect(verdict).toMatchObject({
      reason: 'sms marketing needs an explicit opt-in; consent from "implied" is not one',
      figures: { source: 'implied' },
    });
  });
});

describe('the consent guardrail on transactional messages', () => {
  it('sends a WhatsApp receipt to one whose own opt-in a sync restated from an implied source', () => {
    const synced = { granted: true, atMs: now - HOUR_MS, source: 'import:implied' };
    expect(receiptTo('whatsapp', { whatsapp: { marketing: synced } })).toEqual([
      'block:no_consent',
    ]);
    expect(
      receiptTo('whatsapp', { whatsapp: { marketing: { ...synced, other: given(true) } } }),
    ).toEqual([]);
  });

  it('sends a receipt by SMS to a number with no consent record: it was given for the order', () => {
    expect(receiptTo('sms', {})).toEqual([]);
  });

  it('sends nothing on SMS, WhatsApp or push once the customer opted out there, a receipt included', () => {
    for (const channel of ['sms', 'whatsapp', 'push'] as const)
      expect(receiptTo(channel, { [channel]: { marketing: given(false) } })).toEqual([
        'block:unsubscribed',
      ]);
  });

  it('sends no receipt by SMS after a STOP stored before explicit facts were marked', () => {
    // As profiles stored before 2026-12-02 hold a STOP texted back: no `explicit`.
    const stop = { granted: false, atMs: now - DAY_MS, source: 'sms-reply' };
    expect(receiptTo('sms', { sms: { marketing: stop } })).toEqual(['block:unsubscribed']);
  });

  it('sends a receipt where only traits, or an opt-out of every channel at once, withdrew marketing', () => {
    const fromTraits = { granted: false, atMs: now - HOUR_MS, source: 'identify' };
    const everyChannel = { ...given(false), source: 'Unsubscribed', everyChannel: true as const };
    for (const channel of ['sms', 'push'] as const) {
      expect(receiptTo(channel, { [channel]: { marketing: fromTraits } })).toEqual([]);
      expect(receiptTo(channel, { [channel]: { marketing: everyChannel } })).toEqual([]);
    }
  });

  it('sends nothing by WhatsApp without an explicit opt-in, for marketing or for the order', () => {
    expect(receiptTo('whatsapp', {})).toEqual(['block:no_consent']);
    expect(receiptTo('whatsapp', { whatsapp: { transactional: given(true) } })).toEqual([]);
    expect(receiptTo('whatsapp', { whatsapp: { marketing: given(true) } })).toEqual([]);
  });

  it('takes no grant from an implied source as an opt-in to WhatsApp, for a receipt either', () => {
    const implied = { granted: true, atMs: now - HOUR_MS, source: ' Import:Implied ' };
    for (const purpose of ['transactional', 'marketing'] as const)
      expect(receiptTo('whatsapp', { whatsapp: { [purpose]: implied } })).toEqual([
        'block:no_consent',
      ]);
    expect(
      receiptTo('whatsapp', { whatsapp: { marketing: implied, transactional: implied } }),
    ).toEqual(['block:no_consent']);
    // One explicit grant beside an implied one is an opt-in.
    expect(
      receiptTo('whatsapp', { whatsapp: { marketing: implied, transactional: given(true) } }),
    ).toEqual([]);
    const [verdict] = consentGuardrail.check(
      aMessage({ channel: 'whatsapp', class: 'transactional', topic: null }),
      aContext({ profile: aProfile({ consent: { whatsapp: { transactional: implied } } }) }),
      policy,
    );
    expect(verdict).toMatchObject({ code: 'no_consent', figures: { source: 'import:implied' } });
  });

  it('still sends a receipt by SMS on an implied grant, which needs no consent at all', () => {
    const implied = { granted: true, atMs: now - HOUR_MS, source: 'implied' };
    expect(receiptTo('sms', { sms: { transactional: implied } })).toEqual([]);
  });

  it('sends a receipt to an email address unsubscribed from marketing, not to one that refused receipts', () => {
    expect(receiptTo('email', { email: { marketing: given(false) } })).toEqual([]);
    expect(receiptTo('email', { email: { transactional: given(false) } })).toEqual([
      'block:unsubscribed',
    ]);
  });
});

describe('the consent rules at hand-off are the guardrail’s', () => {
  it('gives the code the guardrail gives, for each rule it can read as the message leaves', () => {
    const cases: { channel: Channel; cls: 'marketing' | 'transactional'; profile: object }[] = [
      { channel: 'email', cls: 'marketing', profile: { preferences: { cadence: 'never' } } },
      { channel: 'email', cls: 'marketing', profile: { preferences: { channels: ['sms'] } } },
      { channel: 'email', cls: 'marketing', profile: { preferences: { topics: ['news'] } } },
      { channel: 'sms', cls: 'marketing', profile: { consent: {} } },
      {
        channel: 'sms',
        cls: 'transactional',
        profile: { consent: { sms: { marketing: given(false) } } },
      },
      { channel: 'whatsapp', cls: 'transactional', profile: { consent: {} } },
      {
        channel: 'whatsapp',
        cls: 'transactional',
        profile: {
          consent: { whatsapp: { transactional: { granted: true, atMs: now, source: 'implied' } } },
        },
      },
      {
        channel: 'email',
        cls: 'transactional',
        profile: { email: { hardBounces: 0, complaints: 1, lastBounceAtMs: null } },
      },
    ];
    for (const { channel, cls, profile: overrides } of cases) {
      const profile = aProfile(overrides);
      const message = aMessage({ channel, class: cls });
      const [first] = notPassing(consentGuardrail.check(message, aContext({ profile }), policy));
      const atHandOff = checkAtHandOff(
        { ...message, createdAtMs: now - HOUR_MS },
        profile,
        policy,
        now,
      );
      expect({ channel, cls, code: atHandOff?.code }).toEqual({
        channel,
        cls,
        code: first?.replace('block:', ''),
      });
    }
  });
});

describe('an email address’s hard bounces, on every customer record of it', () => {
  const bounced = (hardBounces: number) => ({
    email: { hardBounces, complaints: 0, lastBounceAtMs: null },
  });
  /** The guardrail's verdict and the hand-off's code, for a message to a record of the address. */
  const judged = (
    cls: 'marketing' | 'transactional',
    own: number,
    address: number | null,
    channel: Channel = 'email',
  ) => {
    const profile = aProfile(bounced(own));
    const message = aMessage({ channel, class: cls });
    const verdicts = consentGuardrail.check(
      message,
      aContext({ profile, addressHardBounces: address }),
      policy,
    );
    const atHandOff = checkAtHandOff(
      { ...message, createdAtMs: now - HOUR_MS },
      profile,
      policy,
      now,
      {
        addressHardBounces: address,
      },
    );
    return {
      verdict: verdicts.find((v) => v.outcome === 'block') ?? null,
      handOff: atHandOff?.code ?? null,
    };
  };

  it('suppresses every record of an address that bounced hard often enough on others', () => {
    // This record never bounced; the address bounced 3 times on another (a guest checkout).
    for (const cls of ['marketing', 'transactional'] as const) {
      const { verdict, handOff } = judged(cls, 0, 3);
      expect(verdict).toMatchObject({
        code: 'suppressed_bounced',
        figures: { hardBounces: 0, addressHardBounces: 3, limit: 3 },
      });
      expect(handOff).toBe('suppressed_bounced');
    }
    // Bounces on several records count together: 1 here, 2 on another.
    expect(judged('marketing', 1, 3).verdict?.code).toBe('suppressed_bounced');
  });

  it('lets an address under the limit go, and reads the address for email only', () => {
    expect(judged('marketing', 1, 2)).toEqual({ verdict: null, handOff: null });
    expect(judged('marketing', 0, null)).toEqual({ verdict: null, handOff: null });
    expect(judged('transactional', 0, 5, 'sms')).toEqual({ verdict: null, handOff: null });
  });

  it('names the record’s own bounces first, with the address’s figure beside them', () => {
    expect(judged('marketing', 3, 4).verdict).toMatchObject({
      code: 'suppressed_bounced',
      reason: 'the address bounced hard too often',
      figures: { hardBounces: 3, addressHardBounces: 4, limit: 3 },
    });
    expect(judged('marketing', 3, null).verdict?.figures).toEqual({ hardBounces: 3, limit: 3 });
  });
});

describe('what the consent verdicts record of text the customer wrote', () => {
  // Verdicts go to the audit log, which outlives an erasure: a preference or a consent source is
  // whatever the customer or an integration typed, and may name them.
  const personal = ['jane roe', 'Jane Roe', '555 0100', '5550100', 'jane.roe@example.org'];
  const written = 'the customer only wants jane roe +1 555 0100, jane.roe@example.org';
  const expectNoneOf = (judged: unknown) => {
    const text = JSON.stringify(judged);
    for (const value of personal) expect(text).not.toContain(value);
  };
  const judge = (
    overrides: Partial<ProfileState>,
    message = aMessage(),
    lastMarketingAtMs: number | null = null,
  ) => {
    const profile = aProfile(overrides);
    const verdicts = consentGuardrail.check(
      message,
      aContext({
        profile,
        history: { marketingInWindow: {}, campaignsToday: 0, marketingTotal: 4, lastMarketingAtMs },
      }),
      policy,
    );
    const atHandOff = checkAtHandOff(
      { ...message, createdAtMs: now - HOUR_MS },
      profile,
      policy,
      now,
    );
    return { blocks: verdicts.filter((v) => v.outcome === 'block'), atHandOff };
  };

  it('names the channels Herald knows in a channel preference, and counts the rest', () => {
    const { blocks, atHandOff } = judge({
      preferences: { channels: [written, 'SMS', 'jane.roe@example.org'] },
    });
    expectNoneOf({ blocks, atHandOff });
    expect(blocks).toEqual([
      expect.objectContaining({
        code: 'channel_preference',
        reason: 'the customer prefers sms and 2 channels Herald does not know',
        figures: { channels: ['sms'], unknownChannels: 2 },
      }),
    ]);
    expect(atHandOff?.code).toBe('channel_preference');
  });

  it('names the topics Herald knows in a topic preference, and counts the rest', () => {
    const { blocks, atHandOff } = judge({ preferences: { topics: [written, 'Onboarding'] } });
    expectNoneOf({ blocks, atHandOff });
    expect(blocks).toEqual([
      expect.objectContaining({
        code: 'topic_preference',
        reason:
          'topic preference excludes promotions: the customer only wants onboarding and 1 topic Herald does not know',
        figures: { topics: ['onboarding'], unknownTopics: 1, topic: 'promotions' },
      }),
    ]);
    expect(atHandOff?.code).toBe('topic_preference');
    // One name on its own, none of it known.
    const alone = judge({ preferences: { topics: written } });
    expectNoneOf(alone);
    expect(alone.blocks[0]).toMatchObject({
      reason:
        'topic preference excludes promotions: the customer only wants 1 topic Herald does not know',
      figures: { topics: [], unknownTopics: 1 },
    });
  });

  it('reads a preference written as a map of yes and no, and one of no shape as allowing nothing', () => {
    const codes = (preferences: Record<string, unknown>) => {
      const { blocks, atHandOff } = judge({ preferences });
      expectNoneOf({ blocks, atHandOff });
      return {
        blocks: blocks.map((b) => [b.code, b.reason, b.figures]),
        atHandOff: atHandOff?.code,
      };
    };
    // Email turned off, texts on: the email was sent, the map read as no preference.
    expect(codes({ channels: { email: false, sms: true } })).toEqual({
      blocks: [['channel_preference', 'the customer prefers sms', { channels: ['sms'] }]],
      atHandOff: 'channel_preference',
    });
    expect(codes({ channels: { Email: 'no', [written]: false } }).blocks).toEqual([
      [
        'channel_preference',
        'the customer turned off email and 1 channel Herald does not know',
        { turnedOff: ['email'], unknownChannels: 1 },
      ],
    ]);
    expect(codes({ channels: { sms: false }, topics: { orders: 'off' } })).toEqual({
      blocks: [],
      atHandOff: undefined,
    });
    expect(codes({ topics: { promotions: 'unsubscribed', orders: true } }).blocks).toEqual([
      [
        'topic_preference',
        'topic preference excludes promotions: the customer only wants orders',
        { topics: ['orders'], topic: 'promotions' },
      ],
    ]);
    expect(codes({ topics: { Promotions: false } }).blocks[0]?.[1]).toBe(
      'topic preference excludes promotions: the customer turned off promotions',
    );
    // Topics turned off forbid those only: a message of no topic still goes.
    for (const topics of [{}, { promotions: false }])
      expect(
        consentGuardrail
          .check(
            aMessage({ topic: null }),
            aContext({ profile: aProfile({ preferences: { topics } }) }),
            policy,
          )
          .filter((v) => v.outcome !== 'pass'),
      ).toEqual([]);
    expect(codes({ channels: 5 }).blocks).toEqual([
      [
        'channel_preference',
        'the customer’s channel preference is of a shape Herald cannot read',
        { channels: [] },
      ],
    ]);
  });

  it('holds a cadence Herald does not know to weekly without copying it', () => {
    const { blocks } = judge(
      { preferences: { cadence: `ask ${written} first` } },
      aMessage(),
      now - 3 * DAY_MS,
    );
    expectNoneOf(blocks);
    expect(blocks).toEqual([
      expect.objectContaining({
        code: 'cadence',
        figures: {
          cadence: 'unknown',
          heldTo: 'weekly',
          lastAt: new Date(now - 3 * DAY_MS).toISOString(),
        },
      }),
    ]);
    expect(blocks[0]?.reason).toContain('held to weekly');
    // A cadence Herald knows is named, in its own spelling.
    expect(
      judge({ preferences: { cadence: ' Daily ' } }, aMessage(), now - HOUR_MS).blocks[0]?.figures,
    ).toMatchObject({ cadence: 'daily' });
  });

  it('records where a withdrawal came from only when Herald wrote the source itself', () => {
    const withdrawn = (source: string): ConsentEntry => ({
      granted: false,
      atMs: now - HOUR_MS,
      source,
      explicit: true,
    });
    const fromCustomer = judge({
      consent: {
        email: { marketing: withdrawn(`phoned: ${written}`) },
        sms: { marketing: withdrawn(written) },
      },
    });
    expectNoneOf(fromCustomer);
    expect(fromCustomer.blocks).toEqual([
      expect.objectContaining({
        code: 'unsubscribed',
        figures: expect.objectContaining({ source: 'other' }),
      }),
    ]);
    const topical = judge({
      consent: {
        email: {
          marketing: { granted: true, atMs: now - DAY_MS, source: 'signup-form' },
          promotions: withdrawn(written),
        },
      },
    });
    expectNoneOf(topical);
    expect(topical.blocks).toEqual([
      expect.objectContaining({
        code: 'unsubscribed_topic',
        figures: expect.objectContaining({ source: 'other' }),
      }),
    ]);
    // A receipt by SMS after an opt-out (transactional too).
    const receipt = judge(
      { consent: { sms: { marketing: withdrawn(written) } } },
      aMessage({ channel: 'sms', class: 'transactional', topic: null }),
    );
    expectNoneOf(receipt);
    expect(receipt.blocks).toEqual([
      expect.objectContaining({
        code: 'unsubscribed',
        figures: expect.objectContaining({ source: 'other' }),
      }),
    ]);
    // Herald's own sources are named, in Herald's spelling.
    for (const [source, named] of [
      ['sms-reply', 'sms-reply'],
      ['one-click', 'one-click'],
      ['unsubscribed', 'Unsubscribed'],
      ['Consent Updated', 'Consent Updated'],
    ] as const)
      expect(
        judge({ consent: { email: { marketing: withdrawn(source) } } }).blocks[0]?.figures,
      ).toMatchObject({ source: named });
  });
});
