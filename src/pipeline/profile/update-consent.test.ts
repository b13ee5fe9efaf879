import { describe, expect, it } from 'vitest';
import type { HeraldEvent, JsonObject } from '../../core/event.js';
import { withdrewGrant } from '../../core/profile.js';
import { aProfile, anIdentify, applyAll, aTrack, daysMs, t0 } from './test-builders.js';

/** Dated `days` after t0, plus `ms`, with an id of its own. */
const on = (days: number, id: string, ms = 0) => ({
  timestampMs: t0 + daysMs(days) + ms,
  receivedAtMs: t0 + daysMs(days) + ms,
  messageId: id as HeraldEvent['messageId'],
});

describe('consent restated by two integrations, each under its own source', () => {
  // The website sends its form's source; a CRM sync sends the same flag with none (`identify`).
  const web = (days: number, traits: JsonObject = {}) =>
    anIdentify({ consentSource: 'signup-form', ...traits }, on(days, `w${String(days)}`));
  const crm = (days: number, traits: JsonObject = {}) =>
    anIdentify(traits, on(days, `c${String(days)}`, 1000));

  // GDPR's age of consent and the check that an SMS grant is the current number's both count
  // from `sinceMs`: restated, a grant keeps the time it was first given.
  it('keeps the time of the first grant: four years on, it is a four-year-old grant', () => {
    const grant = { consent: { email: { marketing: true } } };
    const events = [web(0, { country: 'DE', ...grant })];
    for (let day = 1; day <= 4 * 365; day += 1) events.push(web(day, grant), crm(day, grant));
    expect(applyAll(events).consent.email?.['marketing']).toMatchObject({
      granted: true,
      sinceMs: t0,
    });
  });

  it('keeps an SMS grant restated beside a new number as old as it was', () => {
    const sms = (phone: string) => ({ phone, consent: { sms: { marketing: true } } });
    const state = applyAll([
      web(0, sms('+14155550100')),
      crm(0, { consent: { sms: { marketing: true } } }),
      web(10, sms('+14155550199')),
      crm(10, { consent: { sms: { marketing: true } } }),
      web(11, sms('+14155550199')),
    ]);
    expect(state.consent.sms?.['marketing']).toMatchObject({ sinceMs: t0 });
  });

  it('takes an explicit source after an implied one as a new statement (a double opt-in)', () => {
    const state = applyAll([
      anIdentify({ consentSource: 'implied', consent: { email: { marketing: true } } }, on(0, 'a')),
      anIdentify(
        { consentSource: 'double-opt-in', consent: { email: { marketing: true } } },
        on(900, 'b'),
      ),
    ]);
    const held = state.consent.email?.['marketing'];
    expect(held).toMatchObject({ source: 'double-opt-in', atMs: t0 + daysMs(900) });
    expect(held?.sinceMs ?? held?.atMs).toBe(t0 + daysMs(900));
    // An integration resending the old implied grant afterwards restates it, under its source:
    // whether a withdrawal came between cannot be told, so it is taken as implied.
    const restated = applyAll([
      anIdentify({ consentSource: 'implied', consent: { email: { marketing: true } } }, on(0, 'a')),
      anIdentify(
        { consentSource: 'double-opt-in', consent: { email: { marketing: true } } },
        on(900, 'b'),
      ),
      anIdentify(
        { consentSource: 'implied', consent: { email: { marketing: true } } },
        on(901, 'c'),
      ),
    ]).consent.email?.['marketing'];
    expect(restated).toMatchObject({ source: 'implied', sinceMs: t0 + daysMs(900) });
  });

  it('comes to the same source whichever of an opt-in and its implied restatement arrives first', () => {
    const optIn = anIdentify(
      { consentSource: 'double-opt-in', consent: { email: { marketing: true } } },
      on(0, 'doi'),
    );
    const implied = anIdentify(
      { consentSource: 'implied', consent: { email: { marketing: true } } },
      on(5, 'imp'),
    );
    const inOrder = applyAll([optIn, implied]).consent.email?.['marketing'];
    const late = applyAll([implied, { ...optIn, receivedAtMs: t0 + daysMs(6) }]).consent.email?.[
      'marketing'
    ];
    expect(inOrder).toMatchObject({ source: 'implied' });
    expect(late).toMatchObject({ source: 'implied' });
    // And to the same start of the grant: the opt-in's (arriving late, it was taken for a new
    // statement older than the one held, and the start was the implied restatement's).
    expect(late?.sinceMs ?? late?.atMs).toBe(t0);
    expect(inOrder?.sinceMs ?? inOrder?.atMs).toBe(t0);
    // An implied grant arriving after the opt-in that restated it: the opt-in stays new.
    const doubleOptIn = anIdentify(
      { consentSource: 'double-opt-in', consent: { email: { marketing: true } } },
      on(9, 'doi-9'),
    );
    const early = anIdentify(
      { consentSource: 'implied', consent: { email: { marketing: true } } },
      on(1, 'imp-1'),
    );
    for (const events of [
      [early, doubleOptIn],
      [doubleOptIn, { ...early, receivedAtMs: t0 + daysMs(10) }],
    ]) {
      const held = applyAll(events).consent.email?.['marketing'];
      expect(held?.sinceMs ?? held?.atMs).toBe(t0 + daysMs(9));
    }
    // Nor does a late opt-in revive one withdrawn in between.
    const revoked = anIdentify(
      { consentSource: 'crm', consent: { email: { marketing: false } } },
      on(2, 'rev'),
    );
    expect(
      applyAll([revoked, implied, { ...optIn, receivedAtMs: t0 + daysMs(6) }]).consent.email?.[
        'marketing'
      ],
    ).toMatchObject({ granted: true, source: 'implied' });
  });
});

describe('consent written with its words beside the purposes', () => {
  it('reads { email: { granted: false, source } } as the channel’s marketing', () => {
    const state = applyAll([
      anIdentify({ consent: { email: { marketing: true } } }, on(0, 'a')),
      anIdentify({ consent: { email: { granted: false, source: 'crm' } } }, on(1, 'b')),
    ]);
    expect(state.consent.email?.['marketing']).toMatchObject({ granted: false, source: 'crm' });
    expect(state.consent.email).not.toHaveProperty('granted');
  });

  it('takes a source beside the purposes as theirs, and makes no purpose of it', () => {
    const state = applyAll([
      anIdentify({ consent: { email: { marketing: true, source: 'crm' } } }, on(0, 'a')),
    ]);
    expect(state.consent.email?.['marketing']).toMatchObject({ granted: true, source: 'crm' });
    expect(state.consent.email).not.toHaveProperty('source');
  });
});

describe('a grant and a withdrawal stamped alike', () => {
  it('withdraws, whichever arrives last', () => {
    const unsubscribe = aTrack('Unsubscribed', { channel: 'sms' }, on(1, 'u'));
    const grant = aTrack('Consent Updated', { channel: 'sms', granted: true }, on(1, 'g'));
    for (const events of [
      [unsubscribe, grant],
      [grant, unsubscribe],
    ])
      expect(applyAll(events).consent.sms?.['marketing']?.granted).toBe(false);
  });
});

describe('a withdrawal stored before explicit facts were marked', () => {
  // As profiles stored before 2026-12-02 hold an unsubscribe: no `explicit`.
  const storedBefore = (source: string) =>
    aProfile({
      consent: { email: { marketing: { granted: false, atMs: t0 + daysMs(1), source } } },
    });
  const regrant = anIdentify({ consent: { email: { marketing: true } } }, on(2, 'later'));

  it.each(['Unsubscribed', 'Consent Updated', 'Email Marked as Spam', 'sms-reply', 'one-click'])(
    'stands when traits grant again after an upgrade (%s)',
    (source) => {
      const state = applyAll([regrant], undefined, storedBefore(source));
      expect(state.consent.email?.['marketing']).toMatchObject({ granted: false, source });
    },
  );

  it('is still undone by traits when traits withdrew it', () => {
    const state = applyAll([regrant], undefined, storedBefore('identify'));
    expect(state.consent.email?.['marketing']).toMatchObject({ granted: true, source: 'identify' });
  });
});

describe('what a withdrawal withdrew', () => {
  const stop = aTrack('Unsubscribed', { channel: 'sms' }, on(2, 'stop'));
  const sms = (granted: boolean, days: number, id: string) =>
    anIdentify({ consent: { sms: { marketing: granted } } }, on(days, id));
  const granted = aTrack('Consent Updated', { channel: 'sms', granted: true }, on(0, 'grant'));

  it('keeps the newest fact dated before it, whichever order they arrive in', () => {
    const facts = [granted, sms(false, 1, 'declined'), stop, sms(true, 3, 'resent')];
    for (const order of [facts, [...facts].reverse(), [stop, granted, facts[3], facts[1]]])
      expect(applyAll(order as HeraldEvent[]).consent.sms?.['marketing']).toMatchObject({
        granted: false,
        source: 'Unsubscribed',
        before: { granted: false, atMs: t0 + daysMs(1) },
      });
    expect(applyAll([granted, stop]).consent.sms?.['marketing']?.before).toEqual({
      granted: true,
      atMs: t0,
    });
    // Nothing before it: a STOP from someone who never granted texts withdrew no grant.
    expect(applyAll([stop]).consent.sms?.['marketing']?.before).toBeUndefined();
  });

  it('says the same of what a START may give back in any order, a later form deciding', () => {
    // Only the latest traits fact is kept: one stated after the STOP that arrived before it
    // replaced the earlier one, which the STOP's `before` then missed.
    const at = (days: number, arrivedDays: number, id: string) => ({
      ...on(days, id),
      receivedAtMs: t0 + daysMs(arrivedDays),
    });
    const lateStop = aTrack('Unsubscribed', { channel: 'sms' }, at(1, 3, 'late-stop'));
    const form = (granted: boolean, days: number, id: string) =>
      anIdentify({ consent: { sms: { marketing: granted } } }, at(days, days, id));
    for (const [first, later, gives] of [
      [form(true, 0, 'g0'), form(false, 2, 'd2'), false],
      [form(false, 0, 'd0'), form(true, 2, 'g2'), true],
    ] as const) {
      const inTimeOrder = applyAll([first, lateStop, later]).consent.sms?.['marketing'];
      const asArrived = applyAll([first, later, lateStop]).consent.sms?.['marketing'];
      if (inTimeOrder === undefined || asArrived === undefined) throw new Error('no consent');
      expect(withdrewGrant(inTimeOrder)).toBe(gives);
      expect(withdrewGrant(asArrived)).toBe(gives);
    }
  });

  it('takes what an earlier withdrawal withdrew, in any order: a STOP texted twice', () => {
    const again = aTrack('Unsubscribed', { channel: 'sms' }, on(4, 'stop-again'));
    const switched = aTrack(
      'Consent Updated',
      { channel: 'sms', granted: false, source: 'preference-centre' },
      on(3, 'switch'),
    );
    const facts = [granted, stop, switched, again];
    const orders = [
      facts,
      [...facts].reverse(),
      [again, granted, stop, switched],
      [stop, again, switched, granted],
    ];
    for (const order of orders)
      expect(applyAll(order).consent.sms?.['marketing']).toMatchObject({
        granted: false,
        source: 'Unsubscribed',
        before: { granted: true, atMs: t0 },
      });
    // What traits said between them is what the second withdrew: the customer declined.
    for (const order of [
      [granted, stop, sms(false, 3, 'declined-after'), again],
      [again, sms(false, 3, 'declined-after'), stop, granted],
    ])
      expect(applyAll(order).consent.sms?.['marketing']?.before).toEqual({
        granted: false,
        atMs: t0 + daysMs(3),
      });
    // An unsubscribe from every channel is no opt-out START undoes: nothing before it is taken.
    const everywhere = aTrack('Unsubscribed', { channel: 'all' }, on(3, 'all'));
    expect(applyAll([granted, everywhere, again]).consent.sms?.['marketing']?.before).toEqual({
      granted: false,
      atMs: t0 + daysMs(3),
    });
  });
});
