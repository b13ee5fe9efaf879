import { describe, expect, it } from 'vitest';
import type { HeraldEvent, JsonObject } from '../core/event.js';
import { toMessageId } from '../core/ids.js';
import { DAY_MS } from '../core/time.js';
import { chooseChannels } from './decide/agents/choose-channels.js';
import { consentGuardrail } from './guard/guardrails/consent.js';
import {
  aContext,
  aMessage,
  aProfile,
  defaultGuardPolicy,
  notPassing,
} from './guard/test-builders.js';
import { aTrack, anIdentify, applyAll, t0 as profileT0 } from './profile/test-builders.js';

// Consent to texts, from the events that make a profile to the guardrail and the channel choice.
const policy = defaultGuardPolicy();

describe('consent to texts is the number’s', () => {
  const day = (n: number) => profileT0 + n * DAY_MS;
  const identify = (traits: JsonObject, n: number) =>
    anIdentify(traits, { timestampMs: day(n), messageId: toMessageId(`id-${String(n)}`) });
  const optIn = (channel: string, n: number, source = 'web-form', purpose = 'marketing') =>
    aTrack(
      'Consent Updated',
      { channel, purpose, granted: true, source },
      { timestampMs: day(n), messageId: toMessageId(`opt-${channel}-${String(n)}`) },
    );
  /** The consent guardrail's blocks for a message on `channel` to the profile the events build. */
  const blocks = (
    channel: 'sms' | 'whatsapp',
    events: HeraldEvent[],
    cls: 'marketing' | 'transactional' = 'marketing',
  ) =>
    notPassing(
      consentGuardrail.check(
        aMessage({ channel, ...(cls === 'marketing' ? {} : { class: cls, topic: null }) }),
        aContext({ profile: { ...applyAll(events), location: aProfile().location } }),
        policy,
      ),
    );
  const grantedByTraits = { sms: { marketing: true }, whatsapp: { marketing: true } };

  it('takes no implied grant for the new number’s opt-in, beside a restated old one', () => {
    for (const channel of ['sms', 'whatsapp'] as const) {
      // Opted in with the number before; the CRM restates it beside the new number, an import
      // marks every phone (implied), and the CRM restates it again, in force over the import.
      const events = [
        identify({ phone: '+14155550101', consent: { [channel]: { marketing: true } } }, 0),
        identify({ phone: '+14155550202', consent: { [channel]: { marketing: true } } }, 1),
        optIn(channel, 2, 'import:implied'),
        identify({ phone: '+14155550202', consent: { [channel]: { marketing: true } } }, 3),
      ];
      expect(blocks(channel, events)).toEqual(['block:no_consent']);
      const state = applyAll(events);
      expect(
        chooseChannels(state, [channel], {
          emailBounceLimit: 3,
          impliedConsentSources: policy.gdpr.impliedSources,
        }).channels,
      ).toEqual([]);
    }
  });

  it('does not carry an opt-in to a new number, whatever order the events arrive in', () => {
    for (const channel of ['sms', 'whatsapp'] as const) {
      const events = [identify({ phone: '+1 415 555 0100' }, 0), optIn(channel, 1)];
      expect(blocks(channel, events)).toEqual([]);
      // The same number written another way is no change.
      expect(blocks(channel, [...events, identify({ phone: '+14155550100' }, 2)])).toEqual([]);
      const moved = [...events, identify({ phone: '+1 415 555 0199' }, 2)];
      expect(blocks(channel, moved)).toEqual(['block:no_consent']);
      expect(blocks(channel, [...moved].reverse())).toEqual(['block:no_consent']);
      // A number cleared and another given later is a change too.
      const cleared = [
        ...events,
        identify({ phone: null }, 2),
        identify({ phone: '+14155550199' }, 3),
      ];
      expect(blocks(channel, cleared)).toEqual(['block:no_consent']);
      // The new number's own opt-in reaches it.
      expect(blocks(channel, [...moved, optIn(channel, 3)])).toEqual([]);
      expect(blocks(channel, [optIn(channel, 3), ...moved])).toEqual([]);
    }
  });

  it('takes an opt-in given before any number, or with the new one, as the number’s', () => {
    expect(blocks('sms', [optIn('sms', 0), identify({ phone: '+14155550100' }, 1)])).toEqual([]);
    const withNumber = [
      identify({ phone: '+14155550100' }, 0),
      identify({ phone: '+14155550199', consent: grantedByTraits }, 2),
    ];
    expect(blocks('sms', withNumber)).toEqual([]);
    expect(blocks('sms', [...withNumber].reverse())).toEqual([]);
  });

  it('takes a flag restated beside the new number for the old one’s', () => {
    // A CRM's nightly sync sends every trait: the flag it has held since day 0 is no new opt-in.
    const synced = [
      identify({ phone: '+14155550100', consent: grantedByTraits }, 0),
      identify({ phone: '+14155550199', consent: grantedByTraits }, 2),
    ];
    expect(blocks('sms', synced)).toEqual(['block:no_consent']);
    const [verdict] = consentGuardrail.check(
      aMessage({ channel: 'sms' }),
      aContext({ profile: applyAll(synced) }),
      policy,
    );
    expect(verdict).toMatchObject({
      reason:
        "the sms marketing consent was given for the customer's number before; the number changed since and has not opted in",
      figures: {
        consentAt: new Date(day(0)).toISOString(),
        numberChangedAt: new Date(day(2)).toISOString(),
      },
    });
  });

  it('asks a WhatsApp receipt for the new number’s own opt-in; an SMS receipt for none', () => {
    const moved = [
      identify({ phone: '+14155550100' }, 0),
      optIn('whatsapp', 1, 'web-form', 'transactional'),
      optIn('sms', 1, 'web-form', 'transactional'),
      identify({ phone: '+14155550199' }, 2),
    ];
    expect(blocks('whatsapp', moved, 'transactional')).toEqual(['block:no_consent']);
    expect(blocks('sms', moved, 'transactional')).toEqual([]);
    expect(
      blocks(
        'whatsapp',
        [...moved, optIn('whatsapp', 3, 'web-form', 'transactional')],
        'transactional',
      ),
    ).toEqual([]);
  });
});

describe('the channel choice after a number changed', () => {
  it('offers email instead of a text the guard would refuse, until the new number opts in', () => {
    const day = (n: number) => profileT0 + n * DAY_MS;
    const limits = { emailBounceLimit: 3, impliedConsentSources: ['implied'] };
    const events = [
      anIdentify({ phone: '+14155550100', email: 'ada@example.com' }, { timestampMs: day(0) }),
      aTrack(
        'Consent Updated',
        { channel: 'sms', purpose: 'marketing', granted: true, source: 'web-form' },
        { timestampMs: day(1) },
      ),
    ];
    expect(chooseChannels(applyAll(events), ['sms', 'email'], limits).channels).toEqual([
      'sms',
      'email',
    ]);
    const moved = [
      ...events,
      anIdentify({ phone: '+14155550199' }, { timestampMs: day(2), messageId: toMessageId('m2') }),
    ];
    const choice = chooseChannels(applyAll(moved), ['sms', 'email'], limits);
    expect(choice.channels).toEqual(['email']);
    expect(choice.reasons).toContain('sms: the opt-in was for the number before');
  });
});

describe('when the number changed, whatever order the identifies arrive in', () => {
  const H = 3_600_000;
  const named = (phone: string | null, hour: number) =>
    anIdentify(
      { phone },
      { timestampMs: profileT0 + hour * H, messageId: toMessageId(`p-${String(hour)}`) },
    );
  const orders = <T>(items: readonly T[]): T[][] =>
    items.length <= 1
      ? [items.slice()]
      : items.flatMap((item, i) =>
          orders([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
        );
  const changedAt = (events: HeraldEvent[]) => applyAll(events).phoneChangedAtMs;

  it.each([
    [
      'a number cleared, then another',
      [named('+14155550001', 1), named(null, 2), named('+14155550002', 3)],
    ],
    [
      'a number, another, the first again',
      [named('+14155550001', 1), named('+14155550002', 2), named('+14155550001', 3)],
    ],
    [
      'a number named twice, then another',
      [named('+14155550001', 1), named('+14155550001', 2), named('+14155550002', 3)],
    ],
    [
      'one number throughout, cleared between',
      [named('+14155550001', 1), named(null, 2), named('+1 415 555 0001', 3)],
    ],
  ])('agrees with the events in time order: %s', (_, inTimeOrder) => {
    const expected = changedAt(inTimeOrder);
    for (const arrival of orders(inTimeOrder)) expect(changedAt(arrival)).toBe(expected);
  });

  it('dates a change no earlier than time order does when an older number arrives inside a run', () => {
    const inTimeOrder = [
      named('+14155550001', 1),
      named('+14155550002', 2),
      named('+14155550001', 3),
      named('+14155550001', 5),
    ];
    const expected = changedAt(inTimeOrder) ?? 0;
    for (const arrival of orders(inTimeOrder))
      expect(changedAt(arrival) ?? 0).toBeGreaterThanOrEqual(expected);
  });
});
